#include "punchlab/sodium.h"

#include <sodium.h>

#include <cstdlib>

namespace punchlab {

void EnsureSodium() {
  if (sodium_init() < 0) std::abort();
}

}  // namespace punchlab
