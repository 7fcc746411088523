// lab/miniupnpd.h's pure parts: the daemon's configuration and the table it
// writes into (no root; real.portmap runs the daemon).
#include "lab/miniupnpd.h"

#include <gtest/gtest.h>

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

MiniupnpdConfig Config() {
  MiniupnpdConfig c;
  c.lan_cidr = "198.51.100.0/24";
  return c;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(Miniupnpd, ConfKeepsItsFilesInTheLabsDirectoryAndItsRulesInItsTable) {
  const std::string conf = MiniupnpdConf(Config(), "/tmp/plab1x1-tmp/miniupnpd-router");
  EXPECT_TRUE(Has(conf, "lease_file=/tmp/plab1x1-tmp/miniupnpd-router/leases"));
  EXPECT_TRUE(Has(conf, "ext_ifname=wan"));
  EXPECT_TRUE(Has(conf, "listening_ip=lan"));
  EXPECT_TRUE(Has(conf, "upnp_table_name=punchlab_portmap"));
  EXPECT_TRUE(Has(conf, "upnp_nat_table_name=punchlab_portmap"));
  EXPECT_TRUE(Has(conf, "secure_mode=yes"));
  // The LAN may map, nobody else; the first rule that matches decides.
  const size_t allow = conf.find("allow 1-65535 198.51.100.0/24 1-65535\n");
  const size_t deny = conf.find("deny 0-65535 0.0.0.0/0 0-65535\n");
  ASSERT_NE(allow, std::string::npos);
  ASSERT_NE(deny, std::string::npos);
  EXPECT_LT(allow, deny);
}

TEST(Miniupnpd, ProtocolsAndLifetimesAreConfigured) {
  MiniupnpdConfig c = Config();
  c.upnp = false;
  c.min_lifetime = Duration::Seconds(30);
  c.max_lifetime = Duration::Seconds(600);
  const std::string conf = MiniupnpdConf(c, "/d");
  EXPECT_TRUE(Has(conf, "enable_natpmp=yes"));
  EXPECT_TRUE(Has(conf, "enable_upnp=no"));
  EXPECT_TRUE(Has(conf, "min_lifetime=30"));
  EXPECT_TRUE(Has(conf, "max_lifetime=600"));
}

TEST(Miniupnpd, WhatTheDaemonWouldRefuseIsRefusedHere) {
  MiniupnpdConfig c = Config();
  c.lan_cidr.clear();
  EXPECT_THROW(MiniupnpdConf(c, "/d"), LabError);
  c = Config();
  c.natpmp = c.upnp = false;
  EXPECT_THROW(MiniupnpdConf(c, "/d"), LabError);
  c = Config();
  c.wan_if = "wan; rm";
  EXPECT_THROW(MiniupnpdConf(c, "/d"), LabError);
  c = Config();
  c.max_lifetime = Duration::Seconds(10);
  EXPECT_THROW(MiniupnpdConf(c, "/d"), LabError);
}

TEST(Miniupnpd, ItsChainsRunBeforeTheLabNats) {
  const std::string r = MiniupnpdRuleset(Config());
  EXPECT_NE(r.find("table inet punchlab_portmap {"), std::string::npos);
  EXPECT_NE(r.find("type nat hook prerouting priority dstnat - 10;"), std::string::npos);
  EXPECT_NE(r.find("jump prerouting_miniupnpd"), std::string::npos);
  EXPECT_NE(r.find("jump miniupnpd"), std::string::npos);
  EXPECT_NE(r.find("jump postrouting_miniupnpd"), std::string::npos);
}

}  // namespace
// The kernel's tables as a router with a UPnP-only daemon shows them
// (/proc/<pid>/net/..., format of Linux 6.x).
constexpr const char* kUdp =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n"
    "  113: 0100000A:076C 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40112 2 0000000000000000 0         \n"
    "  187: 00000000:14E7 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40113 2 0000000000000000 0         \n";
constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100010A:0B35 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40110 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100010A:C350 0200010A:0B35 01 00000000:00000000 00:00000000 00000000     0        0 40111 1 0000000000000000 20 4 30 10 -1\n";
constexpr const char* kIgmp =
    "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
    "1\tlo        :     1      V3\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "3\tlan       :     2      V3\n"
    "\t\t\t\tFAFFFFEF     1 0:00000000\t\t0\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "4\twan       :     1      V3\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n";

TEST(Miniupnpd, ReadinessReadsTheKernelsSocketTables) {
  EXPECT_TRUE(ProcNetHasPort(kUdp, 1900, false));
  EXPECT_TRUE(ProcNetHasPort(kUdp, 5351, false));
  EXPECT_FALSE(ProcNetHasPort(kUdp, 2869, false));
  // Listening on 2869 (state 0A); 50000 is a connection's local port, not a listener.
  EXPECT_TRUE(ProcNetHasPort(kTcp, 2869, true));
  EXPECT_FALSE(ProcNetHasPort(kTcp, 50000, true));
  EXPECT_TRUE(ProcNetHasPort(kTcp, 50000, false));
  // miniupnpd's HTTP socket where the kernel has IPv6 (/proc/net/tcp6).
  EXPECT_TRUE(ProcNetHasPort(
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000000000000:0B35 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40110 1 0000000000000000 100 0 0 10 0\n",
      2869, true));
  // Only the header: nothing is open yet.
  EXPECT_FALSE(ProcNetHasPort(std::string(kUdp).substr(0, std::string(kUdp).find('\n') + 1), 1900,
                              false));
}

TEST(Miniupnpd, ReadinessNeedsTheSsdpGroupJoinedOnTheLan) {
  EXPECT_TRUE(ProcIgmpHasGroup(kIgmp, "lan", "239.255.255.250"));
  EXPECT_FALSE(ProcIgmpHasGroup(kIgmp, "wan", "239.255.255.250"));
  EXPECT_FALSE(ProcIgmpHasGroup(kIgmp, "lo", "239.255.255.250"));
  EXPECT_TRUE(ProcIgmpHasGroup(kIgmp, "wan", "224.0.0.1"));
  EXPECT_FALSE(ProcIgmpHasGroup(kIgmp, "lan", "not an address"));
  // The kernel pads names to ten characters before the ':'; a longer one
  // runs into it.
  const std::string long_name =
      "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
      "5\tlan-router0:     1      V3\n"
      "\t\t\t\tFAFFFFEF     1 0:00000000\t\t0\n";
  EXPECT_TRUE(ProcIgmpHasGroup(long_name, "lan-router0", "239.255.255.250"));
}

}  // namespace punchlab::lab
