// Which local address the kernel would send from to reach a destination: a
// client that binds that address (rather than the wildcard) knows, and can
// report, the exact endpoint its datagrams leave from.
#pragma once

#include "punchlab/endpoint.h"

namespace punchlab::realio {

// Asks the routing table by connect()ing an unbound UDP socket (which sends
// nothing). Throws SocketError when there is no route.
IpAddress RouteSource(const IpAddress& destination);

}  // namespace punchlab::realio
