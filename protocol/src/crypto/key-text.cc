#include "crypto/key-text.h"

#include <sodium.h>

#include <cstring>

namespace punchlab {
namespace crypto_detail {

std::optional<std::array<uint8_t, 32>> ParseKeyText(const char* prefix, const std::string& text) {
  const size_t prefix_len = std::strlen(prefix);
  if (text.size() != prefix_len + 64 || text.compare(0, prefix_len, prefix) != 0) {
    return std::nullopt;
  }
  for (size_t i = prefix_len; i < text.size(); ++i) {
    const char c = text[i];
    // Either case, as Tailscale's parser (types/key parseHex); we write lowercase.
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return std::nullopt;
    }
  }
  // sodium_hex2bin, not FromHex, so no heap copy of what may be a private key
  // is left behind.
  std::array<uint8_t, 32> out{};
  size_t len = 0;
  if (sodium_hex2bin(out.data(), out.size(), text.data() + prefix_len, 64, nullptr, &len,
                     nullptr) != 0 ||
      len != out.size()) {
    return std::nullopt;
  }
  return out;
}

std::string FormatKeyText(const char* prefix, ByteView key) { return prefix + ToHex(key); }

std::string ShortKeyText(ByteView key) { return "[" + ToHex(key.sub(0, 4)) + "]"; }

}  // namespace crypto_detail
}  // namespace punchlab
