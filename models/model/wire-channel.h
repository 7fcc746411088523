// WireChannel: a point-to-point link of two ShapedNetDevices (a host or a
// nested box on a box's inside network): whatever one end sends, the other
// receives, serialised once (at the sender's DataRate).
#pragma once

#include "model/shaped-net-device.h"

namespace ns3 {

class WireChannel : public ShapedChannel {
 public:
  static TypeId GetTypeId();
  WireChannel();
  ~WireChannel() override;

 protected:
  void Add(Ptr<ShapedNetDevice> device) override;
  Ptr<ShapedNetDevice> Destination(Ptr<const Packet> packet,
                                   Ptr<ShapedNetDevice> src) const override;
  bool ReceiverSerialises() const override { return false; }
};

}  // namespace ns3
