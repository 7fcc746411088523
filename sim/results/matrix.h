// The NAT matrix (`punchlab matrix`): one cell per ordered pair of NAT
// presets, alice behind `a` and bob behind `b`, each cell a generated
// scenario run like any other (scenario/generate.h) with its own results
// directory. The grid is written three ways into the output directory:
//
//   matrix.json  a list of cells, row-major (for a in nats, for b in nats):
//                  [{"a": "full-cone", "b": "symmetric", "path": "direct",
//                    "time_to_direct_s": 0.548, "rtt_p50_ms": {"direct": 48.0},
//                    "probes_sent": 1180, "probes_lost": 6,
//                    "results": "cells/matrix-full-cone--symmetric",
//                    "mode": "simulation", "seed": 1, "duration_s": 60.0}, ...]
//                path is the pair's path state at the end of the run (direct,
//                derp, local, asymmetric or none); time_to_direct_s is the
//                pair summary's (from the first probe to the first probe that
//                crossed the direct path both ways), null when never direct;
//                rtt_p50_ms per round-trip path (direct, local, derp, mixed);
//                results is the cell's results directory, relative to the
//                matrix directory.
//   matrix.md    the grid as a Markdown table (rows: a, columns: b)
//   matrix.html  the same, self-contained, cells coloured by path
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/results.h"

namespace punchlab {
namespace results {

struct MatrixCell {
  std::string a;
  std::string b;
  PathKind path = PathKind::kNone;
  std::optional<Duration> time_to_direct;
  std::map<RoundTripPath, Duration> rtt_p50;
  uint64_t probes_sent = 0;
  uint64_t probes_lost = 0;
  std::string results_dir;  // relative to the matrix directory
};

struct Matrix {
  Mode mode = Mode::kSimulation;
  uint64_t seed = 1;
  Duration duration;
  std::vector<std::string> nats;  // rows and columns, in the order given
  std::vector<MatrixCell> cells;  // row-major: for a in nats, for b in nats
};

// A cell from its run's results (the pair alice-bob).
MatrixCell CellFromResults(const std::string& a, const std::string& b, const Results& results,
                           const std::string& results_dir);

std::string MatrixJsonText(const Matrix& m);
std::string MatrixMarkdown(const Matrix& m);
std::string MatrixHtml(const Matrix& m);
// Writes matrix.json, matrix.md and matrix.html into `dir`; throws
// std::runtime_error naming the file when one cannot be written.
void WriteMatrixFiles(const std::string& dir, const Matrix& m);

}  // namespace results
}  // namespace punchlab
