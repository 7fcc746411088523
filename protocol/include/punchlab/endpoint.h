// IP addresses and endpoints (address + port), IPv4 and IPv6, with their own
// text parsing: protocol/ may not use the socket headers that inet_pton needs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace punchlab {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  IpAddress() = default;  // 0.0.0.0
  static IpAddress V4(uint32_t host_order);
  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // Dotted quad or RFC 4291 text (with "::" compression and embedded IPv4).
  // Strict: no leading/trailing junk, no octal, no zone ids.
  static std::optional<IpAddress> Parse(const std::string& text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // Network-order bytes: 4 significant for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4() const;  // host order; only for IPv4
  // IPv4 as ::ffff:a.b.c.d, IPv6 unchanged (disco Pong / CallMeMaybe use this).
  std::array<uint8_t, 16> ToV6Mapped() const;
  // Inverse of ToV6Mapped: v4-mapped addresses become IPv4 again.
  static IpAddress FromV6Mapped(const std::array<uint8_t, 16>& bytes);

  bool IsUnspecified() const;
  bool IsLoopback() const;
  // As Go's netip.Addr (what Tailscale's path choice uses): RFC 1918 and
  // RFC 4193 (fc00::/7) private ranges. Not CGNAT (RFC 6598, 100.64/10),
  // not link-local: those are IsLinkLocalUnicast.
  bool IsPrivate() const;
  // 169.254/16, fe80::/10.
  bool IsLinkLocalUnicast() const;

  std::string ToString() const;

  bool operator==(const IpAddress& o) const { return family_ == o.family_ && bytes_ == o.bytes_; }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
  bool operator<(const IpAddress& o) const {
    return family_ != o.family_ ? family_ < o.family_ : bytes_ < o.bytes_;
  }

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;

  Endpoint() = default;
  Endpoint(IpAddress a, uint16_t p) : ip(a), port(p) {}
  // "1.2.3.4:5" or "[2001:db8::1]:5". Port 0..65535, decimal, required.
  static std::optional<Endpoint> Parse(const std::string& text);
  std::string ToString() const;

  bool operator==(const Endpoint& o) const { return ip == o.ip && port == o.port; }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
  bool operator<(const Endpoint& o) const { return ip != o.ip ? ip < o.ip : port < o.port; }
};

}  // namespace punchlab

template <>
struct std::hash<punchlab::IpAddress> {
  size_t operator()(const punchlab::IpAddress& a) const noexcept;
};
template <>
struct std::hash<punchlab::Endpoint> {
  size_t operator()(const punchlab::Endpoint& e) const noexcept;
};
