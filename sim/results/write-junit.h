// junit.xml for CI systems: one <testsuite> per scenario with one <testcase>
// per expectation; a failed one carries <failure message=observed>.
//
// Two forms. A results directory's junit.xml (JunitXmlText) holds its one
// scenario and no wall times, so it is byte-identical for one seed. The
// aggregate junit.xml that `punchlab run` and `punchlab matrix` write beside
// the results directories (JunitAggregateText) holds every scenario of the
// run with time= on every suite and testcase: each suite starts with a
// testcase named "run", the scenario's run with its wall time (an <error>
// when it could not happen), followed by its expectations, which are judged
// from the run's records and so carry time="0.000".
//
// The XML is written by libxml2 (xmlwriter), which escapes markup; XmlSafeText
// only makes the text something XML 1.0 can carry at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "results/results.h"

namespace punchlab {
namespace results {

// `text` as XML 1.0 can carry it: bytes that are not UTF-8 become U+FFFD,
// control characters other than tab, newline and carriage return become '?'.
// Markup is left alone (the writer escapes it).
std::string XmlSafeText(std::string_view text);

std::string JunitXmlText(const Results& results);

// One scenario of a multi-scenario run: its results, or the error that kept
// it from running (then `results` holds only its name, file, mode and seed).
struct JunitRun {
  Results results;
  double wall_s = 0;
  std::optional<std::string> error;
};

// <testsuites> with the totals and a <testsuite time=...> per run.
std::string JunitAggregateText(const std::vector<JunitRun>& runs);

}  // namespace results
}  // namespace punchlab
