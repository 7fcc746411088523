// LinkChannel: a point-to-point channel with the properties a scenario gives a
// link: delay, jitter (the delay varies by up to Jitter either way, packet by
// packet), random loss, and an up/down switch (a "link-down" fault: nothing
// crosses while down).
//
// Jitter never reorders: a packet arrives no earlier than the one sent
// before it in the same direction, as on a FIFO path. (Reordering on every
// link would make TCP - DERP and control - stall on spurious retransmissions
// that real Internet paths rarely cause.)
// Bandwidth stays where ns-3 keeps it, the devices' DataRate.
//
// Every property can change at any simulated time. Loss and jitter draw from
// a punchlab::DeterministicRandom the owner hands in (forked from the run
// seed by link name), so a run with the same seed drops and delays the same
// packets. A dropped packet still occupied the sender's transmitter: it was
// lost on the wire.
#pragma once

#include <cstdint>
#include <memory>

#include "ns3/nstime.h"
#include "ns3/point-to-point-channel.h"
#include "punchlab/random.h"

namespace ns3 {

class LinkChannel : public PointToPointChannel {
 public:
  static TypeId GetTypeId();
  LinkChannel();
  ~LinkChannel() override;

  void SetRandom(punchlab::DeterministicRandom random);
  void SetJitter(Time jitter) { m_jitter = jitter; }
  void SetLoss(double loss) { m_loss = loss; }
  void SetUp(bool up) { m_up = up; }
  Time GetJitter() const { return m_jitter; }
  double GetLoss() const { return m_loss; }
  bool IsUp() const { return m_up; }

  // Packets this channel dropped: lost at random, or sent while down.
  uint64_t GetLost() const { return m_lost; }
  uint64_t GetDroppedDown() const { return m_droppedDown; }

  bool TransmitStart(Ptr<const Packet> p, Ptr<PointToPointNetDevice> src, Time txTime) override;

 private:
  Time m_jitter;
  double m_loss = 0;
  bool m_up = true;
  uint64_t m_lost = 0;
  uint64_t m_droppedDown = 0;
  Time m_lastArrival[2];  // per direction (wire), for FIFO order under jitter
  std::unique_ptr<punchlab::DeterministicRandom> m_random;
};

}  // namespace ns3
