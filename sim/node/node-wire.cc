// punchlab-node wire: the real lab's userspace wire (wire-engine.h). The lab
// starts one per run as root and drives it through stdin (link/wire-protocol.h);
// it ends when stdin closes or its parent dies.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/wire-engine.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "wire", "wire --seed N [--realtime PRIORITY]",
      "Joins pairs of TAP devices in network namespaces and applies each direction's\n"
      "link model: delay, jitter that never reorders, loss, a rate with a 1 s queue,\n"
      "down. Commands come on stdin, one per line, each answered on stdout:\n"
      "  <seq> link <name> <netns-a> <if-a> <netns-b> <if-b>\n"
      "  <seq> shape <name> <ab|ba> <delay_ns> <jitter_ns> <loss> <rate_bps> <up|down>\n"
      "  <seq> stats\n"
      "The real lab (punchlab run --real) starts it; it needs root (setns, /dev/net/tun)\n"
      "and ends when stdin closes or the process that started it dies.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("seed", po::value<uint64_t>()->default_value(1), "loss and jitter draw from this seed")
      ("realtime", po::value<int>()->value_name("PRIORITY"),
       "run at SCHED_FIFO PRIORITY (1-99) so deliveries keep their time on a loaded machine");
  return spec;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  // Dies with whoever started it, even by SIGKILL: its TAP devices go with it.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() == 1) return kExitRuntime;
  if (vm.count("realtime")) {
    const int priority = vm["realtime"].as<int>();
    if (priority < 1 || priority > 99) throw UsageError("--realtime: a priority from 1 to 99");
    if (!wire::WireEngine::MakeRealtime(priority)) {
      std::cerr << "punchlab-node wire: SCHED_FIFO refused (" << std::strerror(errno)
                << "); running at normal priority\n";
    }
  }
  wire::WireEngine engine(vm["seed"].as<uint64_t>());
  return engine.Run(STDIN_FILENO, STDOUT_FILENO);
}

const SubcommandRegistration kRegistration(
    "wire", "the real lab's userspace wire (TAP pairs with a link model)", Run);

}  // namespace
}  // namespace punchlab::cli
