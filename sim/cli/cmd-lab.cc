// punchlab lab clean: removes what a real lab left behind. A lab removes
// itself when it ends, also on a signal, and its guard process removes it
// when the lab's process is killed (lab/netns-lab.h); this is for what
// survives both (the guard killed too). It deletes the network namespaces
// named plab<pid>x<n>-* whose creating process is gone (with the processes
// inside them and their nftables tables) and leaves running labs alone.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "lab/lab-error.h"
#include "lab/netns-lab.h"

namespace punchlab::cli {
namespace {

int RunLab(const std::vector<std::string>& argv) {
  CommandSpec spec{"lab", "lab clean",
                   "Deletes the network namespaces (with their processes and nftables tables)\n"
                   "that a real lab (run --real, compare, classify --real) left behind when its\n"
                   "process was killed, and prints their names. Running labs are left alone.\n"
                   "Needs root.",
                   boost::program_options::options_description("Options"),
                   {}};
  spec.positional.add("action", 1);
  boost::program_options::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  const std::vector<std::string> action =
      vm.count("action") ? vm["action"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (action.empty()) throw UsageError("give what to do: clean");
  if (action[0] != "clean") throw UsageError("'" + action[0] + "' is not an action (the one action is clean)");
  if (geteuid() != 0) {
    std::cerr << "punchlab lab clean: needs root (network namespaces)\n";
    return kExitRuntime;
  }
  try {
    const std::vector<std::string> removed = lab::RemoveStaleLabs();
    for (const std::string& name : removed) std::cout << "removed " << name << "\n";
    std::cout << removed.size() << " stale lab namespace" << (removed.size() == 1 ? "" : "s")
              << " removed\n";
  } catch (const lab::LabError& e) {
    std::cerr << "punchlab lab clean: " << e.what() << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration("lab", "lab clean: remove what a killed real lab left behind",
                                           RunLab);

}  // namespace
}  // namespace punchlab::cli
