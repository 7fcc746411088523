// Debian's natpmpc (libnatpmp 20150609) against the NAT model's NAT-PMP
// server (nat/port-mapping-server.h) served on a loopback UDP socket: the
// simulated router must be a NAT-PMP gateway a real client nobody here
// wrote can use. natpmpc connect()s its socket to the gateway's port 5351
// and libnatpmp drops answers from any other address, so the model listens
// on port 5351 of a loopback address of its own (127.53.51.x: all of
// 127/8 is this host's; a port above 1023 needs no root); that address is
// natpmpc's -g gateway. Each step (external address, map, renew, a second
// client asking for a taken port, delete by lifetime 0) is judged in
// natpmpc's output and in the model's NAT table. Skipped when natpmpc is
// missing (Debian package natpmpc; scripts/setup.sh installs it) or the
// port cannot be bound.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include <optional>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "punchlab/datagram-machine.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping-server.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/random.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/socket-error.h"
#include "run-tool.h"
#include "support/queued-datagram.h"

namespace punchlab::realio {
namespace {

const IpAddress kPublic = IpAddress::V4(203, 0, 113, 1);

// The server as a datagram machine: a request to the socket's address is
// one to the gateway (answered from it: the default answer_from).
class PmpServerMachine final : public testsupport::QueuedDatagramMachine {
 public:
  explicit PmpServerMachine(nat::PortMappingServer& server) : server_(server) {}
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override {
    if (auto t = server_.HandleRequest(now, remote, local.ip, local.ip, payload)) {
      Queue(std::move(*t));
    }
  }

 private:
  nat::PortMappingServer& server_;
};

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(NatpmpcAgainstTheModel, AddressMapRenewConflictAndDelete) {
  if (!HaveTool("natpmpc")) GTEST_SKIP() << "natpmpc is missing (Debian package natpmpc)";
  // A gateway address of this process's own, so two runs never share it.
  const IpAddress gateway =
      IpAddress::V4(127, 53, 51, static_cast<uint8_t>(1 + getpid() % 250));
  std::optional<UdpSocket> socket;
  try {
    socket = UdpSocket::Bind(Endpoint(gateway, portmap::kServerPort));
  } catch (const SocketError& e) {
    // Only a port taken by another program is the machine's problem; any
    // other failure of Bind is ours and fails the test.
    if (e.error() != EADDRINUSE) throw;
    GTEST_SKIP() << "cannot listen on " << gateway.ToString() << ":5351: " << e.what();
  }
  DeterministicRandom rng(1);
  nat::NatTable table(*nat::ParseNatSpec("symmetric").config, {kPublic}, rng);
  nat::PortMappingConfig c;
  c.pmp = true;
  nat::PortMappingServer server(c, table, MonotonicNow());
  PmpServerMachine machine(server);
  EventLoop loop;
  Host host(loop, machine);
  host.AddSocket(std::move(*socket));
  const std::string gw = gateway.ToString();
  auto natpmpc = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-g", gw});
    return RunTool(loop, "natpmpc", std::move(args));
  };

  // The external address request alone.
  const std::optional<std::string> address = natpmpc({});
  ASSERT_TRUE(address) << "natpmpc did not end";
  EXPECT_TRUE(Has(*address, "using gateway : " + gw)) << *address;
  EXPECT_TRUE(Has(*address, "Public IP address : 203.0.113.1")) << *address;
  EXPECT_TRUE(Has(*address, "epoch = ")) << *address;
  EXPECT_EQ(server.counters().pmp_requests, 1u);

  // A map: the suggested port is free, so it is the one granted.
  const Endpoint inside(IpAddress::V4(127, 0, 0, 1), 41641);
  const std::optional<std::string> map = natpmpc({"-a", "40000", "41641", "udp", "3600"});
  ASSERT_TRUE(map) << "natpmpc did not end";
  EXPECT_TRUE(Has(*map, "Mapped public port 40000 protocol UDP to local port 41641 liftime 3600"))
      << *map;
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));
  const Timestamp first_until = *table.PortMappedUntil(nat::Protocol::kUdp, inside);
  EXPECT_EQ(server.counters().granted, 1u);

  // Asked again with a longer lifetime: the same port, the lease renewed.
  const std::optional<std::string> renew = natpmpc({"-a", "40000", "41641", "udp", "7200"});
  ASSERT_TRUE(renew) << "natpmpc did not end";
  EXPECT_TRUE(Has(*renew, "Mapped public port 40000 protocol UDP to local port 41641 liftime 7200"))
      << *renew;
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));
  EXPECT_GT(*table.PortMappedUntil(nat::Protocol::kUdp, inside),
            first_until + Duration::Seconds(3000));

  // Another private port suggesting the taken public port: NAT-PMP grants
  // another one (RFC 6886 3.3), and natpmpc reports that one.
  const Endpoint other(IpAddress::V4(127, 0, 0, 1), 41642);
  const std::optional<std::string> second = natpmpc({"-a", "40000", "41642", "udp", "3600"});
  ASSERT_TRUE(second) << "natpmpc did not end";
  const std::optional<Endpoint> other_external = table.PortMapped(nat::Protocol::kUdp, other);
  ASSERT_TRUE(other_external) << *second;
  EXPECT_NE(other_external->port, 40000);
  EXPECT_TRUE(Has(*second, "Mapped public port " + std::to_string(other_external->port) +
                               " protocol UDP to local port 41642 liftime 3600"))
      << *second;
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));

  // Lifetime 0 deletes (RFC 6886 3.4): the answer is port 0, lifetime 0.
  const std::optional<std::string> del = natpmpc({"-a", "40000", "41641", "udp", "0"});
  ASSERT_TRUE(del) << "natpmpc did not end";
  EXPECT_TRUE(Has(*del, "Mapped public port 0 protocol UDP to local port 41641 liftime 0")) << *del;
  EXPECT_FALSE(table.PortMapped(nat::Protocol::kUdp, inside));
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, other), other_external);
  EXPECT_EQ(server.counters().deleted, 1u);
  EXPECT_EQ(server.counters().granted, 3u);
  EXPECT_EQ(server.counters().dropped_malformed, 0u);
}

}  // namespace
}  // namespace punchlab::realio
