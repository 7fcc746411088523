#include "lab/command.h"

#include "lab/child-process.h"
#include "lab/lab-error.h"

namespace punchlab::lab {

std::string TrimRight(const std::string& text) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? std::string() : text.substr(0, end + 1);
}

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  ChildProcess child(argv, options.input);
  if (!child.WaitExit(options.timeout, options.interruptible)) {
    child.Stop();
    throw LabError("'" + child.command() + "' did not finish within " +
                   options.timeout.ToString() + "; stderr: " + TrimRight(child.Stderr()));
  }
  CommandResult result{child.exit_code(), child.Stdout(), child.Stderr()};
  if (options.check && result.exit_code != 0) {
    throw LabError("'" + child.command() + "' failed (" + child.DescribeStatus() +
                   "): " + TrimRight(result.err.empty() ? result.out : result.err));
  }
  return result;
}

}  // namespace punchlab::lab
