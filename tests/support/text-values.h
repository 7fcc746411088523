// Values unit tests write as text: bytes in hex, endpoints as
// "a.b.c.d:port" / "[v6]:port". A text that does not parse fails the test
// that wrote it (and yields empty bytes / a default endpoint).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"

namespace punchlab::testsupport {

inline Bytes Hex(const std::string& hex) {
  Bytes out;
  EXPECT_TRUE(FromHex(hex, out)) << hex;
  return out;
}

inline Endpoint Ep(const std::string& text) {
  auto e = Endpoint::Parse(text);
  EXPECT_TRUE(e) << text;
  return e.value_or(Endpoint());
}

}  // namespace punchlab::testsupport
