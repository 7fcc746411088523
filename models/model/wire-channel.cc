#include "model/wire-channel.h"

#include "ns3/abort.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(WireChannel);

TypeId WireChannel::GetTypeId() {
  static TypeId tid = TypeId("ns3::WireChannel")
                          .SetParent<ShapedChannel>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<WireChannel>();
  return tid;
}

WireChannel::WireChannel() = default;
WireChannel::~WireChannel() = default;

void WireChannel::Add(Ptr<ShapedNetDevice> device) {
  NS_ABORT_MSG_IF(m_devices.size() >= 2, "WireChannel: a wire has two ends");
  ShapedChannel::Add(device);
}

Ptr<ShapedNetDevice> WireChannel::Destination(Ptr<const Packet>, Ptr<ShapedNetDevice> src) const {
  if (m_devices.size() != 2) return nullptr;
  return m_devices[0] == src ? m_devices[1] : m_devices[0];
}

}  // namespace ns3
