// libsodium must be initialised once before its primitives pick their
// implementations; every machine that uses crypto calls EnsureSodium() first.
#pragma once

namespace punchlab {

// Idempotent and thread-safe (sodium_init is). Aborts if libsodium cannot
// initialise, since no key or nonce could be trusted after that.
void EnsureSodium();

}  // namespace punchlab
