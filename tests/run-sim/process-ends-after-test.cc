// RunOptions::process_ends_after: the last run of a process leaves its world
// to the operating system. Its results and captures are those of a run that
// frees the world (the captures are closed by the run, not by the world's
// teardown), and the process still ends cleanly (exit's static destructors,
// ns-3's among them, run with the world's objects still allocated).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>

#include "results/write-json.h"
#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

TEST(RunSimProcessEndsAfter, SameResultsAndCapturesAndTheProcessEndsCleanly) {
  const scenario::Scenario s = testing::LoadOk(testing::PairYaml("full-cone", "symmetric"));
  std::string templ = (fs::temp_directory_path() / "punchlab-ends-after-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const fs::path dir(templ);
  results::RunOptions options;
  options.pcap = true;
  options.out_dir = (dir / "freed").string();
  const std::string freed = results::ResultsJsonText(RunInSimulation(s, options));
  ASSERT_NE(freed.find("\"pairs\""), std::string::npos);
  // In a child process: the option promises that the process ends after it.
  EXPECT_EXIT(
      {
        options.out_dir = (dir / "left").string();
        options.process_ends_after = true;
        const std::string left = results::ResultsJsonText(RunInSimulation(s, options));
        std::exit(left == freed ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  const auto freed_pcaps = Files(dir / "freed" / "pcap");
  const auto left_pcaps = Files(dir / "left" / "pcap");
  fs::remove_all(dir);
  ASSERT_GE(freed_pcaps.size(), 4u);  // two nodes, two NATs, DERP, control
  EXPECT_EQ(left_pcaps.size(), freed_pcaps.size());
  for (const auto& [name, bytes] : freed_pcaps) {
    EXPECT_GT(bytes.size(), 24u) << name << " carried nothing";
    EXPECT_TRUE(left_pcaps.count(name) && left_pcaps.at(name) == bytes) << name << " differs";
  }
}

// The option promises the process ends after the run: a second such run is
// the caller's bug, refused (in every build type) before it runs, not a
// silent loss of the first world.
TEST(RunSimProcessEndsAfter, ASecondRunThatEndsTheProcessIsALogicError) {
  const scenario::Scenario s = testing::LoadOk(testing::PairYaml("full-cone", "symmetric"));
  EXPECT_EXIT(
      {
        results::RunOptions options;
        options.process_ends_after = true;
        RunInSimulation(s, options);
        try {
          RunInSimulation(s, options);
        } catch (const std::logic_error& e) {
          std::exit(std::string(e.what()).find("second run") != std::string::npos ? 0 : 2);
        }
        std::exit(1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace punchlab::runsim
