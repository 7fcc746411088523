// The local fast path (model/ipv4-fast-path.h): it calls a UDP receiver that
// may remove or replace its own entry while it runs (its socket closed or
// rebound in the datagram's handling): the call must outlive the entry. And it
// takes a datagram past ns-3's UDP only for a socket ns-3 would pick alone:
// beside a device-bound socket on the same address and port, or once its
// socket is bound to a device, ns-3's UDP has it.
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

  Ptr<Socket> UdpSocket(uint32_t node) {
    return Socket::CreateSocket(nodes.Get(node), UdpSocketFactory::GetTypeId());
  }
  static const InetSocketAddress kBound;  // 10.1.1.2:7000, on node 1
};

const InetSocketAddress Ipv4FastPathTest::kBound(Ipv4Address("10.1.1.2"), 7000);

TEST_F(Ipv4FastPathTest, AReceiverThatRemovesItselfKeepsItsCapturesWhileItRuns) {
  Ptr<Ipv4L3Protocol> l3 = nodes.Get(1)->GetObject<Ipv4L3Protocol>();
  Ptr<Ipv4LocalFastPath> fast =
      CreateObject<Ipv4LocalFastPath>(l3, CreateObject<Ipv4StaticRouting>());
  Ptr<Socket> socket = UdpSocket(1);
  ASSERT_EQ(socket->Bind(kBound), 0);
  auto captured = std::make_shared<int>(7);
  std::weak_ptr<int> watch = captured;
  bool alive_after_removal = false;
  int calls = 0;
  ASSERT_TRUE(fast->AddUdpReceiver(
      socket,
      Ipv4LocalFastPath::UdpReceiver([&, captured](Ptr<Packet>, const Ipv4Header&, uint16_t) {
        ++calls;
        // The socket closes: its entry (this very function) goes.
        fast->RemoveUdpReceiver(socket);
        alive_after_removal = !watch.expired();
        return true;
      })));
  captured.reset();  // the entry holds the only reference now
  EXPECT_TRUE(fast->Receive(devices.Get(1), Datagram(7000)));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(alive_after_removal);
  EXPECT_TRUE(watch.expired());  // and gone once the call returned
  fast->Dispose();
}

// What the fast path's promise rests on (ns-3.37's Ipv4EndPointDemux::
// Allocate): once a socket holds an address and port with no device, no
// other socket can bind them, with a device or without.
TEST_F(Ipv4FastPathTest, Ns3RefusesAnAddressAndPortBoundToNoDevice) {
  Ptr<Socket> first = UdpSocket(1);
  ASSERT_EQ(first->Bind(kBound), 0);
  EXPECT_NE(UdpSocket(1)->Bind(kBound), 0);
  Ptr<Socket> onDevice = UdpSocket(1);
  onDevice->BindToNetDevice(devices.Get(1));
  EXPECT_NE(onDevice->Bind(kBound), 0);
}

class Ipv4FastPathSharedPortTest : public Ipv4FastPathTest {
 protected:
  // Each socket's datagrams as ns-3 delivered them (its receive callback).
  void Count(Ptr<Socket> socket, int* n) {
    socket->SetRecvCallback(Callback<void, Ptr<Socket>>([n](Ptr<Socket> s) {
      while (s->Recv()) ++*n;
    }));
  }
  Ptr<Ipv4LocalFastPath> Fast() {
    return CreateObject<Ipv4LocalFastPath>(nodes.Get(1)->GetObject<Ipv4L3Protocol>(),
                                           CreateObject<Ipv4StaticRouting>());
  }
  Ipv4LocalFastPath::UdpReceiver Receiver(int* calls) {
    return Ipv4LocalFastPath::UdpReceiver(
        [calls](Ptr<Packet>, const Ipv4Header&, uint16_t) {
          ++*calls;
          return true;
        });
  }
};

TEST_F(Ipv4FastPathSharedPortTest, ASocketBesideADeviceBoundOneOnItsPortIsLeftToNs3) {
  // ns-3 lets a device-bound socket hold the address and port first and a
  // socket bound to no device join it; its lookup then finds both, and
  // ns-3.37 stops the simulation ("Too many endpoints"). The fast path must
  // not hand the datagram to one of them quietly instead.
  Ptr<Socket> onDevice = UdpSocket(1);
  onDevice->BindToNetDevice(devices.Get(1));
  ASSERT_EQ(onDevice->Bind(kBound), 0);
  Ptr<Socket> socket = UdpSocket(1);
  ASSERT_EQ(socket->Bind(kBound), 0);
  Ptr<Ipv4LocalFastPath> fast = Fast();
  int calls = 0;
  const uint64_t refused = Ipv4FastPathCountsSoFar().receivers_refused;
  EXPECT_FALSE(fast->AddUdpReceiver(socket, Receiver(&calls)));
  EXPECT_EQ(Ipv4FastPathCountsSoFar().receivers_refused, refused + 1);
  EXPECT_DEATH(fast->Receive(devices.Get(1), Datagram(7000)), "Too many endpoints");
  EXPECT_EQ(calls, 0);
  fast->Dispose();
}

TEST_F(Ipv4FastPathSharedPortTest, ASocketBoundToADeviceLaterIsLeftToNs3) {
  Ptr<Socket> socket = UdpSocket(1);
  ASSERT_EQ(socket->Bind(kBound), 0);
  Ptr<Ipv4LocalFastPath> fast = Fast();
  int calls = 0, toSocket = 0;
  ASSERT_TRUE(fast->AddUdpReceiver(socket, Receiver(&calls)));
  Count(socket, &toSocket);
  EXPECT_TRUE(fast->Receive(devices.Get(1), Datagram(7000)));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(toSocket, 0);
  socket->BindToNetDevice(devices.Get(1));
  const uint64_t toNs3 = Ipv4FastPathCountsSoFar().udp_to_ns3;
  EXPECT_TRUE(fast->Receive(devices.Get(1), Datagram(7000)));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(toSocket, 1);  // ns-3's lookup: the device matches
  EXPECT_EQ(Ipv4FastPathCountsSoFar().udp_to_ns3, toNs3 + 1);
  // A socket bound to a device is refused outright.
  Ptr<Ipv4LocalFastPath> other = Fast();
  EXPECT_FALSE(other->AddUdpReceiver(socket, Receiver(&calls)));
  fast->Dispose();
  other->Dispose();
}

}  // namespace
}  // namespace ns3
