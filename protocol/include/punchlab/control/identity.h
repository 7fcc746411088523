// A modeled identity provider (the OAuth2/OIDC login of the real system): it
// vouches that a user of a domain may register one node (named by its node
// public key) until an expiry, by signing a token with Ed25519. The coordination server trusts a configured
// set of providers, each for the domains it names, and refuses anything else.
//
// Token text (one shell word, safe on a command line):
//   "pltoken1." base64url(claims JSON) "." base64url(signature)
// base64url without padding. The claims JSON is an object with exactly the
// keys user, domain, node_key and expires, e.g.
//   {"domain":"example.com","expires":<ns>,"node_key":"nodekey:<64 hex>","user":"alice"}
// where expires is an instant on the coordination server's clock (the
// Timestamp it is handed as `now`). The node key binds the token to one node:
// a token copied off one host is useless to any other key, because the
// server only accepts it on a session that proved it holds that key. The signature covers a context string and
// the claims bytes exactly as transmitted, so no JSON canonicalisation is
// involved. Parsing is strict: one spelling per token.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/crypto/keys.h"
#include "punchlab/crypto/sign.h"
#include "punchlab/time.h"

namespace punchlab::control {

struct IdentityClaims {
  std::string user;
  std::string domain;
  NodePublicKey node_key;  // the only node that may register with the token
  Timestamp expires;

  bool operator==(const IdentityClaims& o) const {
    return user == o.user && domain == o.domain && node_key == o.node_key &&
           expires == o.expires;
  }
};

// user: 1..64 of [A-Za-z0-9._@+-]. domain: 1..253 of [a-z0-9.-].
bool IsValidUser(const std::string& user);
bool IsValidDomain(const std::string& domain);

class IdentityProvider {
 public:
  explicit IdentityProvider(SigningKey key) : key_(std::move(key)) {}

  const VerifyKey& verify_key() const { return key_.Public(); }
  // nullopt when the user or domain is not valid (see IsValidUser/Domain)
  // or the node key is unset (all zeros).
  std::optional<std::string> Issue(const IdentityClaims& claims) const;

 private:
  SigningKey key_;
};

// A token split into its parts, format checked, signature not yet checked.
struct ParsedToken {
  IdentityClaims claims;
  Bytes signed_claims;  // the claims JSON bytes the signature covers
  Signature signature{};
};

// nullopt with `error` set on any deviation from the token format.
std::optional<ParsedToken> ParseToken(const std::string& text, std::string& error);

// A provider the server trusts, and the domains it may vouch for.
struct TrustedIssuer {
  VerifyKey key;
  std::vector<std::string> domains;
};

class TokenVerifier {
 public:
  explicit TokenVerifier(std::vector<TrustedIssuer> issuers) : issuers_(std::move(issuers)) {}

  // The claims of a well-formed token, signed by a provider trusted for the
  // token's domain, issued for `node_key` (the key the registering session
  // proved it holds) and not expired at `now`; otherwise nullopt and `error`
  // says which of these failed, in words meant for the person registering.
  std::optional<IdentityClaims> Verify(const std::string& token, const NodePublicKey& node_key,
                                       Timestamp now, std::string& error) const;

 private:
  std::vector<TrustedIssuer> issuers_;
};

}  // namespace punchlab::control
