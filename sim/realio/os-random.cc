#include "realio/os-random.h"

#include <sodium.h>

#include "punchlab/sodium.h"

namespace punchlab::realio {

OsRandom::OsRandom() { EnsureSodium(); }

void OsRandom::Fill(uint8_t* out, size_t n) { randombytes_buf(out, n); }

}  // namespace punchlab::realio
