// Program nodes in the lab (scenario.h Program): the facts filled into
// their command, environment and files, the command line the lab runs, and
// what their output shows. Pure: lab-processes.cc starts and watches them.
//
// A program runs as
//   ip netns exec <ns> prlimit --fsize=<max_output> env -C <dir> -- NAME=VALUE... command...
// so it runs in its own working directory with its files, and a program
// that writes more than max_output to stdout, stderr or any file gets
// SIGXFSZ or EFBIG instead of filling the machine's memory (the lab also
// stops it as soon as it sees the output over the limit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/results.h"
#include "run-real/lab-plan.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

// The address the internet sees for node `node`: its outermost NAT's (first)
// external address, or its own when no NAT is above it.
std::string PublicAddress(const scenario::Scenario& s, const LabPlan& plan, size_t node);

// Every fact scenario/facts.h names, for node `node` running in `dir`;
// derp_cert_pins[i] is region i's certificate pin (sha256-raw:HEX, made when
// the lab starts its DERP servers).
std::map<std::string, std::string> ProgramFacts(const scenario::Scenario& s, const LabPlan& plan,
                                                size_t node, const std::string& dir,
                                                uint64_t seed,
                                                const std::vector<std::string>& derp_cert_pins);

// The command line after `ip netns exec <ns>` (facts filled in).
std::vector<std::string> ProgramArgv(const scenario::Program& program,
                                     const std::map<std::string, std::string>& facts,
                                     const std::string& dir);

// Why argv0 cannot be executed from `dir` (as execvp would look it up: in
// PATH, or relative to dir when it holds a '/'); nullopt when it can.
std::optional<std::string> CannotExecute(const std::string& argv0, const std::string& dir,
                                         const std::string& path_env);

// For each pattern, the first line of `out` then `err` it matches.
std::vector<std::optional<std::string>> MatchOutput(const std::vector<std::string>& patterns,
                                                    const std::string& out,
                                                    const std::string& err);

// A program's own view of its paths: each stdout line that is a JSON object
// {"punchlab": "path", "peer": NAME, "path": "direct"|"derp"|"local"|"none",
//  "unix_ms": MILLISECONDS} (Unix time when it saw the path), in run time
// (`epoch_unix_ns`: the run's t=0). Other lines are the program's own;
// lines with "punchlab": "path" that break the rules are counted in
// `malformed`.
std::vector<results::ProgramReport::ReportedPath> ReportedPaths(const std::string& out,
                                                                int64_t epoch_unix_ns,
                                                                size_t& malformed);

}  // namespace punchlab::runreal
