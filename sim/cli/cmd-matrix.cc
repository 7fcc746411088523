// punchlab matrix --nats A,B,... [--out DIR] [--jobs N] [--real] [--seed N]
//                 [--duration D] [--pps N]
//
// Every ordered pair of the given NAT presets becomes one generated scenario
// (scenario/generate.h: alice behind A, bob behind B, probes both ways),
// written to DIR/scenarios/ and run by a child `punchlab run` process, up to
// --jobs at a time, each into DIR/cells/<scenario>/. A progress line follows
// the cells as they finish; the grid goes to DIR/matrix.json, matrix.md and
// matrix.html (results/matrix.h) and to stdout. Nothing is decided here:
// each cell's path is what its run observed.
//
// Exit 0 when every cell ran, 2 for bad flags, 4 when a cell could not run
// (its child's stderr is quoted).
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "lab/child-process.h"
#include "lab/command.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "nat-core/nat-config.h"
#include "results/matrix.h"
#include "results/read-json.h"
#include "results/write-directory.h"
#include "scenario/generate.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string PresetNames() {
  std::string out;
  for (const nat::NatPreset& p : nat::NatPresets()) {
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

std::vector<std::string> ParseNats(const std::string& text) {
  std::vector<std::string> nats;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (nat::FindNatPreset(name) == nullptr) {
      throw UsageError("--nats: '" + name + "' is not a NAT preset (presets: " + PresetNames() +
                       ")");
    }
    if (std::find(nats.begin(), nats.end(), name) != nats.end()) {
      throw UsageError("--nats: '" + name + "' is given twice");
    }
    nats.push_back(name);
  }
  if (nats.empty()) throw UsageError("--nats: give at least one preset (presets: " + PresetNames() + ")");
  return nats;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find the punchlab binary (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

struct Cell {
  std::string a, b, name, file;
  std::unique_ptr<lab::ChildProcess> child;
  std::optional<results::MatrixCell> result;
  std::string error;
};

// "[########........] 5/16 full-cone--symmetric: direct 0.548s"
void Progress(size_t done, size_t total, const Cell& cell, bool tty) {
  constexpr size_t kWidth = 24;
  const size_t filled = total == 0 ? kWidth : done * kWidth / total;
  std::string line = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] " +
                     std::to_string(done) + "/" + std::to_string(total) + " " + cell.a + " -- " +
                     cell.b + ": ";
  if (cell.result) {
    line += scenario::ToString(cell.result->path);
  } else {
    line += "failed";
  }
  if (tty) {
    std::cerr << "\r\033[K" << line << (done == total ? "\n" : "") << std::flush;
  } else {
    std::cerr << line << "\n";
  }
}

int RunMatrix(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("nats", po::value<std::string>()->value_name("A,B,..."),
       "NAT presets, comma-separated (default: the classic four)")
      ("out", po::value<std::string>()->default_value("matrix")->value_name("DIR"),
       "where the grid, the scenarios and every cell's results go")
      ("jobs,j", po::value<unsigned>()->value_name("N"),
       "cells run at once (default: the number of cores; 1 with --real)")
      ("real", po::bool_switch(), "run the cells in the real namespace lab (root)")
      ("seed", po::value<uint64_t>()->default_value(1)->value_name("N"), "seed of every cell")
      ("duration", po::value<std::string>()->default_value("60s")->value_name("D"),
       "simulated time per cell")
      ("pps", po::value<unsigned>()->default_value(10)->value_name("N"),
       "probes per second, each way");
  po::variables_map vm;
  try {
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "punchlab matrix: " << e.what() << " (see 'punchlab matrix --help')\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "Usage: punchlab matrix [--nats A,B,...] [options]\n\n"
                 "Runs every ordered pair of NAT presets (alice behind A, bob behind B)\n"
                 "as a scenario, in parallel child processes, and writes the grid of\n"
                 "paths and times to direct: DIR/matrix.json, matrix.md, matrix.html;\n"
                 "each cell's results are in DIR/cells/<scenario>/.\n"
                 "Presets: " << PresetNames() << "\n\n"
              << options;
    return kExitOk;
  }

  std::vector<std::string> nats;
  scenario::PairScenarioSpec spec;
  unsigned jobs = 1;
  try {
    nats = ParseNats(vm.count("nats") ? vm["nats"].as<std::string>()
                                      : "full-cone,restricted-cone,port-restricted-cone,symmetric");
    const std::optional<Duration> d = Duration::Parse(vm["duration"].as<std::string>());
    if (!d || *d <= Duration::Zero() || *d > Duration::Seconds(24 * 3600)) {
      throw UsageError("--duration: '" + vm["duration"].as<std::string>() +
                       "' is not a duration from 1ns to 24h (write e.g. 60s, 2m)");
    }
    spec.duration = *d;
    spec.packets_per_second = vm["pps"].as<unsigned>();
    if (spec.packets_per_second < 1 || spec.packets_per_second > 1000) {
      throw UsageError("--pps: must be from 1 to 1000");
    }
    spec.seed = vm["seed"].as<uint64_t>();
    const unsigned cores = std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
    jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>() : (vm["real"].as<bool>() ? 1 : cores);
    if (jobs < 1 || jobs > 64) throw UsageError("--jobs: must be from 1 to 64");
  } catch (const UsageError& e) {
    std::cerr << "punchlab matrix: " << e.what() << "\n";
    return kExitUsage;
  }
  const bool real = vm["real"].as<bool>();
  const std::string out = vm["out"].as<std::string>();

  std::deque<Cell> cells;
  try {
    for (const std::string& a : nats) {
      for (const std::string& b : nats) {
        spec.nat_a = a;
        spec.nat_b = b;
        Cell c;
        c.a = a;
        c.b = b;
        c.name = scenario::PairScenarioName(a, b);
        c.file = out + "/scenarios/" + c.name + ".yaml";
        const std::string yaml = scenario::PairScenarioYaml(spec);
        // The generator and the loader must agree; a mismatch is our bug.
        const scenario::LoadResult check = scenario::LoadScenarioText(yaml, c.file);
        if (!check.ok()) {
          throw std::logic_error("generated scenario " + c.file +
                                 " does not load: " + check.errors.front().ToString());
        }
        results::WriteTextFile(c.file, yaml);
        cells.push_back(std::move(c));
      }
    }
  } catch (const std::runtime_error& e) {
    std::cerr << "punchlab matrix: " << e.what() << "\n";
    return kExitRuntime;
  }

  const std::string self = SelfPath();
  const bool tty = isatty(STDERR_FILENO) != 0;
  size_t next = 0;
  size_t done = 0;
  std::vector<Cell*> running;
  lab::InterruptGuard guard;  // Ctrl-C stops the children (their destructors)
  try {
    while (done < cells.size()) {
      while (running.size() < jobs && next < cells.size()) {
        Cell& c = cells[next++];
        std::vector<std::string> child = {self, "run", "--quiet", "--out", out + "/cells",
                                          c.file};
        if (real) child.push_back("--real");
        c.child = std::make_unique<lab::ChildProcess>(child);
        running.push_back(&c);
      }
      // Wait for the oldest; poll the others, so a fast cell is reported at once.
      running.front()->child->WaitExit(Duration::Millis(20));
      for (auto it = running.begin(); it != running.end();) {
        Cell& c = **it;
        if (!c.child->exited()) {
          ++it;
          continue;
        }
        const int code = c.child->exit_code();
        if (code == kExitOk || code == kExitExpectationFailed) {
          try {
            const std::string dir = "cells/" + c.name;
            c.result = results::CellFromResults(
                c.a, c.b, results::ReadResultsJson(out + "/" + dir + "/results.json"), dir);
          } catch (const std::exception& e) {
            c.error = e.what();
          }
        } else {
          c.error = c.child->DescribeStatus() + ": " + lab::TrimRight(c.child->Stderr());
        }
        ++done;
        Progress(done, cells.size(), c, tty);
        it = running.erase(it);
      }
    }
  } catch (const lab::Interrupted&) {
    running.clear();
    cells.clear();  // stops every child
    lab::ReraiseCaughtSignal();
    return kExitRuntime;
  }

  results::Matrix m;
  m.mode = real ? results::Mode::kReal : results::Mode::kSimulation;
  m.seed = spec.seed;
  m.duration = spec.duration;
  m.nats = nats;
  int exit_code = kExitOk;
  for (const Cell& c : cells) {
    if (c.result) {
      m.cells.push_back(*c.result);
    } else {
      std::cerr << "punchlab matrix: cell " << c.a << " -- " << c.b << " did not run: " << c.error
                << "\n";
      exit_code = kExitRuntime;
    }
  }
  try {
    results::WriteMatrixFiles(out, m);
  } catch (const std::exception& e) {
    std::cerr << "punchlab matrix: " << e.what() << "\n";
    return kExitRuntime;
  }
  std::cout << results::MatrixMarkdown(m) << "\nwritten: " << out << "/matrix.json, " << out
            << "/matrix.md, " << out << "/matrix.html; cells in " << out << "/cells/\n";
  return exit_code;
}

const SubcommandRegistration kRegistration(
    "matrix", "run every pair of NAT presets and write the grid of paths (in parallel)", RunMatrix);

}  // namespace
}  // namespace punchlab::cli
