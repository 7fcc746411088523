// Reads results.json back (punchlab compare and matrix read their child runs'
// files). Strict: the format tag, every documented key and its type are
// checked; the first problem throws ResultsReadError naming the file and the
// key ("out/results.json: pairs[0].probes_sent: expected a non-negative integer").
// Probes are not in results.json: `probes` comes back empty.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "results/results.h"

namespace punchlab {
namespace results {

class ResultsReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws ResultsReadError "PATH: cannot read: <why>" for a file that cannot
// be read, and names PATH in every other error.
Results ReadResultsJson(const std::string& path);
// `name` stands for the text in error messages.
Results ParseResultsJson(std::string_view text, const std::string& name);

}  // namespace results
}  // namespace punchlab
