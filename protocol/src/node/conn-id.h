// How Node names the TCP connections of its sub-machines to its host: the
// control client and every DERP client choose their own ids (1, 2, ...), so
// the node puts a slot number in the top 32 bits. Slot 0 is control; each
// DERP client instance gets a fresh slot (UPnP has the last one), so a late byte for a connection of
// a retired client can never reach its successor.
#pragma once

#include <cstdint>

#include "punchlab/stream-machine.h"

namespace punchlab {
namespace node {

constexpr uint32_t kControlSlot = 0;
// The UPnP IGD client's connections (DERP slots count up from 1 and never
// reach it).
constexpr uint32_t kPortMapSlot = 0xffffffffu;

struct ConnSplit {
  uint32_t slot = 0;
  ConnectionId sub = 0;
};

inline ConnectionId ComposeConn(uint32_t slot, ConnectionId sub) {
  return (static_cast<ConnectionId>(slot) << 32) | (sub & 0xffffffffu);
}

inline ConnSplit SplitConn(ConnectionId conn) {
  return ConnSplit{static_cast<uint32_t>(conn >> 32), conn & 0xffffffffu};
}

}  // namespace node
}  // namespace punchlab
