#include "punchlab/endpoint.h"

#include <string_view>
#include <vector>

namespace punchlab {

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::kV4;
  for (int i = 0; i < 4; ++i) a.bytes_[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
  return a;
}

IpAddress IpAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return V4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::kV6;
  a.bytes_ = bytes;
  return a;
}

uint32_t IpAddress::v4() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         bytes_[3];
}

std::array<uint8_t, 16> IpAddress::ToV6Mapped() const {
  if (is_v6()) return bytes_;
  std::array<uint8_t, 16> out{};
  out[10] = 0xff;
  out[11] = 0xff;
  for (int i = 0; i < 4; ++i) out[12 + i] = bytes_[i];
  return out;
}

IpAddress IpAddress::FromV6Mapped(const std::array<uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return V6(b);
  }
  if (b[10] != 0xff || b[11] != 0xff) return V6(b);
  return V4(b[12], b[13], b[14], b[15]);
}

bool IpAddress::IsUnspecified() const {
  for (size_t i = 0; i < size(); ++i) {
    if (bytes_[i] != 0) return false;
  }
  return true;
}

bool IpAddress::IsLoopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[15] == 1;
}

bool IpAddress::IsPrivate() const {
  if (is_v4()) {
    const uint8_t a = bytes_[0], b = bytes_[1];
    return a == 10 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168);
  }
  return (bytes_[0] & 0xfe) == 0xfc;
}

bool IpAddress::IsLinkLocalUnicast() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

namespace {

// Parses a decimal number of at most `max_digits` digits without leading zeros.
bool ParseDecimal(std::string_view s, size_t max_digits, uint32_t max_value, uint32_t& out) {
  if (s.empty() || s.size() > max_digits) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max_value) return false;
  out = v;
  return true;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}

// Exactly four dot-separated decimals, read in place: control messages carry
// several addresses per node entry, and a big tailnet's registration burst
// parses millions (a vector of four strings each took ~1,200 instructions).
bool ParseV4(std::string_view s, std::array<uint8_t, 4>& out) {
  for (size_t i = 0; i < 4; ++i) {
    const size_t dot = s.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return false;  // not four parts
    uint32_t v;
    if (!ParseDecimal(s.substr(0, dot), 3, 255, v)) return false;
    out[i] = static_cast<uint8_t>(v);
    if (i < 3) s.remove_prefix(dot + 1);
  }
  return true;
}

bool ParseHextet(const std::string& s, uint16_t& out) {
  if (s.empty() || s.size() > 4) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  out = static_cast<uint16_t>(v);
  return true;
}

// Parses a run of ':'-separated hextets (an embedded IPv4 may end it) into words.
bool ParseHextets(const std::string& s, bool allow_v4_tail, std::vector<uint16_t>& words) {
  if (s.empty()) return true;
  auto parts = Split(s, ':');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (allow_v4_tail && i + 1 == parts.size() && parts[i].find('.') != std::string::npos) {
      std::array<uint8_t, 4> v4;
      if (!ParseV4(parts[i], v4)) return false;
      words.push_back(static_cast<uint16_t>((v4[0] << 8) | v4[1]));
      words.push_back(static_cast<uint16_t>((v4[2] << 8) | v4[3]));
      continue;
    }
    uint16_t w;
    if (!ParseHextet(parts[i], w)) return false;
    words.push_back(w);
  }
  return true;
}

bool ParseV6(const std::string& s, std::array<uint8_t, 16>& out) {
  std::vector<uint16_t> head, tail;
  const size_t gap = s.find("::");
  if (gap != std::string::npos) {
    if (s.find("::", gap + 1) != std::string::npos) return false;
    if (!ParseHextets(s.substr(0, gap), false, head)) return false;
    if (!ParseHextets(s.substr(gap + 2), true, tail)) return false;
    if (head.size() + tail.size() > 7) return false;
  } else {
    if (!ParseHextets(s, true, head)) return false;
    if (head.size() != 8) return false;
  }
  std::array<uint16_t, 8> words{};
  for (size_t i = 0; i < head.size(); ++i) words[i] = head[i];
  for (size_t i = 0; i < tail.size(); ++i) words[8 - tail.size() + i] = tail[i];
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(words[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(words[i]);
  }
  return true;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(const std::string& text) {
  if (text.find(':') == std::string::npos) {
    std::array<uint8_t, 4> v4;
    if (!ParseV4(text, v4)) return std::nullopt;
    return V4(v4[0], v4[1], v4[2], v4[3]);
  }
  std::array<uint8_t, 16> v6;
  if (!ParseV6(text, v6)) return std::nullopt;
  return V6(v6);
}

std::string IpAddress::ToString() const {
  if (is_v4()) {
    return std::to_string(bytes_[0]) + "." + std::to_string(bytes_[1]) + "." +
           std::to_string(bytes_[2]) + "." + std::to_string(bytes_[3]);
  }
  // RFC 5952: lowercase, longest run (>= 2) of zero words compressed, first on ties.
  std::array<uint16_t, 8> w;
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>((bytes_[2 * i] << 8) | bytes_[2 * i + 1]);
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  auto hextet = [](uint16_t v) {
    std::string s;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (v >> shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        s.push_back(kDigits[d]);
        started = true;
      }
    }
    return s;
  };
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ":";
    out += hextet(w[i]);
  }
  return out;
}

std::optional<Endpoint> Endpoint::Parse(const std::string& text) {
  std::string host, port_text;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string::npos) return std::nullopt;  // brackets are for IPv6
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return std::nullopt;  // bare IPv6 needs brackets
  }
  auto ip = IpAddress::Parse(host);
  uint32_t port;
  if (!ip || !ParseDecimal(port_text, 5, 65535, port)) return std::nullopt;
  return Endpoint(*ip, static_cast<uint16_t>(port));
}

std::string Endpoint::ToString() const {
  if (ip.is_v6()) return "[" + ip.ToString() + "]:" + std::to_string(port);
  return ip.ToString() + ":" + std::to_string(port);
}

}  // namespace punchlab

size_t std::hash<punchlab::IpAddress>::operator()(const punchlab::IpAddress& a) const noexcept {
  // FNV-1a over family and the significant bytes.
  uint64_t h = 1469598103934665603ull ^ static_cast<uint8_t>(a.family());
  for (size_t i = 0; i < a.size(); ++i) {
    h ^= a.bytes()[i];
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

size_t std::hash<punchlab::Endpoint>::operator()(const punchlab::Endpoint& e) const noexcept {
  size_t h = std::hash<punchlab::IpAddress>()(e.ip);
  return h ^ (static_cast<size_t>(e.port) * 0x9e3779b97f4a7c15ull);
}
