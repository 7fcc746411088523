#include "results/probe.h"

#include <algorithm>

namespace punchlab {
namespace results {
namespace {
constexpr uint8_t kMagic0 = 'P';
constexpr uint8_t kMagic1 = 'L';
}  // namespace

Bytes EncodeProbe(const ProbeHeader& header, size_t size) {
  Bytes out;
  out.reserve(std::max(size, kProbeHeaderSize));
  ByteWriter w(out);
  w.U8(kMagic0);
  w.U8(kMagic1);
  w.U8(static_cast<uint8_t>(header.kind));
  w.U8(0);
  w.U32(header.flow);
  w.U64(header.seq);
  if (size > kProbeHeaderSize) w.Zeros(size - kProbeHeaderSize);
  return out;
}

std::optional<ProbeHeader> DecodeProbe(ByteView payload) {
  ByteReader r(payload);
  uint8_t m0 = 0, m1 = 0, kind = 0, reserved = 0;
  ProbeHeader h;
  if (!r.ReadU8(m0) || !r.ReadU8(m1) || !r.ReadU8(kind) || !r.ReadU8(reserved) ||
      !r.ReadU32(h.flow) || !r.ReadU64(h.seq)) {
    return std::nullopt;
  }
  if (m0 != kMagic0 || m1 != kMagic1 || reserved != 0) return std::nullopt;
  if (kind != static_cast<uint8_t>(ProbeKind::kProbe) &&
      kind != static_cast<uint8_t>(ProbeKind::kEcho)) {
    return std::nullopt;
  }
  h.kind = static_cast<ProbeKind>(kind);
  return h;
}

std::optional<Bytes> EchoOf(ByteView probe) {
  const std::optional<ProbeHeader> h = DecodeProbe(probe);
  if (!h || h->kind != ProbeKind::kProbe) return std::nullopt;
  Bytes echo = probe.ToBytes();
  echo[2] = static_cast<uint8_t>(ProbeKind::kEcho);
  return echo;
}

}  // namespace results
}  // namespace punchlab
