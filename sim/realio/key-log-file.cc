#include "realio/key-log-file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace punchlab::realio {
namespace {

UniqueFd Open(const std::string& path, int flags) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600));
  if (!fd.valid()) throw std::runtime_error("key log " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

KeyLogFile::KeyLogFile(const std::string& path) : fd_(Open(path, O_APPEND)) {}

void KeyLogFile::Append(std::string_view line) const {
  std::string text(line);
  text += '\n';
  const ssize_t written = write(fd_.get(), text.data(), text.size());
  (void)written;  // a lost line only costs the decryption of what it opened
}

void KeyLogFile::Empty(const std::string& path) { Open(path, O_TRUNC); }

}  // namespace punchlab::realio
