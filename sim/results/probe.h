// The payload of a scenario's traffic packets, the same in ns-3 and in the
// real lab: a "probe" that the sender numbers, and the receiver's "echo" of
// it (the same bytes with the kind flipped, sent back on whatever path the
// receiver uses). The pair gives one round trip per probe (results.h Probe).
//
//   0  'P' 'L'            magic
//   2  kind u8            1 probe, 2 echo
//   3  0                  reserved
//   4  flow u32           index of the traffic entry in the scenario file
//   8  seq u64            per flow, from 0
//  16  zero padding up to the flow's size
//
// All big-endian. A flow whose size is below the 16-byte header sends the
// header alone (the runners note it). Anything that does not parse is not a
// probe: receivers count it and drop it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"

namespace punchlab {
namespace results {

constexpr size_t kProbeHeaderSize = 16;

enum class ProbeKind : uint8_t { kProbe = 1, kEcho = 2 };

struct ProbeHeader {
  ProbeKind kind = ProbeKind::kProbe;
  uint32_t flow = 0;
  uint64_t seq = 0;
};

// `size` bytes (at least kProbeHeaderSize).
Bytes EncodeProbe(const ProbeHeader& header, size_t size);
std::optional<ProbeHeader> DecodeProbe(ByteView payload);
// The echo of a probe: the same bytes, kind echo. nullopt if `probe` is not a probe.
std::optional<Bytes> EchoOf(ByteView probe);

}  // namespace results
}  // namespace punchlab
