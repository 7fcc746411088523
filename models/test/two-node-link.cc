#include "test/two-node-link.h"

#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/string.h"

namespace ns3 {
namespace twonode {
namespace {

TwoNodeLink Build(PointToPointHelper& p2p) {
  TwoNodeLink link;
  link.nodes.Create(2);
  link.devices = p2p.Install(link.nodes);
  InternetStackHelper().Install(link.nodes);
  Ipv4AddressHelper ipv4;
  ipv4.SetBase("10.1.1.0", "255.255.255.0");
  ipv4.Assign(link.devices);
  return link;
}

}  // namespace

TwoNodeLink BuildTwoNodeLink(const std::string& dataRate, Time delay) {
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue(dataRate));
  p2p.SetChannelAttribute("Delay", TimeValue(delay));
  return Build(p2p);
}

TwoNodeLink BuildTwoNodeLink() {
  PointToPointHelper p2p;
  return Build(p2p);
}

}  // namespace twonode
}  // namespace ns3
