// Text forms shared by every 32-byte key type: "<prefix><64 lowercase hex>".
// Lowercase only, so each key has exactly one spelling and keys compare
// equal as text whenever they are equal as bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/bytes.h"

namespace punchlab {
namespace crypto_detail {

// Private keys and seeds: constant time, no heap copy.
std::optional<std::array<uint8_t, 32>> ParseKeyText(const char* prefix, const std::string& text);
// Public keys: the same texts and answers, faster.
std::optional<std::array<uint8_t, 32>> ParsePublicKeyText(const char* prefix,
                                                          const std::string& text);
std::string FormatKeyText(const char* prefix, ByteView key);
// "[" + first 8 hex digits + "]": enough to tell keys apart in logs.
std::string ShortKeyText(ByteView key);

}  // namespace crypto_detail
}  // namespace punchlab
