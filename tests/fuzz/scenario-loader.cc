// The scenario loader: any text as a scenario file. Invariants: it returns
// (libFuzzer's -timeout catches a hang like yaml-cpp 0.7's LoadAll loop, and
// -rss_limit_mb unbounded memory); a scenario comes back exactly when there
// are no errors; every error names the file and, when it has a position, a
// line and column inside the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz-check.h"
#include "scenario/loader.h"

using namespace punchlab::scenario;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const LoadResult r = LoadScenarioText(text, "fuzz.yaml");
  FUZZ_CHECK(r.ok() == r.errors.empty());
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const Diagnostic& d : r.errors) {
    FUZZ_CHECK(d.file == "fuzz.yaml");
    FUZZ_CHECK(!d.message.empty());
    FUZZ_CHECK(d.line >= 0 && d.line <= lines + 1);
    FUZZ_CHECK(d.column >= 0);
  }
  return 0;
}
