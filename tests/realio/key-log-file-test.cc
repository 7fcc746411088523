// The key log file (realio/key-log-file.h): emptying makes a file readable by
// others 0600, a symlink in the key log's place is refused, lines append.
#include "realio/key-log-file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "support/read-file.h"

namespace punchlab::realio {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "key-log-file-" + name + "-" + std::to_string(getpid());
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

using testsupport::ReadFile;

TEST(KeyLogFile, EmptyMakesAnExistingReadableFileEmptyAnd0600) {
  const std::string path = TempPath("mode");
  { std::ofstream(path) << "an older run's line\n"; }
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  KeyLogFile::Empty(path);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ReadFile(path), "");
  unlink(path.c_str());
}

TEST(KeyLogFile, ASymlinkInItsPlaceIsRefusedAndItsTargetUntouched) {
  const std::string target = TempPath("target");
  const std::string link = TempPath("link");
  { std::ofstream(target) << "not a key log\n"; }
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THROW(KeyLogFile::Empty(link), std::runtime_error);
  EXPECT_THROW(KeyLogFile{link}, std::runtime_error);
  EXPECT_EQ(ReadFile(target), "not a key log\n");
  unlink(link.c_str());
  unlink(target.c_str());
}

TEST(KeyLogFile, LinesAppendWholeAfterWhatIsThere) {
  const std::string path = TempPath("append");
  KeyLogFile::Empty(path);
  const std::string big(600 * 1024, 'a');  // a tailnet's netmap line is ~580 KB of hex
  {
    const KeyLogFile first(path);
    const KeyLogFile second(path);
    first.Append("00 11");
    second.Append(big);
    first.Append("22 33");
  }
  EXPECT_EQ(ReadFile(path), "00 11\n" + big + "\n22 33\n");
  EXPECT_EQ(ModeOf(path), 0600u);
  unlink(path.c_str());
}

}  // namespace
}  // namespace punchlab::realio
