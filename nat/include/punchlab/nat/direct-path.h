// Whether two nodes behind NATs `a` and `b` can get a direct path by hole
// punching, argued from their RFC 4787 mapping and filtering behaviours: the
// prediction the NAT-matrix tests (ns-3's models/test/node-matrix-test.cc,
// the virtual world's tests/unit/node/punching-test.cc) hold the protocol to.
// The outcome itself always comes from the protocol crossing the NAT model,
// never from here.
//
// Each node pings the other's published (STUN-discovered) endpoint, DERP
// carries CallMeMaybe so both sides ping at once, and a ping that arrives
// teaches the receiver the sender's peer-reflexive endpoint.
//
// x's ping reaches y and y's pong comes back to x (Reaches(x, y)) when:
// * The ping arrives at the mapping y published. If y's mapping depends on
//   the destination (address- or address-and-port-dependent), that mapping
//   only ever talked to the STUN server, so only endpoint-independent
//   filtering at y lets x in. If y's mapping is endpoint-independent, y has
//   itself pinged x's published endpoint through it: address-dependent
//   filtering passes (same IP); address-and-port-dependent filtering passes
//   only when x's ping leaves from that very published endpoint, i.e. x's
//   mapping is endpoint-independent too.
// * y answers from its mapping towards x's source. With endpoint-independent
//   mapping that is y's published endpoint, which x pinged, so x's NAT lets
//   it in; otherwise it is a fresh port on the same IP, which x's NAT lets in
//   unless x filters by address and port.
// One working direction suffices: its pings teach the other side a peer-
// reflexive endpoint that works back the same way (the mapping and filter
// state are then symmetric).
#pragma once

#include "punchlab/nat/nat-config.h"

namespace punchlab {
namespace nat {

bool NatAllowsDirect(const NatConfig& a, const NatConfig& b);

}  // namespace nat
}  // namespace punchlab
