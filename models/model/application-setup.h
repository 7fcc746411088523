// What the punchlab applications that host protocol/ machines share when they
// set up: their random streams and keys, and the address a server serves on.
//
// Random streams and keys are forked from a run seed.
// An application on node N at index I of kind K draws from
// DeterministicRandom(seed).Fork("node/N/app/I/K"), so adding a node or an
// application elsewhere does not shift its draws, and a run with the same
// seed is the same run. Long-lived keys come from their own fork
// ("node/N/app/I/K/key"): they can be read before the run starts (to pin a
// server key, fill a DERP map, configure clients) and stay the same across
// restarts of the application.
#pragma once

#include <cstdint>
#include <string>

#include "ns3/address.h"
#include "ns3/application.h"
#include "punchlab/endpoint.h"
#include "punchlab/random.h"

namespace ns3 {

// "node/<id>/app/<index>/<kind>". Aborts when the application is not
// installed on a node (it has no identity yet).
std::string ApplicationRandomLabel(const Application& app, const std::string& kind);

punchlab::DeterministicRandom ForkApplicationRandom(uint64_t seed, const Application& app,
                                                    const std::string& kind);

// The IP a server application serves on: `configured` (an Ipv4Address or
// Ipv6Address) when set, else the first IPv4 address of the application's
// node. Aborts when there is neither: a topology bug.
punchlab::IpAddress ResolveServiceAddress(const Application& app, const Address& configured);

}  // namespace ns3
