// Reading JSON (received, or a local file or text) with nlohmann's parser.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "punchlab/bytes.h"

namespace punchlab {

// Whether `text` holds a raw NUL byte. JSON allows one nowhere (in a string
// it is written \u0000), but nlohmann's lexer reads a NUL as the end of its
// input: it accepts {"a":1}, a NUL and anything at all after it. So every
// reader of JSON that comes from outside (the network; a file; a user's or
// a program's text) refuses such text before a parser sees it (ParseJson
// below; control's ReadMessageJson, before simdjson and nlohmann; where
// there is a file or a text to point into, RawNulError).
inline bool HoldsRawNul(ByteView text) {
  return std::find(text.begin(), text.end(), uint8_t{0}) != text.end();
}
inline bool HoldsRawNul(std::string_view text) { return text.find('\0') != text.npos; }

// Where `text`'s first raw NUL is, for a message: "a raw NUL byte at line
// 2, column 7 (JSON has none; in a string it is written \u0000)" (lines and
// columns counted from 1, columns in bytes); nullopt when it holds none.
inline std::optional<std::string> RawNulError(std::string_view text) {
  const size_t at = text.find('\0');
  if (at == text.npos) return std::nullopt;
  const std::string_view before = text.substr(0, at);
  const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t line_start = before.rfind('\n');
  const size_t column = at - (line_start == before.npos ? 0 : line_start + 1) + 1;
  return "a raw NUL byte at line " + std::to_string(line) + ", column " + std::to_string(column) +
         " (JSON has none; in a string it is written \\u0000)";
}

// nlohmann::json::parse(text) without exceptions, a raw NUL refused:
// discarded (is_discarded()) when `text` is not JSON.
inline nlohmann::json ParseJson(ByteView text) {
  if (HoldsRawNul(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}
inline nlohmann::json ParseJson(std::string_view text) {
  if (HoldsRawNul(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace punchlab
