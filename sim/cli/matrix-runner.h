// Runs the cells of a NAT matrix (results/matrix.h) as child `punchlab run`
// processes, up to `jobs` at a time, with a progress line on stderr: shared
// by `punchlab matrix`, `punchlab bench` and the demo.
//
// Every ordered pair of `nats` becomes a generated scenario (alice behind a,
// bob behind b: scenario/generate.h) in <out>/scenarios/, run into
// <out>/cells/<scenario>/. Nothing is decided here: each cell is what its
// run observed.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/shard.h"
#include "results/matrix.h"
#include "results/write-junit.h"
#include "scenario/generate.h"

namespace punchlab::cli {

// The classic four: full cone, restricted cone, port-restricted cone, symmetric.
inline const std::vector<std::string> kClassicNats = {"full-cone", "restricted-cone",
                                                      "port-restricted-cone", "symmetric"};

struct MatrixRunOptions {
  std::vector<std::string> nats;
  scenario::PairScenarioSpec spec;  // duration, packets per second, seed (nat_a/b ignored)
  unsigned jobs = 1;
  bool real = false;
  std::string out;
  std::optional<Shard> shard;  // run only this shard's cells (row order)
  std::string program_file;  // where spec.program_yaml came from, for errors
  std::vector<std::string> service_files;  // where spec.services[i] came from
  // Non-zero: each cell's address space is capped at this many MiB
  // (set in the forked cell; prlimit(1) for a real one), and a cell that
  // needs more fails (the bench).
  uint64_t cell_address_space_mib = 0;
};

// The --program file does not make a valid node program (file:line:col lines).
struct ProgramRejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MatrixRun {
  results::Matrix matrix;           // the cells that ran
  std::vector<std::string> errors;  // "cell a -- b did not run: ..." for the others
  uint64_t events = 0;              // simulator events of all cells (simulation only)
  // Every cell in grid order with its wall time (start to exit of its child)
  // and its results, or the error that kept it from running: the matrix's
  // junit.xml.
  std::vector<results::JunitRun> junit;
};

// Throws std::runtime_error when the files cannot be written; lab::Interrupted
// (after stopping every child) on Ctrl-C.
MatrixRun RunMatrixCells(const MatrixRunOptions& options);

// The path of the running binary, to start children of.
std::string SelfPath();

}  // namespace punchlab::cli
