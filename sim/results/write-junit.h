// junit.xml for CI systems: one <testsuite> (the scenario) with one
// <testcase> per expectation; a failed one carries <failure message=observed>.
// Written by hand: the format is tiny, and XmlEscape keeps any text (scenario
// descriptions, notes) well-formed.
#pragma once

#include <string>
#include <string_view>

#include "results/results.h"

namespace punchlab {
namespace results {

// &, <, >, " and ' as entities; control characters XML 1.0 cannot carry
// (everything below 0x20 except tab, newline, carriage return) become '?'.
std::string XmlEscape(std::string_view text);

std::string JunitXmlText(const Results& results);

}  // namespace results
}  // namespace punchlab
