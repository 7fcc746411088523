// A file a test reads (a fixture, or what the code under test wrote): the
// project's one reader (sim/files/), failing the test when the file cannot
// be read.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "files/read-whole-file.h"

namespace punchlab::testsupport {

inline std::string ReadFile(const std::string& path) {
  const std::optional<std::string> text = files::ReadWholeFile(path);
  EXPECT_TRUE(text) << "cannot read " << path << ": " << std::strerror(errno);
  return text.value_or("");
}

}  // namespace punchlab::testsupport
