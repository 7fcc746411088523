// ShapedNetDevice and ShapedChannel: light links for scenario worlds, with
// the properties a scenario gives a link: delay, jitter, random loss, a data
// rate, and an up/down switch. Two channels carry them:
//
//   InternetChannel (internet-channel.h)  every public host's access link;
//       a packet goes to the device owning its destination address.
//   WireChannel (wire-channel.h)          a point-to-point link below a box.
//
// A packet's way (the arithmetic is link::LinkModel's, link/include/link/
// link-model.h, which the real lab's userspace wire uses too): the sender's
// device serialises it (its DataRate; a backlog over 1 s is dropped), drops
// it at random (loss) or when down, delays it (delay, varied by up to the
// jitter either way); the channel
// names the receiving device, which drops its own share, adds its own delay
// and, on the internet, serialises it again at its DataRate (two access
// links are two store-and-forward hops; a wire is one). Packets into a
// device never overtake each other (FIFO): jitter varies delay, never order,
// as on a real path (reordering on every link would make TCP - DERP and
// control - stall on spurious retransmissions that real paths rarely cause).
// Delivery is one simulator event per hop.
//
// Packets are IPv4 (0x0800) without a link-layer header; NeedsArp is false,
// so hosts route out of a device with any gateway on its subnet.
// PromiscSniffer sees every packet a device sends or receives: capture it
// with PcapHelper::DLT_RAW. Loss and jitter draw from a DeterministicRandom
// the owner hands in (SetRandom), only while they are set, so turning them
// on for one device does not shift another's draws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ns3/channel.h"
#include "ns3/data-rate.h"
#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "link/link-model.h"
#include "ns3/traced-callback.h"
#include "punchlab/random.h"

namespace ns3 {

class ShapedNetDevice;

// Serialisation times by packet size (below kTxTimeSizes) for one link rate,
// shared by the devices of that rate; an entry is filled on first use.
using TxTimeTable = std::vector<std::optional<punchlab::Duration>>;
constexpr uint32_t kTxTimeSizes = 2048;  // every packet of a 1500-byte MTU
// The process keeps the tables of the last kTxTimeRates rates it was asked
// for (32 KiB each), so a sweep over many bandwidths in one process stays
// bounded; a device holds its table while it uses it, so an evicted rate
// costs only recomputing its entries, never a dangling table.
constexpr size_t kTxTimeRates = 64;
std::shared_ptr<TxTimeTable> TxTimesFor(uint64_t bps);
size_t CachedTxTimeRates();  // how many rates' tables the process keeps now

class ShapedChannel : public Channel {
 public:
  static TypeId GetTypeId();
  ShapedChannel();
  ~ShapedChannel() override;

  std::size_t GetNDevices() const override { return m_devices.size(); }
  Ptr<NetDevice> GetDevice(std::size_t i) const override;

  // Packets nobody on the channel receives (no device owns the destination).
  uint64_t GetUnroutable() const { return m_unroutable; }

 protected:
  friend class ShapedNetDevice;
  virtual void Add(Ptr<ShapedNetDevice> device);
  // The device that receives `packet` (its IPv4 header first) from `src`; null: nobody.
  virtual Ptr<ShapedNetDevice> Destination(Ptr<const Packet> packet,
                                           Ptr<ShapedNetDevice> src) const = 0;
  // Whether the receiving device serialises again (a second hop).
  virtual bool ReceiverSerialises() const = 0;
  // From `src`, which has serialised it and drawn its own delay: on to the receiver.
  void Transmit(Ptr<Packet> packet, Ptr<ShapedNetDevice> src, Time leftSender);

  std::vector<Ptr<ShapedNetDevice>> m_devices;
  uint64_t m_unroutable = 0;
};

class ShapedNetDevice : public NetDevice {
 public:
  static TypeId GetTypeId();
  ShapedNetDevice();
  ~ShapedNetDevice() override;

  void Attach(Ptr<ShapedChannel> channel);

  void SetRandom(punchlab::DeterministicRandom random);
  void SetDelay(Time delay) { m_model.mutable_shape().delay = ToDuration(delay); }
  void SetJitter(Time jitter) { m_model.mutable_shape().jitter = ToDuration(jitter); }
  void SetLoss(double loss) { m_model.mutable_shape().loss = loss; }
  void SetDataRate(DataRate rate) {
    m_rate = rate;
    m_txTimes = nullptr;
  }
  void SetUp(bool up) { m_model.mutable_shape().down = !up; }
  Time GetDelay() const { return NanoSeconds(m_model.shape().delay.nanos()); }
  Time GetJitter() const { return NanoSeconds(m_model.shape().jitter.nanos()); }
  double GetLoss() const { return m_model.shape().loss; }
  DataRate GetDataRate() const { return m_rate; }
  bool IsUp() const { return !m_model.shape().down; }

  // Packets this device dropped: at random, while down, on a full backlog.
  uint64_t GetLost() const { return m_model.counters().lost; }
  uint64_t GetDroppedDown() const { return m_model.counters().dropped_down; }
  uint64_t GetDroppedQueue() const { return m_model.counters().dropped_queue; }

  // NetDevice.
  void SetIfIndex(const uint32_t index) override { m_ifIndex = index; }
  uint32_t GetIfIndex() const override { return m_ifIndex; }
  Ptr<Channel> GetChannel() const override;
  void SetAddress(Address address) override;
  Address GetAddress() const override { return m_address; }
  bool SetMtu(const uint16_t mtu) override;
  uint16_t GetMtu() const override { return m_mtu; }
  bool IsLinkUp() const override { return true; }
  void AddLinkChangeCallback(Callback<void> callback) override;
  bool IsBroadcast() const override { return true; }
  Address GetBroadcast() const override;
  bool IsMulticast() const override { return false; }
  Address GetMulticast(Ipv4Address multicastGroup) const override;
  Address GetMulticast(Ipv6Address addr) const override;
  bool IsBridge() const override { return false; }
  bool IsPointToPoint() const override { return true; }
  bool Send(Ptr<Packet> packet, const Address& dest, uint16_t protocolNumber) override;
  bool SendFrom(Ptr<Packet> packet, const Address& source, const Address& dest,
                uint16_t protocolNumber) override;
  Ptr<Node> GetNode() const override { return m_node; }
  void SetNode(Ptr<Node> node) override { m_node = node; }
  bool NeedsArp() const override { return false; }
  void SetReceiveCallback(NetDevice::ReceiveCallback cb) override { m_rx = cb; }
  // Offered every delivered packet before the node's protocol handlers; true:
  // it took the packet (a NAT box's fast path, NatMiddlebox::EnableFastPath).
  typedef Callback<bool, Ptr<NetDevice>, Ptr<const Packet>> FastReceiveCallback;
  void SetFastReceiveCallback(FastReceiveCallback cb) { m_fastRx = cb; }
  void SetPromiscReceiveCallback(NetDevice::PromiscReceiveCallback cb) override;
  bool SupportsSendFrom() const override { return false; }

 protected:
  void DoDispose() override;

 private:
  friend class ShapedChannel;
  static punchlab::Duration ToDuration(Time t) { return punchlab::Duration::Nanos(t.GetNanoSeconds()); }
  // The receiving half: `packet` reaches this device's link at `at`.
  void Arrive(Ptr<Packet> packet, Time at, bool serialise);
  void Deliver(Ptr<Packet> packet);
  // m_rate.CalculateBytesTxTime(bytes): ns-3 divides in 128-bit fixed point,
  // some 700 instructions. Remembered per size in one table for all devices
  // of a rate (a world has a handful of rates; its packets come in a few
  // hundred sizes, and remembering only the last one missed 7 times in 10).
  punchlab::Duration TxTime(uint32_t bytes);

  Ptr<Node> m_node;
  Ptr<ShapedChannel> m_channel;
  Mac48Address m_address;
  uint32_t m_ifIndex = 0;
  uint16_t m_mtu = 65535;
  NetDevice::ReceiveCallback m_rx;
  NetDevice::PromiscReceiveCallback m_promiscRx;
  FastReceiveCallback m_fastRx;

  // Delay, jitter, loss, up/down and the queues' state; the rate stays
  // ns-3's DataRate so serialisation times are ns-3's to the nanosecond.
  punchlab::link::LinkModel m_model;
  DataRate m_rate{"100Gbps"};
  // TxTime's table for m_rate (by size), found on first use.
  std::shared_ptr<TxTimeTable> m_txTimes;
  TracedCallback<Ptr<const Packet>> m_snifferTrace;
};

}  // namespace ns3
