// Reading JSON that came from the network with nlohmann's parser.
#pragma once

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "punchlab/bytes.h"

namespace punchlab {

// Whether `text` holds a raw NUL byte. JSON allows one nowhere (in a string
// it is written \u0000), but nlohmann's lexer reads a NUL as the end of its
// input: it accepts {"a":1}, a NUL and anything at all after it. So every
// reader of received JSON refuses such text before a parser sees it
// (ParseJson below; control's ReadMessageJson, before simdjson and nlohmann).
inline bool HoldsRawNul(ByteView text) {
  return std::find(text.begin(), text.end(), uint8_t{0}) != text.end();
}

// nlohmann::json::parse(text) without exceptions, a raw NUL refused:
// discarded (is_discarded()) when `text` is not JSON.
inline nlohmann::json ParseJson(ByteView text) {
  if (HoldsRawNul(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace punchlab
