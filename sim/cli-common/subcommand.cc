#include "cli-common/subcommand.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <map>

#include "cli-common/flags.h"

namespace punchlab::cli {

namespace {

std::string& Program() {
  static std::string program = "punchlab";
  return program;
}

std::map<std::string, Subcommand>& Registry() {
  static std::map<std::string, Subcommand> registry;
  return registry;
}

void PrintUsage(std::ostream& out, const std::string& program, const std::string& description) {
  out << description << "\n\nUsage: " << program << " <subcommand> [options]\n\nSubcommands:\n";
  size_t width = 0;
  for (const auto& [name, cmd] : Registry()) width = std::max(width, name.size());
  for (const auto& [name, cmd] : Registry()) {
    out << "  " << name << std::string(width - name.size() + 2, ' ') << cmd.summary << "\n";
  }
  out << "\nRun '" << program << " <subcommand> --help' for its options.\n";
}

}  // namespace

SubcommandRegistration::SubcommandRegistration(
    std::string name, std::string summary,
    std::function<int(const std::vector<std::string>&)> run) {
  Subcommand cmd{name, std::move(summary), std::move(run)};
  Registry().emplace(std::move(name), std::move(cmd));
}

const std::string& ProgramName() { return Program(); }

int DispatchSubcommand(const std::string& program, const std::string& description, int argc,
                       char** argv) {
  Program() = program;
  if (argc < 2) {
    PrintUsage(std::cerr, program, description);
    return kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--version" || name == "-V" || name == "version") {
    if (argc > 2) {
      std::cerr << program << ": " << name << " takes no arguments (got '" << argv[2] << "')\n";
      return kExitUsage;
    }
    std::cout << program << " " << PUNCHLAB_VERSION << "\n";
    return kExitOk;
  }
  if (name == "--help" || name == "-h" || name == "help") {
    if (argc == 2) {
      PrintUsage(std::cout, program, description);
      return kExitOk;
    }
    // `help NAME` is `NAME --help`; anything else after --help is a mistake
    // the user should hear about (exit 2), not a silent success.
    const auto topic = Registry().find(argv[2]);
    if (argc > 3 || topic == Registry().end()) {
      const char* unexpected = topic == Registry().end() ? argv[2] : argv[3];
      std::cerr << program << ": " << name << ": unexpected '" << unexpected << "' (usage: "
                << program << " --help, or " << program << " help <subcommand>)\n";
      return kExitUsage;
    }
    argv[1] = argv[2];
    argv[2] = const_cast<char*>("--help");
    return DispatchSubcommand(program, description, argc, argv);
  }
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    std::cerr << program << ": unknown subcommand '" << name << "' (see '" << program
              << " --help')\n";
    return kExitUsage;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return it->second.run(args);
  } catch (const UsageError& e) {
    std::cerr << program << " " << name << ": " << e.what() << " (see '" << program << " "
              << name << " --help')\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // A subcommand that cannot go on (a socket that will not bind, a lab that
    // cannot be built) says why in one line; nothing ends uncaught.
    std::cerr << program << " " << name << ": " << e.what() << "\n";
    return kExitRuntime;
  }
}

}  // namespace punchlab::cli
