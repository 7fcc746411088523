#include "punchlab/control/identity.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "punchlab/json.h"

namespace punchlab::control {
namespace {

constexpr char kTokenPrefix[] = "pltoken1.";
// Bounds the work a hostile token can cause before any signature check.
constexpr size_t kMaxTokenSize = 2048;
// Signed ahead of the claims so an identity provider's signature over some
// other kind of message can never pass as a token.
const std::string kSignatureContext = "punchlab identity token v1\n";
constexpr int kB64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

Bytes SignedMessage(ByteView claims) {
  Bytes msg;
  msg.reserve(kSignatureContext.size() + claims.size());
  ByteWriter w(msg);
  w.Append(ByteView(reinterpret_cast<const uint8_t*>(kSignatureContext.data()),
                    kSignatureContext.size()));
  w.Append(claims);
  return msg;
}

std::string ToBase64(ByteView bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kB64), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kB64);
  out.resize(out.size() - 1);  // the encoder's terminating NUL
  return out;
}

// Strict: only the URL-safe alphabet, no padding, no whitespace, and
// (libsodium checks this) zero bits where the last character has spare ones.
std::optional<Bytes> FromBase64(const std::string& text) {
  Bytes out(text.size() * 3 / 4 + 1);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        kB64) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

bool AllOf(const std::string& s, size_t max_len, bool (*ok)(char)) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

bool IsValidUser(const std::string& user) {
  return AllOf(user, 64, [](char c) {
    return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '@' ||
           c == '+' || c == '-';
  });
}

bool IsValidDomain(const std::string& domain) {
  return AllOf(domain, 253, [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; });
}

std::optional<std::string> IdentityProvider::Issue(const IdentityClaims& claims) const {
  if (!IsValidUser(claims.user) || !IsValidDomain(claims.domain) || claims.node_key.IsZero()) {
    return std::nullopt;
  }
  const nlohmann::json j = {{"user", claims.user},
                            {"domain", claims.domain},
                            {"node_key", claims.node_key.ToString()},
                            {"expires", claims.expires.nanos()}};
  const std::string text = j.dump();
  const Bytes payload(text.begin(), text.end());
  const Signature sig = key_.Sign(SignedMessage(payload));
  return kTokenPrefix + ToBase64(payload) + "." + ToBase64(ByteView(sig.data(), sig.size()));
}

std::optional<ParsedToken> ParseToken(const std::string& text, std::string& error) {
  const std::string prefix = kTokenPrefix;
  if (text.size() > kMaxTokenSize) {
    error = "token is longer than " + std::to_string(kMaxTokenSize) + " characters";
    return std::nullopt;
  }
  if (text.compare(0, prefix.size(), prefix) != 0) {
    error = "token does not start with \"" + prefix + "\"";
    return std::nullopt;
  }
  const size_t dot = text.find('.', prefix.size());
  if (dot == std::string::npos) {
    error = "token has no signature part";
    return std::nullopt;
  }
  auto claims_bytes = FromBase64(text.substr(prefix.size(), dot - prefix.size()));
  auto sig_bytes = FromBase64(text.substr(dot + 1));
  if (!claims_bytes || !sig_bytes) {
    error = "token is not valid base64url";
    return std::nullopt;
  }
  if (sig_bytes->size() != kSignatureSize) {
    error = "token signature is not " + std::to_string(kSignatureSize) + " bytes";
    return std::nullopt;
  }
  const auto j = ParseJson(*claims_bytes);
  const auto user = j.is_object() ? j.find("user") : j.end();
  const auto domain = j.is_object() ? j.find("domain") : j.end();
  const auto node_key = j.is_object() ? j.find("node_key") : j.end();
  const auto expires = j.is_object() ? j.find("expires") : j.end();
  if (!j.is_object() || j.size() != 4 || user == j.end() || domain == j.end() ||
      node_key == j.end() || expires == j.end()) {
    error = "token claims must be an object with exactly user, domain, node_key and expires";
    return std::nullopt;
  }
  if (j.dump() != std::string(claims_bytes->begin(), claims_bytes->end())) {
    error = "token claims are not in canonical form (compact, keys sorted)";
    return std::nullopt;
  }
  if (!user->is_string() || !IsValidUser(user->get<std::string>())) {
    error = "token user is not a valid user name";
    return std::nullopt;
  }
  if (!domain->is_string() || !IsValidDomain(domain->get<std::string>())) {
    error = "token domain is not a valid domain name";
    return std::nullopt;
  }
  const std::optional<NodePublicKey> key =
      node_key->is_string() ? NodePublicKey::Parse(node_key->get<std::string>()) : std::nullopt;
  // Signed claims have one spelling: the key as ToString() writes it
  // (lowercase), though key text elsewhere parses in either case.
  if (!key || key->IsZero() || key->ToString() != node_key->get<std::string>()) {
    error = "token node_key is not a node public key (nodekey:<64 lowercase hex>)";
    return std::nullopt;
  }
  const bool fits = expires->is_number_integer() &&
                    (!expires->is_number_unsigned() ||
                     expires->get<uint64_t>() <=
                         static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!fits) {
    error = "token expires is not an integer number of nanoseconds";
    return std::nullopt;
  }
  ParsedToken t;
  t.claims.user = user->get<std::string>();
  t.claims.domain = domain->get<std::string>();
  t.claims.node_key = *key;
  t.claims.expires = Timestamp::FromNanos(expires->get<int64_t>());
  t.signed_claims = std::move(*claims_bytes);
  std::copy(sig_bytes->begin(), sig_bytes->end(), t.signature.begin());
  return t;
}

std::optional<IdentityClaims> TokenVerifier::Verify(const std::string& token,
                                                    const NodePublicKey& node_key, Timestamp now,
                                                    std::string& error) const {
  std::string parse_error;
  auto parsed = ParseToken(token, parse_error);
  if (!parsed) {
    error = "malformed identity token: " + parse_error;
    return std::nullopt;
  }
  const IdentityClaims& c = parsed->claims;
  const Bytes message = SignedMessage(parsed->signed_claims);
  const ByteView sig(parsed->signature.data(), parsed->signature.size());
  // An unknown domain and a bad signature get the same answer, so a stranger
  // cannot learn from refusals which domains this server serves.
  bool signed_by_trusted = false;
  for (const TrustedIssuer& issuer : issuers_) {
    bool covers = false;
    for (const std::string& d : issuer.domains) covers = covers || d == c.domain;
    if (covers && issuer.key.Verify(message, sig)) {
      signed_by_trusted = true;
      break;
    }
  }
  if (!signed_by_trusted) {
    error = "identity token for " + c.user + "@" + c.domain +
            " is not signed by an identity provider trusted for domain \"" + c.domain + "\"";
    return std::nullopt;
  }
  // Checked after the signature, so the key named here is one the provider
  // really vouched for.
  if (c.node_key != node_key) {
    error = "token was issued for " + c.node_key.ToString() + ", not for this node (" +
            node_key.ToString() + "; token of " + c.user + "@" + c.domain + ")";
    return std::nullopt;
  }
  if (now >= c.expires) {
    error = "identity token for " + c.user + "@" + c.domain + " expired at " +
            Duration::Nanos(c.expires.nanos()).ToString() + " (server time now " +
            Duration::Nanos(now.nanos()).ToString() + ")";
    return std::nullopt;
  }
  return c;
}

}  // namespace punchlab::control
