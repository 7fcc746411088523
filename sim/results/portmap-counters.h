// The port-mapping client's counters as results.json names them: the group
// "portmap/<node>" for every node that asks a gateway
// (scenario/meaning/port-mapping.h), the same names in both worlds. The
// ns-3 runner reads them from the Node (run-sim/counters.cc); the real
// lab's punchlab-node prints them as its summary's "portmap" object, which
// run-real/node-log.cc sums over the node's process runs.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "punchlab/portmap/client.h"
#include "punchlab/portmap/upnp-mapper.h"

namespace punchlab::results {

// With `upnp` (a node whose UPnP machine runs), its counters too, as
// "upnp_<field>".
std::map<std::string, uint64_t> PortMapClientCounters(const portmap::ClientStats& stats,
                                                      const portmap::UpnpMapperStats* upnp = nullptr);

}  // namespace punchlab::results
