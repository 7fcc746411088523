// AppendFixed (results/format.h) writes the digits printf's "%.*f" writes:
// both round the exact binary value to nearest, ties to even, so the CSV
// columns stay what they were when printf wrote them.
#include "results/format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace punchlab::results {
namespace {

std::string Fixed(double value, int decimals) {
  std::string out = "x";  // appended to, not replaced
  AppendFixed(out, value, decimals);
  return out.substr(1);
}

std::string Printf(double value, int decimals) {
  const int size = std::snprintf(nullptr, 0, "%.*f", decimals, value);
  std::string out(static_cast<size_t>(size) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", decimals, value);
  out.resize(static_cast<size_t>(size));
  return out;
}

TEST(AppendFixed, ExactTiesRoundToEvenAsPrintfDoes) {
  EXPECT_EQ(Fixed(0.0078125, 6), "0.007812");
  EXPECT_EQ(Fixed(0.0234375, 6), "0.023438");
  EXPECT_EQ(Fixed(0.0625, 3), "0.062");
  EXPECT_EQ(Fixed(0.125, 2), "0.12");
  EXPECT_EQ(Fixed(0.375, 2), "0.38");
  EXPECT_EQ(Fixed(2.5, 0), "2");
  EXPECT_EQ(Fixed(3.5, 0), "4");
  for (double v : {0.0078125, 0.0234375, 0.0625, 0.125, 0.375, 2.5, 3.5, -0.0625, -2.5}) {
    for (int d = 0; d <= 8; ++d) EXPECT_EQ(Fixed(v, d), Printf(v, d)) << v << " at " << d;
  }
}

TEST(AppendFixed, EdgeValuesAreWrittenAsPrintfWritesThem) {
  EXPECT_EQ(Fixed(-0.0, 3), "-0.000");
  EXPECT_EQ(Fixed(0.0, 0), "0");
  const double edges[] = {-0.0,
                          0.0,
                          1e-300,
                          -1e-7,
                          std::numeric_limits<double>::denorm_min(),
                          std::numeric_limits<double>::min(),
                          1e15 + 0.5,
                          9007199254740993.0,
                          1e22,
                          123456789012345678901234567890.0,
                          std::numeric_limits<double>::max(),
                          -std::numeric_limits<double>::max()};
  for (double v : edges) {
    for (int d : {0, 1, 3, 6, 9}) EXPECT_EQ(Fixed(v, d), Printf(v, d)) << v << " at " << d;
  }
  // Past what the fixed buffer holds: still printf's text, not a cut one.
  EXPECT_EQ(Fixed(std::numeric_limits<double>::max(), 120),
            Printf(std::numeric_limits<double>::max(), 120));
  EXPECT_EQ(Fixed(1.0 / 3.0, 400), Printf(1.0 / 3.0, 400));
}

// Values one ulp either side of a decimal tie (x.5 at the last kept digit):
// the exact binary value decides, not its shortest decimal text.
TEST(AppendFixed, ValuesBesideHalfwayPointsRoundByTheirExactValue) {
  EXPECT_EQ(Fixed(0.0005, 3), Printf(0.0005, 3));  // 0.0005 is above the tie in binary
  EXPECT_EQ(Fixed(1.005, 2), "1.00");              // 1.00499999999999989...
  EXPECT_EQ(Fixed(2.675, 2), "2.67");
  for (int d = 0; d <= 6; ++d) {
    const double scale = std::pow(10.0, d);
    for (int k = 0; k < 2000; ++k) {
      const double tie = (k + 0.5) / scale;
      for (double v : {std::nextafter(tie, 0.0), tie, std::nextafter(tie, 1e9)}) {
        EXPECT_EQ(Fixed(v, d), Printf(v, d)) << v << " at " << d;
        EXPECT_EQ(Fixed(-v, d), Printf(-v, d)) << -v << " at " << d;
      }
    }
  }
}

}  // namespace
}  // namespace punchlab::results
