// Where the fuzz targets' servers listen, and the DERP targets' keys: one
// place, so the targets that speak to the same kind of server (and their seed
// corpora, made by make-seeds.py) agree on them.
#pragma once

#include <cstdint>

#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"

namespace punchlab::fuzz {

// A key of 32 bytes `b`: a distinct, fixed key per byte (1: the server's).
inline KeyBytes Seed(uint8_t b) {
  KeyBytes k{};
  k.fill(b);
  return k;
}

// The DERP targets' server (DERP over TLS's port).
inline const Endpoint kDerpServerAddr(IpAddress::V4(192, 0, 2, 1), 443);

// The control targets' server (the control server's port).
inline const Endpoint kControlServerAddr(IpAddress::V4(192, 0, 2, 1), 8443);

}  // namespace punchlab::fuzz
