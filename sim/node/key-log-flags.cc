#include "node/key-log-flags.h"

#include <string>
#include <variant>

#include "cli-common/flags.h"
#include "results/disco-step.h"
#include "results/key-log.h"

namespace punchlab::cli {

namespace po = boost::program_options;

void AddControlKeyLogOption(po::options_description& options) {
  options.add_options()
      ("control-keylog", po::value<std::string>()->value_name("FILE"),
       "append every control frame this process seals to FILE, as \"<nonce hex> <message "
       "hex>\" lines, so Wireshark can open them (analysis/wireshark/punchlab.lua); labs and "
       "tests only");
}

control::KeyLog ControlKeyLogFromFlags(const po::variables_map& vm) {
  if (!vm.count("control-keylog")) return {};
  auto file = std::make_shared<realio::KeyLogFile>(vm["control-keylog"].as<std::string>());
  return [file](ByteView nonce, ByteView message) {
    file->Append(results::KeyLogLine(nonce, message));
  };
}

void AddDiscoKeyLogOption(po::options_description& options) {
  options.add_options()
      ("disco-keylog", po::value<std::string>()->value_name("FILE"),
       "with --disco-log: append every disco message this node sends to FILE, as \"<nonce "
       "hex> <message hex>\" lines, so Wireshark can open them; labs and tests only");
}

std::unique_ptr<realio::KeyLogFile> DiscoKeyLogFromFlags(const po::variables_map& vm) {
  if (!vm.count("disco-keylog")) return nullptr;
  if (!vm["disco-log"].as<bool>()) {
    throw UsageError("--disco-keylog: needs --disco-log (the messages it logs are its events)");
  }
  return std::make_unique<realio::KeyLogFile>(vm["disco-keylog"].as<std::string>());
}

void LogDiscoKey(const realio::KeyLogFile* file, const node::EventBody& body) {
  if (file == nullptr) return;
  const auto* sent = std::get_if<node::DiscoSent>(&body);
  if (sent == nullptr) return;
  const std::string line = results::DiscoKeyLogLine(*sent);
  if (!line.empty()) file->Append(line);
}

}  // namespace punchlab::cli
