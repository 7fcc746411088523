#include "results/results.h"

#include <algorithm>

namespace punchlab {
namespace results {

const char* ToString(Mode m) {
  switch (m) {
    case Mode::kSimulation: return "simulation";
    case Mode::kReal: return "real";
  }
  return "?";
}

bool Results::AllExpectationsOk() const {
  return std::all_of(expectations.begin(), expectations.end(),
                     [](const ExpectationResult& e) { return e.ok; });
}

}  // namespace results
}  // namespace punchlab
