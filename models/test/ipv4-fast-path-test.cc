// The local fast path (model/ipv4-fast-path.h) calls a UDP receiver that may
// remove or replace its own entry while it runs (its socket closed or
// rebound in the datagram's handling): the call must outlive the entry.
#include "model/ipv4-fast-path.h"

#include <gtest/gtest.h>

#include <memory>

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "test/two-node-link.h"

namespace ns3 {
namespace {

class Ipv4FastPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    twonode::TwoNodeLink link = twonode::BuildTwoNodeLink();
    nodes = link.nodes;
    devices = link.devices;
  }
  void TearDown() override { Simulator::Destroy(); }

  // A UDP datagram from 10.1.1.1:4000 to 10.1.1.2:`port` as node 1's device
  // hands it up.
  static Ptr<Packet> Datagram(uint16_t port) {
    Ptr<Packet> p = Create<Packet>(12);
    UdpHeader udp;
    udp.SetSourcePort(4000);
    udp.SetDestinationPort(port);
    p->AddHeader(udp);
    Ipv4Header ip;
    ip.SetSource(Ipv4Address("10.1.1.1"));
    ip.SetDestination(Ipv4Address("10.1.1.2"));
    ip.SetProtocol(UdpL4Protocol::PROT_NUMBER);
    ip.SetPayloadSize(static_cast<uint16_t>(p->GetSize()));
    ip.SetTtl(64);
    p->AddHeader(ip);
    return p;
  }

  NodeContainer nodes;
  NetDeviceContainer devices;
};

TEST_F(Ipv4FastPathTest, AReceiverThatRemovesItselfKeepsItsCapturesWhileItRuns) {
  Ptr<Ipv4L3Protocol> l3 = nodes.Get(1)->GetObject<Ipv4L3Protocol>();
  Ptr<Ipv4LocalFastPath> fast =
      CreateObject<Ipv4LocalFastPath>(l3, CreateObject<Ipv4StaticRouting>());
  auto captured = std::make_shared<int>(7);
  std::weak_ptr<int> watch = captured;
  bool alive_after_removal = false;
  int calls = 0;
  fast->AddUdpReceiver(
      Ipv4Address("10.1.1.2"), 7000,
      Ipv4LocalFastPath::UdpReceiver([&, captured](Ptr<Packet>, const Ipv4Header&, uint16_t) {
        ++calls;
        // The socket closes: its entry (this very function) goes.
        fast->RemoveUdpReceiver(Ipv4Address("10.1.1.2"), 7000);
        alive_after_removal = !watch.expired();
        return true;
      }));
  captured.reset();  // the entry holds the only reference now
  EXPECT_TRUE(fast->Receive(devices.Get(1), Datagram(7000)));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(alive_after_removal);
  EXPECT_TRUE(watch.expired());  // and gone once the call returned
  fast->Dispose();
}

}  // namespace
}  // namespace ns3
