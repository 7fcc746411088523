#include "model/link-channel.h"

#include <algorithm>

#include "ns3/abort.h"
#include "ns3/packet.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/simulator.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(LinkChannel);

TypeId LinkChannel::GetTypeId() {
  static TypeId tid = TypeId("ns3::LinkChannel")
                          .SetParent<PointToPointChannel>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<LinkChannel>();
  return tid;
}

LinkChannel::LinkChannel() = default;
LinkChannel::~LinkChannel() = default;

void LinkChannel::SetRandom(punchlab::DeterministicRandom random) {
  m_random = std::make_unique<punchlab::DeterministicRandom>(std::move(random));
}

bool LinkChannel::TransmitStart(Ptr<const Packet> p, Ptr<PointToPointNetDevice> src, Time txTime) {
  NS_ABORT_MSG_UNLESS(GetNDevices() == 2, "LinkChannel: transmit before both ends are attached");
  if (!m_up) {
    ++m_droppedDown;
    return true;
  }
  // Draw only when the property is set: a link without loss or jitter draws
  // nothing, so turning one on elsewhere does not shift this link's stream.
  if (m_loss > 0) {
    NS_ABORT_MSG_UNLESS(m_random, "LinkChannel: loss without SetRandom");
    const double u = static_cast<double>(m_random->NextU64() >> 11) * 0x1.0p-53;
    if (u < m_loss) {
      ++m_lost;
      return true;
    }
  }
  Time delay = GetDelay();
  if (m_jitter.IsStrictlyPositive()) {
    NS_ABORT_MSG_UNLESS(m_random, "LinkChannel: jitter without SetRandom");
    const int64_t j = m_jitter.GetNanoSeconds();
    const int64_t offset =
        m_random->UniformDuration(punchlab::Duration::Zero(), punchlab::Duration::Nanos(2 * j))
            .nanos() - j;
    delay = NanoSeconds(std::max<int64_t>(0, delay.GetNanoSeconds() + offset));
  }
  const uint32_t wire = src == GetSource(0) ? 0 : 1;
  Ptr<PointToPointNetDevice> dst = GetDestination(wire);
  const Time arrival = std::max(Simulator::Now() + txTime + delay, m_lastArrival[wire]);
  m_lastArrival[wire] = arrival;
  Simulator::ScheduleWithContext(dst->GetNode()->GetId(), arrival - Simulator::Now(),
                                 &PointToPointNetDevice::Receive, dst, p->Copy());
  return true;
}

}  // namespace ns3
