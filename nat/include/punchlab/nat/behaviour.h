// The two RFC 4787 rules that make a NAT's behaviour, as plain functions, so
// that every NAT here decides with the same ones: NatTable (the ns-3 module's
// and the scenario's NAT) and the unit tests' small NAT
// (tests/support/mini-nat.h).
#pragma once

#include "punchlab/endpoint.h"
#include "punchlab/nat/nat-config.h"

namespace punchlab {
namespace nat {

// What of the destination a mapping depends on, besides the inside endpoint:
// nothing (endpoint-independent), the IP (address-dependent), or the IP and
// port (address-and-port-dependent). Mappings of one inside endpoint whose
// keys are equal are the same mapping.
inline Endpoint MappingKeyRemote(Dependence mapping, const Endpoint& dst) {
  Endpoint key;
  if (mapping != Dependence::kEndpointIndependent) key.ip = dst.ip;
  if (mapping == Dependence::kAddressAndPortDependent) key.port = dst.port;
  return key;
}

// Whether the filter lets a packet from a remote in to a mapping: anyone
// (endpoint-independent), a remote whose IP the mapping has a live flow with
// (address-dependent), or a remote it has a live flow with (address-and-port-
// dependent). The questions are callables so that a NAT only looks up what
// its filtering asks.
template <typename FlowWithRemote, typename FlowWithRemoteIp>
bool FilteringAdmits(Dependence filtering, FlowWithRemote flow_with_remote,
                     FlowWithRemoteIp flow_with_remote_ip) {
  switch (filtering) {
    case Dependence::kEndpointIndependent:
      return true;
    case Dependence::kAddressDependent:
      return flow_with_remote_ip();
    case Dependence::kAddressAndPortDependent:
      return flow_with_remote();
  }
  return false;
}

}  // namespace nat
}  // namespace punchlab
