// run-real-driver SCENARIO OUT_DIR [--pcap]: runs one scenario in the real lab
// (runreal::RunInLab) and writes its results directory — what the real-lab
// pytest suite (tests/real/test_run_real.py) drives, independent of the CLI
// around it. Exit 0: every expectation held; 1: one did not; 3: the scenario
// was rejected; 4: the run could not happen.
#include <iostream>
#include <string>

#include "results/summary.h"
#include "results/write-directory.h"
#include "run-real/run-real.h"
#include "scenario/loader.h"

int main(int argc, char** argv) {
  using namespace punchlab;
  const bool pcap = argc == 4 && std::string(argv[3]) == "--pcap";
  if (argc != 3 && !pcap) {
    std::cerr << "usage: run-real-driver SCENARIO OUT_DIR [--pcap]\n";
    return 2;
  }
  const scenario::LoadResult loaded = scenario::LoadScenarioFile(argv[1]);
  if (!loaded.ok()) {
    for (const scenario::Diagnostic& d : loaded.errors) std::cerr << d.ToString() << "\n";
    return 3;
  }
  results::RunOptions options;
  options.out_dir = argv[2];
  options.pcap = pcap;
  try {
    const results::Results r = runreal::RunInLab(*loaded.scenario, options);
    results::WriteResultsDirectory(options.out_dir, r);
    std::cout << results::FormatSummary(r);
    return r.AllExpectationsOk() ? 0 : 1;
  } catch (const results::RunError& e) {
    std::cerr << "run-real-driver: " << e.what() << "\n";
    return 4;
  }
}
