// A key log file: lines of secrets a capture's reader needs (TLS's NSS key
// log, punchlab's disco and control key logs), appended by every process of
// a run that seals something. Opened O_APPEND and written one whole line per
// write(2) (a short write's rest follows in more writes; key-log-file.cc says
// what that guarantees), so the lines of processes sharing the file do not
// interleave; a line that cannot be written only costs the decryption of
// what it opened. Created 0600 (Empty makes an existing file 0600): it opens
// the sessions it lists. A symlink in its place is refused (O_NOFOLLOW).
#pragma once

#include <string>
#include <string_view>

#include "realio/unique-fd.h"

namespace punchlab::realio {

class KeyLogFile {
 public:
  // Opens `path` for appending (created 0600 when missing). Throws
  // std::runtime_error naming the file when it cannot be opened.
  explicit KeyLogFile(const std::string& path);

  // Appends `line` and a newline, in one write unless the write is short.
  void Append(std::string_view line) const;

  // Makes `path` an empty key log of mode 0600 (created, or emptied): for a runner
  // whose processes then append to it, so that a file left by an earlier run
  // into the same directory does not carry its lines on. Throws
  // std::runtime_error like the constructor.
  static void Empty(const std::string& path);

 private:
  UniqueFd fd_;
};

}  // namespace punchlab::realio
