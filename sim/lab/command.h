// Runs one command to completion with a bounded wait, the way every lab step
// (ip, nft, sysctl, tc) is run.
#pragma once

#include <string>
#include <vector>

#include "punchlab/time.h"

namespace punchlab::lab {

struct CommandOptions {
  Duration timeout = Duration::Seconds(20);
  std::string input;  // stdin; empty: /dev/null
  // Throw LabError on a non-zero exit (the message quotes argv and stderr).
  bool check = true;
  // A lab signal aborts the wait with Interrupted (teardown passes false).
  bool interruptible = true;
};

struct CommandResult {
  int exit_code = 0;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
};

// `text` without trailing blanks and newlines, for quoting output in messages.
std::string TrimRight(const std::string& text);

// Throws LabError when the command cannot be started, runs longer than
// options.timeout (it is killed), or fails while options.check is set.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

}  // namespace punchlab::lab
