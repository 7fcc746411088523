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
}  // namespace punchlab::lab
