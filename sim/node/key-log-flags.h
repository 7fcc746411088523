// --control-keylog FILE (control-server and node) and --disco-keylog FILE
// (node): what this process seals, appended to FILE as "<nonce hex>
// <message hex>" lines (sim/results/key-log.h, the simulation's format), so
// the dissector (analysis/wireshark/punchlab.lua) opens the sealed control
// frames and disco packets of a capture. Several processes may share a file
// (realio/key-log-file.h). The real runner gives them for --pcap runs.
#pragma once

#include <boost/program_options.hpp>

#include <memory>

#include "punchlab/control/key-log.h"
#include "punchlab/node/events.h"
#include "realio/key-log-file.h"

namespace punchlab::cli {

void AddControlKeyLogOption(boost::program_options::options_description& options);
// Appends every control frame sealed to --control-keylog's file; empty
// without the flag. Throws std::runtime_error when the file cannot be opened.
control::KeyLog ControlKeyLogFromFlags(const boost::program_options::variables_map& vm);

void AddDiscoKeyLogOption(boost::program_options::options_description& options);
// --disco-keylog's file; null without the flag. It needs --disco-log (the
// sent messages are its events): UsageError without. Throws
// std::runtime_error when the file cannot be opened.
std::unique_ptr<realio::KeyLogFile> DiscoKeyLogFromFlags(
    const boost::program_options::variables_map& vm);
// Appends the line of a sent disco message (results::DiscoKeyLogLine), if
// `body` is one and `file` is set.
void LogDiscoKey(const realio::KeyLogFile* file, const node::EventBody& body);

}  // namespace punchlab::cli
