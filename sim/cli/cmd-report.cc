// punchlab report RESULTS... -o FILE [--title TEXT] [--png-dir DIR]
//
// The HTML report (plots and verdicts) is Python (analysis/, matplotlib), so
// this subcommand only hands over: it runs `/usr/bin/python3 -m
// punchlab.report ARGS...` with the build tree's package directory
// (PUNCHLAB_PYTHON_DIR, set by bindings/CMakeLists.txt) first on PYTHONPATH
// and exits with its code. Flags, --help and messages are the Python side's
// (exit 0 written, 2 bad input, 4 matplotlib missing or output unwritable).
// PUNCHLAB_PYTHON names another interpreter (tests use it).
#include "cmd-report.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"

extern char** environ;

namespace punchlab::cli {
namespace {

constexpr const char* kDefaultPython = "/usr/bin/python3";

// environ with PYTHONPATH=<package dir>[:<the caller's PYTHONPATH>].
std::vector<std::string> ChildEnvironment(const std::string& package_dir) {
  std::vector<std::string> env;
  std::string python_path = package_dir;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    if (var.rfind("PYTHONPATH=", 0) == 0) {
      if (var.size() > 11) python_path += ":" + var.substr(11);
    } else {
      env.push_back(var);
    }
  }
  env.push_back("PYTHONPATH=" + python_path);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int RunReport(const std::vector<std::string>& argv) {
  return WriteReport(std::vector<std::string>(argv.begin() + (argv.empty() ? 0 : 1), argv.end()));
}

const SubcommandRegistration kRegistration(
    "report", "write an HTML report (plots, verdicts) from results and matrix directories",
    RunReport);

}  // namespace

int RunPythonModule(const std::string& command, const std::string& module,
                    const std::vector<std::string>& module_args,
                    const std::vector<std::string>& extra_env) {
#ifndef PUNCHLAB_PYTHON_DIR
  (void)module;
  (void)module_args;
  (void)extra_env;
  std::cerr << "punchlab " << command << ": this punchlab was built without the Python package "
               "(bindings/CMakeLists.txt sets PUNCHLAB_PYTHON_DIR); rebuild from the top-level "
               "CMakeLists.txt\n";
  return kExitRuntime;
#else
  const std::string package_dir = PUNCHLAB_PYTHON_DIR;
  std::string relative = module;
  std::replace(relative.begin(), relative.end(), '.', '/');
  const std::string entry = package_dir + "/" + relative + ".py";
  if (access(entry.c_str(), R_OK) != 0) {
    std::cerr << "punchlab " << command << ": the Python package is missing (" << entry << ": "
              << std::strerror(errno) << "); build the punchlab_python target\n";
    return kExitRuntime;
  }
  const char* env_python = std::getenv("PUNCHLAB_PYTHON");
  const std::string python = env_python && *env_python ? env_python : kDefaultPython;
  if (access(python.c_str(), X_OK) != 0) {
    std::cerr << "punchlab " << command << ": cannot run " << python << " (" << std::strerror(errno)
              << "); install Debian's python3 and python3-matplotlib (scripts/setup.sh does)\n";
    return kExitRuntime;
  }

  std::vector<std::string> args = {python, "-m", module};
  args.insert(args.end(), module_args.begin(), module_args.end());
  std::vector<std::string> env = ChildEnvironment(package_dir);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> c_args = Pointers(args);
  std::vector<char*> c_env = Pointers(env);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = 0;
  const int err = posix_spawn(&pid, python.c_str(), nullptr, nullptr, c_args.data(), c_env.data());
  if (err != 0) {
    std::cerr << "punchlab " << command << ": cannot run " << python << ": " << std::strerror(err) << "\n";
    return kExitRuntime;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::cerr << "punchlab " << command << ": waiting for " << python << ": " << std::strerror(errno) << "\n";
      return kExitRuntime;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::cerr << "punchlab " << command << ": " << python << " was killed by signal " << WTERMSIG(status) << "\n";
  return kExitRuntime;
#endif
}


int WriteReport(const std::vector<std::string>& report_args) {
  return RunPythonModule("report", "punchlab.report", report_args);
}

}  // namespace punchlab::cli
