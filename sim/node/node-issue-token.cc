// punchlab-node issue-token: the identity provider of a real lab. Signs a
// pltoken1 token (protocol/include/punchlab/control/identity.h) that vouches
// for a user of a domain, registering the node with key --node-key, until
// now + --valid-for. The node's key must therefore exist before its token:
// make it with `gen-key --kind node` and hand the node its private half.
//
// Time convention on real sockets: `expires` is nanoseconds since the Unix
// epoch, and `punchlab-node control-server` runs its ControlServer on the
// same clock (realio/wall-clock.h), so a token issued on one host is judged
// by another's wall clock, as OAuth tokens are. (In simulation both are the
// simulated clock.)
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/node-keys.h"
#include "punchlab/control/identity.h"
#include "realio/wall-clock.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

// A token for longer than a year is a typo.
constexpr DurationRange kValidFor{false, Duration::Seconds(366 * 86400), true};

CommandSpec Spec() {
  CommandSpec spec{
      "issue-token",
      "issue-token --idp-private-key idpprivkey:HEX --user USER --domain DOMAIN\n"
      "            --node-key nodekey:HEX [options]",
      "Prints an identity token (pltoken1....) signed by the identity provider's key,\n"
      "for `punchlab-node control-server --idp-key <its idpkey:>` to accept from\n"
      "the node with key --node-key registering as USER in DOMAIN (any other node\n"
      "presenting it is refused). The token expires --valid-for after\n"
      "now; expiry is Unix time (nanoseconds since 1970 UTC), the clock the\n"
      "control server judges it by.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("idp-private-key", po::value<std::string>()->required()->value_name("idpprivkey:HEX"),
       "the identity provider's signing key (from 'gen-key --kind idp')")
      ("user", po::value<std::string>()->required()->value_name("USER"),
       "1-64 of A-Z a-z 0-9 . _ @ + -")
      ("domain", po::value<std::string>()->required()->value_name("DOMAIN"),
       "1-253 of a-z 0-9 . -")
      ("node-key", po::value<std::string>()->required()->value_name("nodekey:HEX"),
       "the public key of the one node the token is for (from 'gen-key --kind node')")
      ("valid-for", po::value<std::string>()->default_value("24h")->value_name("DURATION"),
       "a duration (e.g. 90s, 30m, 1h, 168h) or a bare number of seconds")
      ("json", po::bool_switch(), "print the token and its claims as one JSON object");
  return spec;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  SigningKey key = ParseSigningKeyFlag("--idp-private-key", vm["idp-private-key"].as<std::string>());
  control::IdentityClaims claims;
  claims.user = vm["user"].as<std::string>();
  claims.domain = vm["domain"].as<std::string>();
  if (!control::IsValidUser(claims.user)) {
    throw UsageError("--user: '" + claims.user + "' is not a user name (1-64 of A-Z a-z 0-9 . _ @ + -)");
  }
  if (!control::IsValidDomain(claims.domain)) {
    throw UsageError("--domain: '" + claims.domain +
                     "' is not a domain (1-253 of lowercase a-z, 0-9, '.' and '-')");
  }
  const std::optional<NodePublicKey> node_key =
      NodePublicKey::Parse(vm["node-key"].as<std::string>());
  if (!node_key || node_key->IsZero()) {
    throw UsageError("--node-key: not a node public key (write nodekey:<64 hex>)");
  }
  claims.node_key = *node_key;
  claims.expires = realio::UnixNow() +
                   ParseDurationFlag("--valid-for", vm["valid-for"].as<std::string>(), kValidFor);

  const control::IdentityProvider idp(std::move(key));
  const std::optional<std::string> token = idp.Issue(claims);
  if (!token) throw std::runtime_error("the identity provider refused the claims");
  if (vm["json"].as<bool>()) {
    std::cout << nlohmann::json{{"token", *token},
                                {"user", claims.user},
                                {"domain", claims.domain},
                                {"node_key", claims.node_key.ToString()},
                                {"expires_unix_ns", claims.expires.nanos()},
                                {"issuer", idp.verify_key().ToString()}}
                     .dump()
              << "\n";
  } else {
    std::cout << *token << "\n";
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "issue-token", "sign an identity token for control-server (a lab's identity provider)", Run);

}  // namespace
}  // namespace punchlab::cli
