// What a machine asks its host to put on the wire.
#pragma once

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"

namespace punchlab {

// One UDP datagram with both ends named: a host with several sockets (a STUN
// server answering from its alternate address, a node with LAN and public
// interfaces) sends it from `source`.
struct Transmit {
  Endpoint source;
  Endpoint destination;
  Bytes payload;
};

}  // namespace punchlab
