// punchlab-node gen-key: prints a fresh key pair, so a real lab can be
// scripted: node keys for DERP and coordination servers, identity provider
// keys for issue-token and control-server --idp-key.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/crypto/sign.h"
#include "realio/os-random.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "gen-key", "gen-key --kind node|idp [--json]",
      "Prints a fresh key pair from the OS random source: the private key on the\n"
      "first line, the public key on the second.\n"
      "  node  privkey:/nodekey: a DERP or coordination server's (or a node's) key;\n"
      "        the file this prints is what --key-file reads.\n"
      "  idp   idpprivkey:/idpkey: an identity provider's Ed25519 key: issue-token\n"
      "        signs with the private one, control-server --idp-key trusts the public one.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("kind", po::value<std::string>()->required()->value_name("node|idp"), "which key pair")
      ("json", po::bool_switch(), "print {\"private\": ..., \"public\": ...} instead");
  return spec;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  const std::string kind = vm["kind"].as<std::string>();
  realio::OsRandom rng;
  std::string secret;
  std::string public_text;
  if (kind == "node") {
    const NodePrivateKey key = NodePrivateKey::Generate(rng);
    secret = key.ToSecretString();
    public_text = key.Public().ToString();
  } else if (kind == "idp") {
    const SigningKey key = SigningKey::Generate(rng);
    secret = key.ToSecretString();
    public_text = key.Public().ToString();
  } else {
    throw UsageError("--kind: '" + kind + "' is not a key kind (write node or idp)");
  }
  if (vm["json"].as<bool>()) {
    std::cout << nlohmann::json{{"private", secret}, {"public", public_text}}.dump() << "\n";
  } else {
    std::cout << secret << "\n" << public_text << "\n";
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "gen-key", "print a fresh node or identity provider key pair", Run);

}  // namespace
}  // namespace punchlab::cli
