// The key logs a run with --pcap writes beside its captures (pcap/), in both
// worlds, so a capture's reader opens what was sealed in it:
// analysis/wireshark/punchlab.lua reads them (-o punchlab_disco.keylog:PATH,
// -o punchlab_control.keylog:PATH). One line per sealed message,
// "<nonce hex> <message hex>": the message as sealed (a disco message as
// disco::EncodeMessage makes it; a control message as its JSON). The
// simulation writes them after the run; in the real lab every punchlab-node
// process appends to them as it seals (realio/key-log-file.h), beside the
// DERP servers' TLS key log (tls-keys.log, NSS's format).
#pragma once

#include <string>

#include "punchlab/bytes.h"

namespace punchlab {
namespace results {

// Every disco message the nodes sent (only with the scenario's disco_log:
// the sent messages are its events).
constexpr const char* kDiscoKeyLogFile = "disco-keys.log";
// Every control frame the control server and the nodes sealed (all but the
// node's hello).
constexpr const char* kControlKeyLogFile = "control-keys.log";
// The real lab's DERP servers' TLS sessions (SSLKEYLOGFILE's format).
constexpr const char* kTlsKeyLogFile = "tls-keys.log";

// A line of the disco or control key log, without the newline.
std::string KeyLogLine(ByteView nonce, ByteView message);

}  // namespace results
}  // namespace punchlab
