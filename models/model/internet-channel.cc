#include "model/internet-channel.h"

#include "ns3/ipv4-header.h"
#include "ns3/packet.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(InternetChannel);

TypeId InternetChannel::GetTypeId() {
  static TypeId tid = TypeId("ns3::InternetChannel")
                          .SetParent<ShapedChannel>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<InternetChannel>();
  return tid;
}

InternetChannel::InternetChannel() = default;
InternetChannel::~InternetChannel() = default;

void InternetChannel::AddRoute(Ipv4Address network, Ipv4Mask mask, Ptr<ShapedNetDevice> device) {
  m_routes[mask.GetPrefixLength()][network.CombineMask(mask).Get()] = device;
}

Ptr<ShapedNetDevice> InternetChannel::Destination(Ptr<const Packet> packet,
                                                  Ptr<ShapedNetDevice>) const {
  Ipv4Header ip;
  packet->PeekHeader(ip);
  const uint32_t destination = ip.GetDestination().Get();
  for (const auto& [length, table] : m_routes) {
    const uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    const auto it = table.find(destination & mask);
    if (it != table.end()) return it->second;
  }
  return nullptr;
}

}  // namespace ns3
