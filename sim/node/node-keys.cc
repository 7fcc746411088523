#include "node/node-keys.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cli-common/flags.h"

namespace punchlab::cli {

namespace po = boost::program_options;

namespace {

NodePrivateKey ParseNodeKey(const std::string& flag, const std::string& text) {
  if (auto key = NodePrivateKey::Parse(text)) return std::move(*key);
  throw UsageError(flag +
                   ": not a private node key (write privkey: and 64 lowercase hex digits, "
                   "e.g. from 'punchlab-node gen-key --kind node')");
}

// The one "privkey:" word in the file: gen-key's output (private key, then
// public key) is accepted as it is.
NodePrivateKey ReadKeyFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    throw UsageError("--key-file: cannot read '" + path + "': " + std::strerror(errno));
  }
  std::string word;
  std::string found;
  while (file >> word) {
    if (word.rfind(NodeKeyRole::kPrivatePrefix, 0) != 0) continue;
    if (!found.empty()) throw UsageError("--key-file: '" + path + "' holds more than one privkey:");
    found = word;
  }
  if (found.empty()) throw UsageError("--key-file: '" + path + "' holds no privkey: line");
  return ParseNodeKey("--key-file", found);
}

}  // namespace

void AddNodeKeyOptions(po::options_description& options) {
  options.add_options()
      ("private-key", po::value<std::string>()->value_name("privkey:HEX"),
       "this server's node key (default: a fresh one for this run)")
      ("key-file", po::value<std::string>()->value_name("PATH"),
       "read the node key from a file (the privkey: line of 'gen-key --kind node')");
}

NodePrivateKey NodeKeyFromFlags(const po::variables_map& vm, RandomSource& rng) {
  if (vm.count("private-key") && vm.count("key-file")) {
    throw UsageError("--private-key and --key-file: give at most one of them");
  }
  if (vm.count("private-key")) return ParseNodeKey("--private-key", vm["private-key"].as<std::string>());
  if (vm.count("key-file")) return ReadKeyFile(vm["key-file"].as<std::string>());
  return NodePrivateKey::Generate(rng);
}

VerifyKey ParseVerifyKeyFlag(const std::string& flag, const std::string& text) {
  if (auto key = VerifyKey::Parse(text)) return *key;
  throw UsageError(flag + ": not an identity provider key (write idpkey: and 64 lowercase hex "
                          "digits, e.g. from 'punchlab-node gen-key --kind idp')");
}

SigningKey ParseSigningKeyFlag(const std::string& flag, const std::string& text) {
  if (auto key = SigningKey::Parse(text)) return std::move(*key);
  throw UsageError(flag + ": not an identity provider private key (write idpprivkey: and 64 "
                          "lowercase hex digits, e.g. from 'punchlab-node gen-key --kind idp')");
}

}  // namespace punchlab::cli
