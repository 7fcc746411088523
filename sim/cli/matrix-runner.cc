#include "cli/matrix-runner.h"

#include <algorithm>

#include <unistd.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/address-space-cap.h"
#include "cli/cmd-run.h"
#include "lab/child-process.h"
#include "lab/command.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "results/read-json.h"
#include "results/write-directory.h"
#include "run-sim/run-sim.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

struct Cell {
  std::string a, b, name, file;
  std::optional<scenario::Scenario> loaded;  // what `file` loads to (the check below)
  std::unique_ptr<lab::ChildProcess> child;
  std::chrono::steady_clock::time_point started;
  double wall_s = 0;
  std::optional<results::MatrixCell> result;
  results::Results results;
  std::string error;
};

// "[########........] 5/16 full-cone -- symmetric: direct"
void Progress(size_t done, size_t total, const Cell& cell, bool tty) {
  constexpr size_t kWidth = 24;
  const size_t filled = total == 0 ? kWidth : done * kWidth / total;
  std::string line = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] " +
                     std::to_string(done) + "/" + std::to_string(total) + " " + cell.a + " -- " +
                     cell.b + ": " +
                     (cell.result ? scenario::ToString(cell.result->path) : "failed");
  if (tty) {
    std::cerr << "\r\033[K" << line << (done == total ? "\n" : "") << std::flush;
  } else {
    std::cerr << line << "\n";
  }
}

}  // namespace

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find the punchlab binary (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

MatrixRun RunMatrixCells(const MatrixRunOptions& options) {
  std::deque<Cell> cells;
  scenario::PairScenarioSpec spec = options.spec;
  size_t index = 0;
  for (const std::string& a : options.nats) {
    for (const std::string& b : options.nats) {
      if (options.shard && !options.shard->Takes(index++)) continue;
      spec.nat_a = a;
      spec.nat_b = b;
      Cell c;
      c.a = a;
      c.b = b;
      c.name = scenario::PairScenarioName(a, b);
      c.file = options.out + "/scenarios/" + c.name + ".yaml";
      const std::string yaml = scenario::PairScenarioYaml(spec);
      // The generator and the loader must agree; a mismatch is our bug.
      scenario::LoadResult check = scenario::LoadScenarioText(yaml, c.file);
      if (!check.ok() && !options.program_file.empty()) {
        // The user's program or service: point into their file.
        const std::vector<scenario::GeneratedBlock> blocks = scenario::PairScenarioBlocks(spec);
        std::string message;
        for (scenario::Diagnostic d : check.errors) {
          for (const scenario::GeneratedBlock& block : blocks) {
            if (d.line < block.first_line || d.line > block.last_line) continue;
            d.file = block.service == 0 ? options.program_file
                                        : options.service_files.at(block.service - 1);
            d.line -= block.first_line - 1;
            d.column = std::max(1, d.column - block.indent);
            break;
          }
          message += (message.empty() ? "" : "\n") + d.ToString();
        }
        throw ProgramRejected(message);
      }
      if (!check.ok()) {
        throw std::logic_error("generated scenario " + c.file +
                               " does not load: " + check.errors.front().ToString());
      }
      results::WriteTextFile(c.file, yaml);
      c.loaded = std::move(check.scenario);
      cells.push_back(std::move(c));
    }
  }

  MatrixRun run;
  const std::string self = SelfPath();
  // Simulated cells run in forked copies of this process (it has run no
  // simulation, so each starts from a fresh ns-3, as an exec'd `punchlab
  // run` would), which spares each the program's start: dynamic linking,
  // static initialisers and ns-3's first random stream, about a fifth of a
  // cell's instructions. Real cells exec (the lab runs as its own program).
  if (!options.real) runsim::WarmUpForForkedRuns();
  const bool tty = isatty(STDERR_FILENO) != 0;
  size_t next = 0;
  size_t done = 0;
  std::vector<Cell*> running;
  lab::InterruptGuard guard;  // Ctrl-C: the children are stopped as `cells` goes
  while (done < cells.size()) {
    while (running.size() < options.jobs && next < cells.size()) {
      Cell& c = cells[next++];
      // --no-junit: the cells run side by side into one directory; the
      // matrix writes the one junit.xml of them all.
      std::vector<std::string> args = {"run", "--quiet", "--no-junit", "--out",
                                       options.out + "/cells", c.file};
      c.started = std::chrono::steady_clock::now();
      if (options.real) {
        args.insert(args.begin(), self);
        args.push_back("--real");
        if (options.cell_address_space_mib > 0) {
          args.insert(args.begin(), {"prlimit",
                                     "--as=" + std::to_string(options.cell_address_space_mib << 20),
                                     "--"});
        }
        c.child = std::make_unique<lab::ChildProcess>(args);
      } else {
        c.child = std::make_unique<lab::ChildProcess>(
            ProgramName() + " " + lab::JoinCommand(args),
            // The cell runs the scenario this process loaded from the file
            // (a fork shares it) instead of loading the file again.
            [args, cap = options.cell_address_space_mib, loaded = &*c.loaded]() -> int {
              if (cap > 0) CapAddressSpace(cap);
              // Ends as DispatchSubcommand ends `punchlab run`: a usage
              // error exits 2, anything else 4 (the parent shows the code).
              try {
                return RunLoadedScenario(args, *loaded);
              } catch (const UsageError& e) {
                std::cerr << ProgramName() << " run: " << e.what() << "\n";
                return kExitUsage;
              } catch (const std::exception& e) {
                std::cerr << ProgramName() << " run: " << e.what() << "\n";
                return kExitRuntime;
              }
            },
            lab::ChildProcess::Forked{});
      }
      running.push_back(&c);
    }
    // Wait for whichever ends first, so a fast cell is reported (and its slot
    // refilled) at once.
    std::vector<lab::ChildProcess*> children;
    for (Cell* c : running) children.push_back(c->child.get());
    lab::ChildProcess::WaitAnyExit(children, Duration::Seconds(1));
    for (auto it = running.begin(); it != running.end();) {
      Cell& c = **it;
      if (!c.child->exited()) {
        ++it;
        continue;
      }
      c.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count();
      const int code = c.child->exit_code();
      if (code == kExitOk || code == kExitExpectationFailed) {
        try {
          const std::string dir = "cells/" + c.name;
          results::Results r = results::ReadResultsJson(options.out + "/" + dir + "/results.json");
          c.result = results::CellFromResults(c.a, c.b, r, dir);
          run.events += r.events_executed;
          c.results = std::move(r);
        } catch (const std::exception& e) {
          c.error = e.what();
        }
      } else {
        c.error = c.child->DescribeStatus() + ": " + lab::TrimRight(c.child->Stderr());
      }
      c.child.reset();
      ++done;
      Progress(done, cells.size(), c, tty);
      it = running.erase(it);
    }
  }

  run.matrix.mode = options.real ? results::Mode::kReal : results::Mode::kSimulation;
  run.matrix.seed = options.spec.seed;
  run.matrix.duration = options.spec.duration;
  run.matrix.nats = options.nats;
  for (const Cell& c : cells) {
    results::JunitRun junit{c.results, c.wall_s, std::nullopt};
    if (c.result) {
      run.matrix.cells.push_back(*c.result);
    } else {
      run.errors.push_back("cell " + c.a + " -- " + c.b + " did not run: " + c.error);
      junit.results.scenario = c.name;
      junit.results.file = c.file;
      junit.results.seed = options.spec.seed;
      junit.results.mode = run.matrix.mode;
      junit.error = c.error;
    }
    run.junit.push_back(std::move(junit));
  }
  return run;
}

}  // namespace punchlab::cli
