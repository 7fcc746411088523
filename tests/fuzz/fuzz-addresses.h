// Where the fuzz targets' servers listen: one place, so the targets that
// speak to the same kind of server (and their seed corpora, made by
// make-seeds.py) agree on it.
#pragma once

#include "punchlab/endpoint.h"

namespace punchlab::fuzz {

// The DERP targets' server (DERP over TLS's port).
inline const Endpoint kDerpServerAddr(IpAddress::V4(192, 0, 2, 1), 443);

// The control targets' server (the control server's port).
inline const Endpoint kControlServerAddr(IpAddress::V4(192, 0, 2, 1), 8443);

}  // namespace punchlab::fuzz
