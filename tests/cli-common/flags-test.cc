// The one flag framework of punchlab and punchlab-node: parsing, --help,
// usage errors and the one duration parser behind every duration flag.
#include "cli-common/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using ::testing::HasSubstr;

// The message of the UsageError `f` throws ("" when it throws none).
template <typename F>
std::string UsageMessage(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(DurationFlag, ReadsDurationParseText) {
  EXPECT_EQ(ParseDurationFlag("--x", "30s"), Duration::Seconds(30));
  EXPECT_EQ(ParseDurationFlag("--x", "1.5s"), Duration::Millis(1500));
  EXPECT_EQ(ParseDurationFlag("--x", "250us"), Duration::Micros(250));
  EXPECT_EQ(ParseDurationFlag("--x", "24h"), Duration::Seconds(86400));
}

TEST(DurationFlag, ABareNumberIsSecondsOnlyWhereAllowed) {
  EXPECT_EQ(ParseDurationFlag("--t", "0.5", kSecondsOrDuration), Duration::Millis(500));
  EXPECT_EQ(ParseDurationFlag("--t", "90", kSecondsOrDuration), Duration::Seconds(90));
  EXPECT_EQ(UsageMessage([] { ParseDurationFlag("--d", "60"); }),
            "--d: '60' is not a duration (write e.g. 30s, 1.5s or 500ms)");
  EXPECT_THAT(UsageMessage([] { ParseDurationFlag("--t", "3 s", kSecondsOrDuration); }),
              HasSubstr("--t: '3 s' is not a duration (write e.g. 30s, 1.5s or 500ms; a bare "
                        "number is seconds)"));
}

TEST(DurationFlag, RangesSayWhatFits) {
  EXPECT_EQ(UsageMessage([] { ParseDurationFlag("--t", "0", kSecondsOrDuration); }),
            "--t: must be a duration above 0 and at most a day (86400s), not '0'");
  EXPECT_THAT(UsageMessage([] { ParseDurationFlag("--t", "-1", kSecondsOrDuration); }),
              HasSubstr("must be a duration above 0"));
  EXPECT_THAT(UsageMessage([] { ParseDurationFlag("--t", "25h"); }),
              HasSubstr("--t: must be a duration above 0 and at most a day"));
  const DurationRange latency{true, Duration::Seconds(10), false};
  EXPECT_EQ(ParseDurationFlag("--latency", "0s", latency), Duration::Zero());
  EXPECT_EQ(ParseDurationFlag("--latency", "10s", latency), Duration::Seconds(10));
  EXPECT_EQ(UsageMessage([&] { ParseDurationFlag("--latency", "10001ms", latency); }),
            "--latency: must be a duration from 0s to 10s, not '10001ms'");
}

TEST(EndpointFlag, NamesTheFlag) {
  EXPECT_EQ(ParseEndpointFlag("--listen", "127.0.0.1:5"), *Endpoint::Parse("127.0.0.1:5"));
  EXPECT_THAT(UsageMessage([] { ParseEndpointFlag("--listen", "nowhere"); }),
              HasSubstr("--listen: 'nowhere' is not an address:port"));
}

CommandSpec Files() {
  CommandSpec spec{"run", "run FILE... [options]", "Runs files.", po::options_description("Options"),
                   {}};
  spec.options.add_options()("seed", po::value<uint64_t>(), "a seed");
  spec.positional.add("file", -1);
  return spec;
}

TEST(CommandLine, AnUndeclaredPositionalCollectsEveryArgument) {
  po::variables_map vm;
  ASSERT_TRUE(ParseCommandLine({"run", "a.yaml", "--seed", "3", "b.yaml"}, Files(), vm));
  EXPECT_EQ(vm["file"].as<std::vector<std::string>>(), (std::vector<std::string>{"a.yaml", "b.yaml"}));
  EXPECT_EQ(vm["seed"].as<uint64_t>(), 3u);
}

TEST(CommandLine, BadFlagsAndStrayArgumentsAreUsageErrors) {
  po::variables_map vm;
  EXPECT_THAT(UsageMessage([&] { ParseCommandLine({"run", "--sed", "1"}, Files(), vm); }),
              HasSubstr("unrecognised option '--sed'"));
  CommandSpec none{"demo", "demo", "", po::options_description("Options"), {}};
  po::variables_map vm2;
  EXPECT_THAT(UsageMessage([&] { ParseCommandLine({"demo", "extra"}, none, vm2); }),
              HasSubstr("positional"));
}

TEST(CommandLine, HelpPrintsUsageAboutAndOptionsButNotHiddenOnes) {
  po::variables_map vm;
  ::testing::internal::CaptureStdout();
  const bool go_on = ParseCommandLine({"run", "--help"}, Files(), vm);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_FALSE(go_on);
  EXPECT_THAT(out, HasSubstr("Usage: "));
  EXPECT_THAT(out, HasSubstr(" run FILE... [options]\n\nRuns files.\n\nOptions:\n"));
  EXPECT_THAT(out, HasSubstr("--seed"));
  EXPECT_THAT(out, HasSubstr("--help"));
  EXPECT_EQ(out.find("--file"), std::string::npos);
}

}  // namespace
}  // namespace punchlab::cli
