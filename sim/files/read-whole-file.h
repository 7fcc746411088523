// Reading a whole file: the one way the CLI, the results reader and the lab
// read one (the scenario loader reads at most its cap, scenario/loader.cc).
#pragma once

#include <optional>
#include <string>

namespace punchlab::files {

// The whole of file `path`, bytes as they are; nullopt, with errno saying
// why, when it cannot be opened or read (missing, a directory, no access).
// Callers that take an unreadable file as an empty one (a /proc file of a
// process that is gone, a capture never written) write .value_or("").
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace punchlab::files
