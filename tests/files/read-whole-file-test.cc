// files::ReadWholeFile: every byte of a file (NULs, more than one read's
// worth); nullopt with errno for a missing file and for a directory (which
// opens, then fails to read: an ifstream used to return "" for it).
#include "files/read-whole-file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

namespace punchlab::files {
namespace {

// A fresh directory, removed with all it holds.
struct ScratchDir {
  ScratchDir() {
    std::string name = ::testing::TempDir() + "read-whole-file-test.XXXXXX";
    path = mkdtemp(name.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(ReadWholeFile, ReadsEveryByte) {
  ScratchDir dir;
  std::string bytes(200 * 1024, 'x');  // more than one 64 KiB read
  bytes[7] = '\0';
  bytes.back() = '\n';
  std::ofstream(dir.path + "/f", std::ios::binary) << bytes;
  EXPECT_EQ(ReadWholeFile(dir.path + "/f"), bytes);
}

TEST(ReadWholeFile, AMissingFileIsNulloptWithErrno) {
  ScratchDir dir;
  errno = 0;
  EXPECT_EQ(ReadWholeFile(dir.path + "/missing"), std::nullopt);
  EXPECT_EQ(errno, ENOENT);
}

TEST(ReadWholeFile, ADirectoryIsNulloptWithErrno) {
  ScratchDir dir;
  ASSERT_EQ(mkdir((dir.path + "/d").c_str(), 0700), 0);
  errno = 0;
  EXPECT_EQ(ReadWholeFile(dir.path + "/d"), std::nullopt);
  EXPECT_EQ(errno, EISDIR);
}

}  // namespace
}  // namespace punchlab::files
