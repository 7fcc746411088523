#include "model/shaped-net-device.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>

#include "ns3/abort.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(ShapedChannel);
NS_OBJECT_ENSURE_REGISTERED(ShapedNetDevice);


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

Address ShapedNetDevice::GetBroadcast() const {
  // Made once: Mac48Address::GetBroadcast() and its conversion cost ~175
  // instructions, asked for every packet ns-3's IPv4 or a NAT box sends.
  static const Address broadcast = Mac48Address::GetBroadcast();
  return broadcast;
}
ShapedNetDevice::~ShapedNetDevice() = default;

void ShapedNetDevice::DoDispose() {
  m_node = nullptr;
  m_channel = nullptr;
  m_rx = NetDevice::ReceiveCallback();
  m_promiscRx = NetDevice::PromiscReceiveCallback();
  m_fastRx = FastReceiveCallback();
  m_txTimes = nullptr;  // an evicted rate's table goes with its last device
  NetDevice::DoDispose();
}

void ShapedNetDevice::Attach(Ptr<ShapedChannel> channel) {
  m_channel = channel;
  channel->Add(this);
}

void ShapedNetDevice::SetRandom(punchlab::DeterministicRandom random) {
  m_model.SetRandom(std::move(random));
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

bool ShapedNetDevice::Send(Ptr<Packet> packet, const Address&, uint16_t protocolNumber) {
  NS_ABORT_MSG_UNLESS(m_channel, "ShapedNetDevice: Send before Attach");
  if (protocolNumber != Ipv4L3Protocol::PROT_NUMBER) return false;
  m_snifferTrace(packet);
  const std::optional<punchlab::Duration> arrives = m_model.Transmit(
      ToDuration(Simulator::Now()), TxTime(packet->GetSize()));
  // What this link carries stays in order (jitter varies delay, never
  // order); the receiving link orders what reaches it from every sender.
  if (arrives) {
    m_channel->Transmit(packet->Copy(), this, NanoSeconds(m_model.InOrder(*arrives).nanos()));
  }
  return true;
}

bool ShapedNetDevice::SendFrom(Ptr<Packet> packet, const Address&, const Address& dest,
                               uint16_t protocolNumber) {
  return Send(packet, dest, protocolNumber);
}

void ShapedNetDevice::Arrive(Ptr<Packet> packet, Time at, bool serialise) {
  const punchlab::Duration tx = serialise
                                    ? TxTime(packet->GetSize())
                                    : punchlab::Duration::Zero();
  const std::optional<punchlab::Duration> done =
      m_model.Receive(ToDuration(Simulator::Now()), ToDuration(at), tx);
  if (!done) return;
  Simulator::ScheduleWithContext(m_node->GetId(), NanoSeconds(done->nanos()) - Simulator::Now(),
                                 &ShapedNetDevice::Deliver, this, packet);
}

namespace {
struct TxTimeCache {
  std::map<uint64_t, std::shared_ptr<TxTimeTable>> tables;
  std::deque<uint64_t> order;  // the rates in tables, oldest first
};
TxTimeCache& Cache() {
  static TxTimeCache cache;
  return cache;
}
}  // namespace

// Each table is a pure function of rate and size, so a rate asked for again
// after its eviction gets the same times (ns-3 runs one simulation at a time
// in a process).
std::shared_ptr<TxTimeTable> TxTimesFor(uint64_t bps) {
  TxTimeCache& cache = Cache();
  auto [it, added] = cache.tables.try_emplace(bps);
  if (added) {
    it->second = std::make_shared<TxTimeTable>(kTxTimeSizes);
    cache.order.push_back(bps);
    if (cache.order.size() > kTxTimeRates) {
      cache.tables.erase(cache.order.front());
      cache.order.pop_front();
    }
  }
  return it->second;
}

size_t CachedTxTimeRates() { return Cache().tables.size(); }

punchlab::Duration ShapedNetDevice::TxTime(uint32_t bytes) {
  if (bytes >= kTxTimeSizes) return ToDuration(m_rate.CalculateBytesTxTime(bytes));
  if (m_txTimes == nullptr) m_txTimes = TxTimesFor(m_rate.GetBitRate());
  std::optional<punchlab::Duration>& known = (*m_txTimes)[bytes];
  if (!known) known = ToDuration(m_rate.CalculateBytesTxTime(bytes));
  return *known;
}

void ShapedNetDevice::Deliver(Ptr<Packet> packet) {
  if (!IsUp()) {
    m_model.CountDroppedDown();
    return;
  }
  m_snifferTrace(packet);
  if (!m_promiscRx.IsNull()) {
    m_promiscRx(this, packet, Ipv4L3Protocol::PROT_NUMBER, m_address, m_address,
                NetDevice::PACKET_HOST);
  }
  if (!m_fastRx.IsNull() && m_fastRx(this, packet)) return;
  if (!m_rx.IsNull()) m_rx(this, packet, Ipv4L3Protocol::PROT_NUMBER, m_address);
}

}  // namespace ns3
