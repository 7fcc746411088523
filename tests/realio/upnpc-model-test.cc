// Debian's upnpc (miniupnpc 2.2.4) against the NAT model's UPnP IGD
// (nat/upnp-igd.h) served on loopback by realio's host: the simulated
// router must be an IGD a real client nobody here wrote can use. upnpc is
// given the description's URL (-u: no SSDP on loopback), adds a mapping
// (AddPortMapping, then GetSpecificPortMappingEntry to check it), lists
// the mappings (-l: GetGenericPortMappingEntry by index) and deletes one;
// each step is judged in the model's NAT table. Skipped when upnpc is
// missing (package miniupnpc; scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "run-tool.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/random.h"
#include "realio/event-loop.h"
#include "realio/host.h"

namespace punchlab::realio {
namespace {

const IpAddress kPublic = IpAddress::V4(203, 0, 113, 1);

std::optional<std::string> Upnpc(EventLoop& loop, std::vector<std::string> args) {
  return RunTool(loop, "upnpc", std::move(args));
}

TEST(UpnpcAgainstTheModel, AddsChecksListsAndDeletesMappings) {
  if (!HaveTool("upnpc")) GTEST_SKIP() << "upnpc is missing (Debian package miniupnpc)";
  DeterministicRandom rng(1);
  nat::NatTable table(*nat::ParseNatSpec("symmetric").config, {kPublic}, rng);
  nat::PortMappingConfig c;
  c.upnp = true;
  nat::UpnpIgd igd(c, table);
  nat::UpnpIgdHttp http(igd);
  EventLoop loop;
  Host host(loop, http);
  const Endpoint at = host.Listen(kLoopbackAnyPort);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(at.port) + nat::UpnpIgd::kDescriptionPath;

  const std::optional<std::string> add =
      Upnpc(loop, {"-u", url, "-a", "127.0.0.1", "41641", "40000", "UDP", "3600"});
  ASSERT_TRUE(add) << "upnpc did not end";
  EXPECT_NE(add->find("ExternalIPAddress = 203.0.113.1"), std::string::npos) << *add;
  EXPECT_NE(add->find("external 203.0.113.1:40000 UDP is redirected to internal "
                      "127.0.0.1:41641 (duration=3600)"),
            std::string::npos)
      << *add;
  const Endpoint inside(IpAddress::V4(127, 0, 0, 1), 41641);
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));
  EXPECT_EQ(igd.counters().granted, 1u);
  // upnpc read the mapping back (its "duration=3600" above is the answer's).
  EXPECT_EQ(igd.counters().entries_asked, 1u);

  // Someone else's port: AddPortMapping fails with 718, as upnpc reports it.
  const std::optional<std::string> taken =
      Upnpc(loop, {"-u", url, "-a", "127.0.0.1", "41642", "40000", "UDP", "3600"});
  ASSERT_TRUE(taken);
  EXPECT_NE(taken->find("failed with code 718 (ConflictInMappingEntry)"), std::string::npos)
      << *taken;
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));

  // A TCP mapping, then the list (upnpc -l walks GetGenericPortMappingEntry
  // from index 0 until an error): the newest first, as miniupnpd lists its
  // rules, and 713 past the end.
  const std::optional<std::string> tcp =
      Upnpc(loop, {"-u", url, "-a", "127.0.0.1", "41643", "40001", "TCP", "1800"});
  ASSERT_TRUE(tcp);
  const Endpoint tcp_inside(IpAddress::V4(127, 0, 0, 1), 41643);
  EXPECT_EQ(table.PortMapped(nat::Protocol::kTcp, tcp_inside), Endpoint(kPublic, 40001)) << *tcp;
  const std::optional<std::string> list = Upnpc(loop, {"-u", url, "-l"});
  ASSERT_TRUE(list) << "upnpc did not end";
  EXPECT_NE(list->find("Connection Type : IP_Routed"), std::string::npos) << *list;
  EXPECT_NE(list->find("ExternalIPAddress = 203.0.113.1"), std::string::npos) << *list;
  EXPECT_NE(list->find("\n 0 TCP 40001->127.0.0.1:41643 '' '' 1800\n"), std::string::npos) << *list;
  EXPECT_NE(list->find("\n 1 UDP 40000->127.0.0.1:41641 '' '' 3600\n"), std::string::npos) << *list;
  EXPECT_NE(list->find("\nGetGenericPortMappingEntry() returned 713 (SpecifiedArrayIndexInvalid)"),
            std::string::npos)
      << *list;
  EXPECT_EQ(list->find(" 2 "), std::string::npos) << *list;
  EXPECT_EQ(igd.counters().entries_listed, 3u);

  const std::optional<std::string> del = Upnpc(loop, {"-u", url, "-d", "40000", "UDP"});
  ASSERT_TRUE(del);
  EXPECT_EQ(del->find("failed"), std::string::npos) << *del;
  EXPECT_FALSE(table.PortMapped(nat::Protocol::kUdp, inside));
  EXPECT_EQ(igd.counters().deleted, 1u);
}

}  // namespace
}  // namespace punchlab::realio
