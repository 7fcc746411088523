// InternetChannel: the internet of a scenario world as one channel.
//
// Everything public (a NAT's or firewall's uplink, a public node, a DERP or
// control server) has one ShapedNetDevice on it: its access link. A packet
// goes straight to the device that owns its destination address (the
// subnets given with AddRoute: a device's own, plus those a firewall behind
// it keeps untranslated; longest prefix wins), so two public hosts are two
// access links apart and each link can fail or slow down on its own. A
// packet to an address nobody owns is dropped and counted (GetUnroutable).
//
// Why not a router with a point-to-point link per host: ns-3's IPv4 and
// static routing look through every interface and route of a node for
// every packet, so a core router with thousands of links spends its time
// searching. The channel looks a destination up in a hash map.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "model/shaped-net-device.h"
#include "ns3/ipv4-address.h"

namespace ns3 {

class InternetChannel : public ShapedChannel {
 public:
  static TypeId GetTypeId();
  InternetChannel();
  ~InternetChannel() override;

  // Packets to network/mask go to `device`.
  void AddRoute(Ipv4Address network, Ipv4Mask mask, Ptr<ShapedNetDevice> device);

 protected:
  Ptr<ShapedNetDevice> Destination(Ptr<const Packet> packet,
                                   Ptr<ShapedNetDevice> src) const override;
  bool ReceiverSerialises() const override { return true; }

 private:
  // prefix length -> network -> device, longest prefixes first.
  std::map<uint32_t, std::unordered_map<uint32_t, Ptr<ShapedNetDevice>>, std::greater<>> m_routes;
};

}  // namespace ns3
