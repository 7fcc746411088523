#include "model/shaped-net-device.h"

#include <algorithm>

#include "ns3/abort.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(ShapedChannel);
NS_OBJECT_ENSURE_REGISTERED(ShapedNetDevice);

namespace {
// A transmit backlog longer than this drops (a tail-drop queue sized in
// time: at 10 Mbit/s about 1.2 MB).
const Time kMaxBacklog = Seconds(1);
}  // namespace

TypeId ShapedChannel::GetTypeId() {
  static TypeId tid = TypeId("ns3::ShapedChannel").SetParent<Channel>().SetGroupName("Punchlab");
  return tid;
}

ShapedChannel::ShapedChannel() = default;
ShapedChannel::~ShapedChannel() = default;

Ptr<NetDevice> ShapedChannel::GetDevice(std::size_t i) const { return m_devices.at(i); }

void ShapedChannel::Add(Ptr<ShapedNetDevice> device) { m_devices.push_back(device); }

void ShapedChannel::Transmit(Ptr<Packet> packet, Ptr<ShapedNetDevice> src, Time leftSender) {
  Ptr<ShapedNetDevice> dst = Destination(packet, src);
  if (!dst) {
    ++m_unroutable;
    return;
  }
  dst->Arrive(packet, leftSender, ReceiverSerialises());
}

TypeId ShapedNetDevice::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::ShapedNetDevice")
          .SetParent<NetDevice>()
          .SetGroupName("Punchlab")
          .AddConstructor<ShapedNetDevice>()
          .AddTraceSource("PromiscSniffer", "Every packet sent or received (IPv4, no L2 header).",
                          MakeTraceSourceAccessor(&ShapedNetDevice::m_snifferTrace),
                          "ns3::Packet::TracedCallback");
  return tid;
}

ShapedNetDevice::ShapedNetDevice() : m_address(Mac48Address::Allocate()) {}
ShapedNetDevice::~ShapedNetDevice() = default;

void ShapedNetDevice::DoDispose() {
  m_node = nullptr;
  m_channel = nullptr;
  m_rx = NetDevice::ReceiveCallback();
  m_promiscRx = NetDevice::PromiscReceiveCallback();
  NetDevice::DoDispose();
}

void ShapedNetDevice::Attach(Ptr<ShapedChannel> channel) {
  m_channel = channel;
  channel->Add(this);
}

void ShapedNetDevice::SetRandom(punchlab::DeterministicRandom random) {
  m_random = std::make_unique<punchlab::DeterministicRandom>(std::move(random));
}

Ptr<Channel> ShapedNetDevice::GetChannel() const { return m_channel; }

void ShapedNetDevice::SetAddress(Address address) { m_address = Mac48Address::ConvertFrom(address); }

bool ShapedNetDevice::SetMtu(const uint16_t mtu) {
  m_mtu = mtu;
  return true;
}

void ShapedNetDevice::AddLinkChangeCallback(Callback<void>) {}

Address ShapedNetDevice::GetMulticast(Ipv4Address) const { return Mac48Address::GetBroadcast(); }
Address ShapedNetDevice::GetMulticast(Ipv6Address) const { return Mac48Address::GetBroadcast(); }

void ShapedNetDevice::SetPromiscReceiveCallback(NetDevice::PromiscReceiveCallback cb) {
  m_promiscRx = cb;
}

Time ShapedNetDevice::DrawDelay() {
  if (!m_jitter.IsStrictlyPositive()) return m_delay;
  NS_ABORT_MSG_UNLESS(m_random, "ShapedNetDevice: jitter without SetRandom");
  const int64_t j = m_jitter.GetNanoSeconds();
  const int64_t offset =
      m_random->UniformDuration(punchlab::Duration::Zero(), punchlab::Duration::Nanos(2 * j))
          .nanos() - j;
  return NanoSeconds(std::max<int64_t>(0, m_delay.GetNanoSeconds() + offset));
}

bool ShapedNetDevice::DrawLoss() {
  if (m_loss <= 0) return false;
  NS_ABORT_MSG_UNLESS(m_random, "ShapedNetDevice: loss without SetRandom");
  const double u = static_cast<double>(m_random->NextU64() >> 11) * 0x1.0p-53;
  if (u >= m_loss) return false;
  ++m_lost;
  return true;
}

bool ShapedNetDevice::Send(Ptr<Packet> packet, const Address&, uint16_t protocolNumber) {
  NS_ABORT_MSG_UNLESS(m_channel, "ShapedNetDevice: Send before Attach");
  if (protocolNumber != Ipv4L3Protocol::PROT_NUMBER) return false;
  m_snifferTrace(packet);
  if (!m_up) {
    ++m_droppedDown;
    return true;
  }
  const Time now = Simulator::Now();
  const Time start = std::max(now, m_txBusyUntil);
  if (start - now > kMaxBacklog) {
    ++m_droppedQueue;
    return true;
  }
  m_txBusyUntil = start + m_rate.CalculateBytesTxTime(packet->GetSize());
  if (DrawLoss()) return true;
  m_channel->Transmit(packet->Copy(), this, m_txBusyUntil + DrawDelay());
  return true;
}

bool ShapedNetDevice::SendFrom(Ptr<Packet> packet, const Address&, const Address& dest,
                               uint16_t protocolNumber) {
  return Send(packet, dest, protocolNumber);
}

void ShapedNetDevice::Arrive(Ptr<Packet> packet, Time at, bool serialise) {
  if (DrawLoss()) return;
  Time done = std::max(at + DrawDelay(), m_rxBusyUntil);
  if (serialise) done += m_rate.CalculateBytesTxTime(packet->GetSize());
  m_rxBusyUntil = done;
  Simulator::ScheduleWithContext(m_node->GetId(), done - Simulator::Now(),
                                 &ShapedNetDevice::Deliver, this, packet);
}

void ShapedNetDevice::Deliver(Ptr<Packet> packet) {
  if (!m_up) {
    ++m_droppedDown;
    return;
  }
  m_snifferTrace(packet);
  if (!m_promiscRx.IsNull()) {
    m_promiscRx(this, packet, Ipv4L3Protocol::PROT_NUMBER, m_address, m_address,
                NetDevice::PACKET_HOST);
  }
  if (!m_rx.IsNull()) m_rx(this, packet, Ipv4L3Protocol::PROT_NUMBER, m_address);
}

}  // namespace ns3
