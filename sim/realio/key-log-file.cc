#include "realio/key-log-file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace punchlab::realio {
namespace {

// O_NOFOLLOW: the lab runs as root, and a symlink planted where a key log
// goes must not make it write (or empty) another file.
UniqueFd Open(const std::string& path, int flags) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0600));
  if (!fd.valid()) throw std::runtime_error("key log " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

KeyLogFile::KeyLogFile(const std::string& path) : fd_(Open(path, O_APPEND)) {}

// What O_APPEND guarantees: each write(2) puts its bytes, contiguous, at the
// file's end at that moment, so a line written whole never interleaves with
// another process's. Linux writes a regular file whole unless the disk is
// full, a file-size limit is hit or a signal interrupts a large write; then
// the rest goes in further writes here, and another process's line may land
// between the parts (that line pair is then unreadable; every other line is
// intact). A write that fails outright (not EINTR) gives the line up: a lost
// line only costs the decryption of what it opened.
void KeyLogFile::Append(std::string_view line) const {
  std::string text(line);
  text += '\n';
  const char* rest = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t written = write(fd_.get(), rest, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (written == 0) return;
    rest += written;
    left -= static_cast<size_t>(written);
  }
}

// An existing file keeps its mode through O_CREAT; a key log left readable
// by others (an older run's, a copied one) is made 0600 as it is emptied.
void KeyLogFile::Empty(const std::string& path) {
  const UniqueFd fd = Open(path, O_TRUNC);
  if (fchmod(fd.get(), 0600) != 0) {
    throw std::runtime_error("key log " + path + ": " + std::strerror(errno));
  }
}

}  // namespace punchlab::realio
