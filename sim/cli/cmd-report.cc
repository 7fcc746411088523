// punchlab report RESULTS... -o FILE [--title TEXT] [--png-dir DIR]
//
// The HTML report (plots and verdicts) is Python (analysis/, matplotlib), so
// this subcommand only hands over: it replaces itself with
// `/usr/bin/python3 -m punchlab.report ARGS...`, the build tree's package
// directory (PUNCHLAB_PYTHON_DIR, set by bindings/CMakeLists.txt) first on
// PYTHONPATH. Flags, --help, messages and exit codes are the Python side's
// (0 written, 2 bad input, 4 matplotlib missing or output unwritable).
// PUNCHLAB_PYTHON names another interpreter (tests use it).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"

namespace punchlab::cli {
namespace {

constexpr const char* kDefaultPython = "/usr/bin/python3";

int RunReport(const std::vector<std::string>& argv) {
#ifndef PUNCHLAB_PYTHON_DIR
  (void)argv;
  std::cerr << "punchlab report: this punchlab was built without the Python package "
               "(bindings/CMakeLists.txt sets PUNCHLAB_PYTHON_DIR); rebuild from the top-level "
               "CMakeLists.txt\n";
  return kExitRuntime;
#else
  const std::string package_dir = PUNCHLAB_PYTHON_DIR;
  const std::string entry = package_dir + "/punchlab/report.py";
  if (access(entry.c_str(), R_OK) != 0) {
    std::cerr << "punchlab report: the Python package is missing (" << entry << ": "
              << std::strerror(errno) << "); build the punchlab_python target\n";
    return kExitRuntime;
  }
  const char* env_python = std::getenv("PUNCHLAB_PYTHON");
  const std::string python = env_python && *env_python ? env_python : kDefaultPython;
  if (access(python.c_str(), X_OK) != 0) {
    std::cerr << "punchlab report: cannot run " << python << " (" << std::strerror(errno)
              << "); install Debian's python3 and python3-matplotlib (scripts/setup.sh does)\n";
    return kExitRuntime;
  }
  const char* old_path = std::getenv("PYTHONPATH");
  const std::string path = package_dir + (old_path && *old_path ? ":" + std::string(old_path) : "");
  if (setenv("PYTHONPATH", path.c_str(), 1) != 0) {
    std::cerr << "punchlab report: cannot set PYTHONPATH: " << std::strerror(errno) << "\n";
    return kExitRuntime;
  }

  std::vector<std::string> args = {python, "-m", "punchlab.report"};
  args.insert(args.end(), argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  std::vector<char*> c_args;
  for (std::string& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  execv(python.c_str(), c_args.data());
  std::cerr << "punchlab report: cannot run " << python << ": " << std::strerror(errno) << "\n";
  return kExitRuntime;
#endif
}

const SubcommandRegistration kRegistration(
    "report", "write an HTML report (plots, verdicts) from results and matrix directories",
    RunReport);

}  // namespace
}  // namespace punchlab::cli
