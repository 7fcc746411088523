#include "punchlab/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace punchlab {
namespace {

TEST(LowerAscii, LowersOnlyAsciiLetters) {
  EXPECT_EQ(LowerAscii("Upgrade: DERP"), "upgrade: derp");
  EXPECT_EQ(LowerAscii("HTTP://GW:2869/A-Z@[\\]^_`{"), "http://gw:2869/a-z@[\\]^_`{");
  // Bytes outside ASCII (and NUL) stay as they were, whatever the locale.
  const std::string high("\xC0\xC9\xDE\x00Z", 5);
  EXPECT_EQ(LowerAscii(high), std::string("\xC0\xC9\xDE\x00z", 5));
  EXPECT_EQ(LowerAscii(""), "");
}

}  // namespace
}  // namespace punchlab
