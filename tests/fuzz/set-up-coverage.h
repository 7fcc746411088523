// Forgetting the coverage of an input's honest set-up.
//
// The machine targets build the same honest world before every input (keys,
// handshakes, registrations): thousands of edges hit identically each time,
// which tell libFuzzer nothing about the input, yet it walks, counts and
// weighs every one of them after every run (in a perf profile of
// control-server's set-up-only inputs, libFuzzer's feature bookkeeping was
// 40 % of the time). ForgetSetUpCoverage() clears the inline 8-bit edge
// counters -fsanitize=fuzzer keeps, so what libFuzzer sees is what the
// input's own script did. An edge the script hits again counts as usual; the
// invariants are untouched.
//
// The counters' bounds are what the instrumented code hands libFuzzer at
// start-up (__sanitizer_cov_8bit_counters_init, wrapped at link time in
// set-up-coverage.cc, which is not instrumented).
#pragma once

namespace punchlab::fuzz {

void ForgetSetUpCoverage();

}  // namespace punchlab::fuzz
