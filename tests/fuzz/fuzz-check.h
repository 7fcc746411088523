// What a fuzz target asserts. A broken invariant prints what and where, then
// aborts, which libFuzzer reports as a crash with the input that caused it.
// (assert() would vanish under NDEBUG; these never do.)
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

#include "punchlab/stream-machine.h"

namespace punchlab::fuzz {

// testsupport::ServerWiring's `stray` hook in every server target: the
// server writes only to connections it holds; closing one it has already
// forgotten is harmless.
inline void CheckStray(const StreamAction& a) { FUZZ_CHECK(a.kind == StreamAction::Kind::kClose); }

}  // namespace punchlab::fuzz
