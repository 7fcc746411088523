// punchlab matrix --nats A,B,... [--out DIR] [--jobs N] [--real] [--seed N]
//                 [--duration D] [--pps N] [--program FILE [--service NAME=FILE]...]
//
// With --program (and --real), both nodes of every cell run the program FILE
// describes (the YAML of a node's `run:` map) instead of punchlab's client,
// and the cells are judged by the lab's wire: the grid of a user's own peer.
// Each --service adds a node on the internet side running another program
// (service: true), such as the control server Tailscale's clients need.
//
// Every ordered pair of the given NAT presets becomes one generated scenario
// run by a child `punchlab run` process (cli/matrix-runner.h), up to --jobs
// at a time; the grid goes to DIR/matrix.json, matrix.md and matrix.html
// (results/matrix.h) and to stdout, and every cell as a test suite to
// DIR/junit.xml (results/write-junit.h).
//
// Exit 0 when every cell ran, 2 for bad flags, 4 when a cell could not run
// (its child's stderr is quoted).
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/shard.h"
#include "cli-common/subcommand.h"
#include "cli/matrix-runner.h"
#include "files/read-whole-file.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "punchlab/nat/nat-config.h"
#include "results/matrix.h"
#include "results/write-directory.h"
#include "results/write-junit.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

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
    std::string error;
    if (!name.empty() && !scenario::ParseMatrixNat(name, &error)) {
      throw UsageError("--nats: " + error + " (presets: " + PresetNames() +
                       "; add +pmp, +pcp or +upnp for a router that offers port mapping)");
    }
    if (name.empty()) {
      throw UsageError("--nats: '' is not a NAT preset (presets: " + PresetNames() + ")");
    }
    if (std::find(nats.begin(), nats.end(), name) != nats.end()) {
      throw UsageError("--nats: '" + name + "' is given twice");
    }
    nats.push_back(name);
  }
  if (nats.empty()) throw UsageError("--nats: give at least one preset (presets: " + PresetNames() + ")");
  return nats;
}

// The text of the file a flag names; a usage error saying why it cannot be read.
std::string ReadFlagFile(const std::string& flag, const std::string& file) {
  std::optional<std::string> text = files::ReadWholeFile(file);
  if (!text) throw UsageError(flag + ": cannot read " + file + ": " + std::strerror(errno));
  return std::move(*text);
}

int RunMatrix(const std::vector<std::string>& argv) {
  CommandSpec spec{"matrix", "matrix [--nats A,B,...] [options]",
                   "Runs every ordered pair of NAT presets (alice behind A, bob behind B)\n"
                   "as a scenario, in parallel child processes, and writes the grid of\n"
                   "paths and times to direct: DIR/matrix.json, matrix.md, matrix.html;\n"
                   "each cell's results are in DIR/cells/<scenario>/, and every cell is a\n"
                   "test suite (with its wall time) in DIR/junit.xml for CI.\n"
                   "Presets: " + PresetNames(),
                   po::options_description("Options"),
                   {}};
  spec.options.add_options()
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
       "probes per second, each way")
      ("shard", po::value<std::string>()->value_name("INDEX/COUNT"),
       "run cells INDEX, INDEX+COUNT, ... in row order (default: GTEST_SHARD_INDEX/"
       "GTEST_TOTAL_SHARDS if set); the grid then holds this shard's cells")
      ("program", po::value<std::string>()->value_name("FILE"),
       "both nodes run this program instead of punchlab's client (FILE: the YAML of a "
       "node's run: map); needs --real")
      ("service", po::value<std::vector<std::string>>()->value_name("NAME=FILE"),
       "with --program: a node NAME on the internet side runs this program (FILE: its run: "
       "map, saying service: true), e.g. the control server the programs register with; "
       "repeatable");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  const std::vector<std::string> nats =
      vm.count("nats") ? ParseNats(vm["nats"].as<std::string>()) : kClassicNats;
  scenario::PairScenarioSpec cell;
  cell.duration = ParseDurationFlag("--duration", vm["duration"].as<std::string>());
  cell.packets_per_second = vm["pps"].as<unsigned>();
  if (cell.packets_per_second < 1 || cell.packets_per_second > 1000) {
    throw UsageError("--pps: must be from 1 to 1000");
  }
  cell.seed = vm["seed"].as<uint64_t>();
  if (vm.count("program")) {
    if (!vm["real"].as<bool>()) {
      throw UsageError("--program: programs run only in the real lab; add --real");
    }
    const std::string file = vm["program"].as<std::string>();
    cell.program_yaml = ReadFlagFile("--program", file);
    if (cell.program_yaml.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw UsageError("--program: " + file + " is empty; write a run: map, e.g. command: [my-peer]");
    }
  }
  std::vector<std::string> service_files;
  if (vm.count("service")) {
    if (!vm.count("program")) throw UsageError("--service: only with --program");
    for (const std::string& arg : vm["service"].as<std::vector<std::string>>()) {
      const size_t eq = arg.find('=');
      const std::string name = eq == std::string::npos ? "" : arg.substr(0, eq);
      if (name.empty() || name == "alice" || name == "bob" ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
        throw UsageError("--service: '" + arg +
                         "' is not NAME=FILE with a node name other than alice and bob");
      }
      const std::string file = arg.substr(eq + 1);
      std::string text = ReadFlagFile("--service", file);
      for (const auto& [other, run] : cell.services) {
        if (other == name) throw UsageError("--service: '" + name + "' is given twice");
      }
      cell.services.emplace_back(name, std::move(text));
      service_files.push_back(file);
    }
  }
  const unsigned cores = std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  const unsigned jobs =
      vm.count("jobs") ? vm["jobs"].as<unsigned>() : (vm["real"].as<bool>() ? 1 : cores);
  if (jobs < 1 || jobs > 64) throw UsageError("--jobs: must be from 1 to 64");
  const std::string out = vm["out"].as<std::string>();

  MatrixRunOptions run_options;
  run_options.nats = nats;
  run_options.spec = cell;
  run_options.jobs = jobs;
  run_options.real = vm["real"].as<bool>();
  run_options.out = out;
  run_options.shard = ResolveShard(
      vm.count("shard") ? std::optional<std::string>(vm["shard"].as<std::string>()) : std::nullopt);
  if (vm.count("program")) run_options.program_file = vm["program"].as<std::string>();
  run_options.service_files = service_files;
  MatrixRun run;
  try {
    run = RunMatrixCells(run_options);
  } catch (const lab::Interrupted&) {
    lab::ReraiseCaughtSignal();
    return kExitRuntime;
  } catch (const ProgramRejected& e) {
    std::cerr << e.what() << "\n";
    return kExitBadScenario;
  } catch (const std::runtime_error& e) {
    std::cerr << "punchlab matrix: " << e.what() << "\n";
    return kExitRuntime;
  }
  const results::Matrix& m = run.matrix;
  int exit_code = kExitOk;
  for (const std::string& error : run.errors) {
    std::cerr << "punchlab matrix: " << error << "\n";
    exit_code = kExitRuntime;
  }
  try {
    results::WriteMatrixFiles(out, m);
    results::WriteTextFile(out + "/junit.xml", results::JunitAggregateText(run.junit));
  } catch (const std::exception& e) {
    std::cerr << "punchlab matrix: " << e.what() << "\n";
    return kExitRuntime;
  }
  std::cout << results::MatrixMarkdown(m) << "\nwritten: " << out << "/matrix.json, " << out
            << "/matrix.md, " << out << "/matrix.html, " << out << "/junit.xml; cells in " << out
            << "/cells/\n";
  return exit_code;
}

const SubcommandRegistration kRegistration(
    "matrix", "run every pair of NAT presets and write the grid of paths (in parallel)", RunMatrix);

}  // namespace
}  // namespace punchlab::cli
