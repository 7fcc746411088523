// The real world's random source: the OS CSPRNG through libsodium. Lives here,
// not in protocol/, because protocol/ must never reach for global randomness.
#pragma once

#include "punchlab/random.h"

namespace punchlab::realio {

class OsRandom final : public RandomSource {
 public:
  OsRandom();
  void Fill(uint8_t* out, size_t n) override;
};

}  // namespace punchlab::realio
