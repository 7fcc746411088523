// "Did you mean ...?" for misspelt keys, names and values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace punchlab {
namespace scenario {

// The candidate closest to `word` when it is plausibly a misspelling: at most
// a third of the word's letters wrong (adjacent swaps count once; words of
// one or two letters must match but for case), or one is a prefix of the
// other (2+ letters). Case is ignored. Ties go to the earlier candidate.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "a, b, c"; more than `limit` items end in ", ... (N in all)".
std::string JoinNames(const std::vector<std::string>& names, size_t limit = 12);

}  // namespace scenario
}  // namespace punchlab
