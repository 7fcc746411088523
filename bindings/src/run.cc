// Running a scenario in ns-3 (sim/run-sim/run-sim.h) from Python. The run
// releases the GIL, so other Python threads keep going while ns-3 works; runs
// themselves are serialised, because ns-3 has one global simulator per process.
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <string>

#include "bind.h"
#include "results/run-options.h"
#include "results/write-directory.h"
#include "run-sim/run-sim.h"

namespace punchlab::python {
namespace {

std::mutex& SimulatorMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

void BindRun(py::module_& m) {
  py::register_exception<results::RunError>(m, "RunError", PyExc_RuntimeError);
  m.def(
      "run_simulation",
      [](const scenario::Scenario& scenario, std::optional<uint64_t> seed, const std::string& out_dir,
         bool pcap) {
        results::RunOptions options;
        options.seed = seed;
        options.out_dir = out_dir;
        options.pcap = pcap;
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(SimulatorMutex());
        results::Results r = runsim::RunInSimulation(scenario, options);
        if (!out_dir.empty()) results::WriteResultsDirectory(out_dir, r);
        return r;
      },
      py::arg("scenario"), py::kw_only(), py::arg("seed") = py::none(), py::arg("out_dir") = "",
      py::arg("pcap") = false,
      "Runs a validated scenario in ns-3 (deterministic for a seed; `seed` overrides the "
      "scenario's) and returns its Results. With out_dir, writes the results directory there "
      "as `punchlab run --out` does (and pcap/<link>.pcap with pcap=True). Raises RunError when "
      "the world cannot be built.");
}

}  // namespace punchlab::python
