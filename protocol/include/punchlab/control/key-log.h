// The control plane's key log, for a reader of captures. After the hello
// every control frame is sealed with the session's key (nonce || box, see
// crypto/box.h), so a capture shows only sizes. A machine given a KeyLog
// calls it for every frame it seals with the frame's nonce and the message
// as sealed (UTF-8 JSON); the simulation writes these as
// pcap/control-keys.log, which analysis/wireshark/punchlab.lua reads to show
// each message. Empty (the default): nothing is logged and nothing is paid.
#pragma once

#include <functional>

#include "punchlab/bytes.h"

namespace punchlab::control {

using KeyLog = std::function<void(ByteView nonce, ByteView message)>;

}  // namespace punchlab::control
