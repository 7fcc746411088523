// The two-node world of the host and fast-path tests: nodes 0 and 1 with
// ns-3's internet stack on one point-to-point link, 10.1.1.1 and 10.1.1.2
// (/24). Build it in the test's set-up; Simulator::Destroy() in tear-down.
#pragma once

#include <string>

#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"

namespace ns3 {
namespace twonode {

struct TwoNodeLink {
  NodeContainer nodes;
  NetDeviceContainer devices;  // node 0's, node 1's
};

// A link of `dataRate` (e.g. "10Mbps") and `delay` one way.
TwoNodeLink BuildTwoNodeLink(const std::string& dataRate, Time delay);
// ns-3's default point-to-point link (its attributes' initial values), for
// tests that hand packets to a device directly.
TwoNodeLink BuildTwoNodeLink();

}  // namespace twonode
}  // namespace ns3
