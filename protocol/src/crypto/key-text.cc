#include "crypto/key-text.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace punchlab {
namespace crypto_detail {

namespace {

// The prefix and 64 hex digits (either case, as Tailscale's parser,
// types/key parseHex; we write lowercase).
bool KeyTextShaped(const char* prefix, const std::string& text, size_t& prefix_len) {
  prefix_len = std::strlen(prefix);
  return text.size() == prefix_len + 64 && text.compare(0, prefix_len, prefix) == 0;
}

}  // namespace

std::optional<std::array<uint8_t, 32>> ParseKeyText(const char* prefix, const std::string& text) {
  size_t prefix_len = 0;
  if (!KeyTextShaped(prefix, text, prefix_len)) return std::nullopt;
  for (size_t i = prefix_len; i < text.size(); ++i) {
    const char c = text[i];
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

// A public key is no secret: FromHex (heap copies, not constant time) takes
// about a third of sodium_hex2bin's instructions, and a big domain's every
// netmap entry carries two keys (callgrind, a tailnet of 200: 3.2 k
// instructions a key, 1.5 % of the run).
std::optional<std::array<uint8_t, 32>> ParsePublicKeyText(const char* prefix,
                                                          const std::string& text) {
  size_t prefix_len = 0;
  if (!KeyTextShaped(prefix, text, prefix_len)) return std::nullopt;
  // Straight into the key: no copy of the text or the bytes on the heap (a
  // tailnet's registration burst parses two keys per node entry).
  std::array<uint8_t, 32> out{};
  if (!FromHex(std::string_view(text).substr(prefix_len), out.data(), out.size())) {
    return std::nullopt;
  }
  return out;
}

std::string FormatKeyText(const char* prefix, ByteView key) { return prefix + ToHex(key); }

std::string ShortKeyText(ByteView key) { return "[" + ToHex(key.sub(0, 4)) + "]"; }

}  // namespace crypto_detail
}  // namespace punchlab
