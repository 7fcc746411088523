#include "node/ipv4-echo.h"

namespace punchlab::cli {
namespace {

uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void Put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
uint16_t Get16(ByteView b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

constexpr size_t kIpHeader = 20;
constexpr size_t kIcmpHeader = 8;

}  // namespace

Bytes EncodeIcmpEcho(const IcmpEcho& e) {
  const size_t total = kIpHeader + kIcmpHeader + e.data.size();
  Bytes b(total, 0);
  b[0] = 0x45;  // IPv4, 5-word header
  Put16(b, 2, static_cast<uint16_t>(total));
  b[8] = 64;  // TTL
  b[9] = 1;   // ICMP
  for (size_t i = 0; i < 4; ++i) {
    b[12 + i] = e.source.bytes()[i];
    b[16 + i] = e.destination.bytes()[i];
  }
  Put16(b, 10, Checksum(b.data(), kIpHeader));
  b[kIpHeader] = e.request ? 8 : 0;
  Put16(b, kIpHeader + 4, e.id);
  Put16(b, kIpHeader + 6, e.sequence);
  for (size_t i = 0; i < e.data.size(); ++i) b[kIpHeader + kIcmpHeader + i] = e.data[i];
  Put16(b, kIpHeader + 2, Checksum(b.data() + kIpHeader, total - kIpHeader));
  return b;
}

std::optional<IcmpEcho> DecodeIcmpEcho(ByteView p) {
  if (p.size() < kIpHeader + kIcmpHeader || p[0] != 0x45 || p[9] != 1) return std::nullopt;
  const size_t total = Get16(p, 2);
  if (total < kIpHeader + kIcmpHeader || total > p.size()) return std::nullopt;
  if (Checksum(p.data(), kIpHeader) != 0 || Checksum(p.data() + kIpHeader, total - kIpHeader) != 0) {
    return std::nullopt;
  }
  const uint8_t type = p[kIpHeader];
  if ((type != 8 && type != 0) || p[kIpHeader + 1] != 0) return std::nullopt;
  IcmpEcho e;
  e.source = IpAddress::V4(p[12], p[13], p[14], p[15]);
  e.destination = IpAddress::V4(p[16], p[17], p[18], p[19]);
  e.request = type == 8;
  e.id = Get16(p, kIpHeader + 4);
  e.sequence = Get16(p, kIpHeader + 6);
  e.data = p.sub(kIpHeader + kIcmpHeader, total - kIpHeader - kIcmpHeader).ToBytes();
  return e;
}

}  // namespace punchlab::cli
