#include "files/read-whole-file.h"

#include <cerrno>
#include <cstdio>
#include <memory>

namespace punchlab::files {

std::optional<std::string> ReadWholeFile(const std::string& path) {
  // stdio, not a stream: fopen of a directory succeeds and only the read
  // fails (EISDIR), which ferror reports; an ifstream read it as "".
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return std::nullopt;
  std::string text;
  char piece[64 << 10];
  size_t n;
  while ((n = std::fread(piece, 1, sizeof piece, file.get())) > 0) text.append(piece, n);
  if (std::ferror(file.get())) {
    const int error = errno;
    file.reset();
    errno = error;
    return std::nullopt;
  }
  return text;
}

}  // namespace punchlab::files
