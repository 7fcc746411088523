// The lab's nftables rulesets as text (sim/lab/nat-ruleset.h): which tables,
// chains and rules each type and knob brings, and the configurations it
// refuses. Whether the kernel takes them and the NATs behave is
// tests/real/test_lab_nat_real.py's job (root).
#include "lab/nat-ruleset.h"

#include <gtest/gtest.h>

#include <string>

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

NatRulesetConfig Config(NatType type, bool hairpin = false) {
  NatRulesetConfig c;
  c.type = type;
  c.wan_addresses = {"203.0.113.254"};
  c.hairpin = hairpin;
  return c;
}

TEST(NatRulesetTest, NamesRoundTripInPresetOrder) {
  const char* names[] = {"full-cone", "restricted-cone", "port-restricted-cone",
                         "symmetric", "symmetric-port-preserving", "cgnat"};
  ASSERT_EQ(AllNatTypes().size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_STREQ(ToString(AllNatTypes()[i]), names[i]);
    EXPECT_EQ(ParseNatType(names[i]), AllNatTypes()[i]);
  }
  EXPECT_EQ(ParseNatType("cone"), std::nullopt);
  EXPECT_EQ(NatTypeList(),
            "full-cone, restricted-cone, port-restricted-cone, symmetric, "
            "symmetric-port-preserving or cgnat");
  EXPECT_TRUE(PresetHairpins(NatType::kCgnat));
  EXPECT_FALSE(PresetHairpins(NatType::kFullCone));
}

TEST(NatRulesetTest, PortPreservingSymmetricIsPlainSourceNat) {
  // Linux's own mapping: per destination, keeping the port while it can.
  const std::string r = NatRuleset(Config(NatType::kSymmetricPortPreserving));
  EXPECT_TRUE(Has(r, "  chain mapping {\n    snat ip to 203.0.113.254\n  }\n")) << r;
  EXPECT_FALSE(Has(r, "@eim"));
  EXPECT_FALSE(Has(r, "fully-random"));
  EXPECT_FALSE(Has(r, "chain prerouting"));
}

TEST(NatRulesetTest, SymmetricTakesAFreshRandomPortPerFlow) {
  const std::string r = NatRuleset(Config(NatType::kSymmetric));
  EXPECT_TRUE(Has(r, "    snat ip to 203.0.113.254 fully-random\n")) << r;
  EXPECT_FALSE(Has(r, "@eim"));
}

TEST(NatRulesetTest, EndpointIndependentTypesReuseTheirMapping) {
  for (NatType t : {NatType::kFullCone, NatType::kRestrictedCone, NatType::kPortRestrictedCone,
                    NatType::kCgnat}) {
    const std::string r = NatRuleset(Config(t));
    EXPECT_TRUE(Has(r, "ip saddr . udp sport @eim snat ip to ip saddr . udp sport map @eim"))
        << ToString(t);
    EXPECT_TRUE(Has(r, "update @eim { ct original ip saddr . ct original proto-src"))
        << ToString(t);
    // The cones preserve ports, but not one another inside endpoint holds.
    EXPECT_EQ(Has(r, "udp sport @taken snat ip to 203.0.113.254 fully-random"),
              t != NatType::kCgnat)
        << ToString(t);
  }
}

TEST(NatRulesetTest, FilteringOfTheCones) {
  const std::string full = NatRuleset(Config(NatType::kFullCone));
  EXPECT_TRUE(Has(full, "iifname \"wan\" dnat ip to ip daddr . udp dport map @mappings")) << full;
  EXPECT_FALSE(Has(full, "@peers"));
  const std::string restricted = NatRuleset(Config(NatType::kRestrictedCone));
  EXPECT_TRUE(Has(restricted, "iifname \"wan\" ip daddr . udp dport . ip saddr @peers dnat"))
      << restricted;
  EXPECT_TRUE(Has(restricted, "oifname \"wan\" update @peers { ip saddr . udp sport . ip daddr }"));
  const std::string port = NatRuleset(Config(NatType::kPortRestrictedCone));
  EXPECT_FALSE(Has(port, "chain prerouting"));  // conntrack filters
  for (const std::string& r : {full, restricted, port}) {
    EXPECT_TRUE(Has(r, "iifname \"wan\" ct state new drop"));
  }
}

TEST(NatRulesetTest, CgnatPoolsPairedByInsideAddress) {
  NatRulesetConfig c = Config(NatType::kCgnat);
  c.wan_addresses = {"203.0.113.254", "203.0.113.253"};
  const std::string r = NatRuleset(c);
  EXPECT_TRUE(Has(r, "snat ip to jhash ip saddr mod 2 seed 0x0 map { 0 : 203.0.113.254, 1 : "
                     "203.0.113.253 } fully-random"))
      << r;
}

TEST(NatRulesetTest, HairpinningLoopsBackThroughTheSendersMapping) {
  const std::string r = NatRuleset(Config(NatType::kPortRestrictedCone, true));
  EXPECT_TRUE(Has(r, "iifname \"lan\" ip daddr { 203.0.113.254 } dnat ip to ip daddr . udp dport "
                     "map @mappings"))
      << r;
  EXPECT_TRUE(Has(r, "iifname \"lan\" oifname \"lan\" ct status dnat jump mapping"));
  EXPECT_TRUE(Has(r, "iifname \"lan\" oifname \"lan\" ct status dnat jump note"));
  // REQ-9: the receiving mapping's address-and-port filter, counted.
  EXPECT_TRUE(Has(r, "ct original ip daddr . ct original proto-dst . ip saddr . udp sport != "
                     "@peers counter name hairpin_filtered drop"));
  EXPECT_TRUE(Has(r, "counter hairpin_filtered"));
  // Without it, no DNAT from the LAN and no counter.
  const std::string off = NatRuleset(Config(NatType::kPortRestrictedCone, false));
  EXPECT_FALSE(Has(off, "iifname \"lan\""));
  EXPECT_FALSE(Has(off, "hairpin_filtered"));
}

TEST(NatRulesetTest, HairpinFilterFollowsTheFiltering) {
  const std::string full = NatRuleset(Config(NatType::kFullCone, true));
  EXPECT_FALSE(Has(full, "hairpin_filtered")) << full;  // endpoint-independent: no filter
  const std::string restricted = NatRuleset(Config(NatType::kRestrictedCone, true));
  EXPECT_TRUE(Has(restricted, "ct original ip daddr . ct original proto-dst . ip saddr != @peers "
                              "counter name hairpin_filtered drop"))
      << restricted;
}

TEST(NatRulesetTest, WithoutAddressesItMasquerades) {
  // What a caller that knows no external address gets (the run-real lab).
  NatRulesetConfig c;
  c.type = NatType::kSymmetric;
  EXPECT_TRUE(Has(NatRuleset(c), "    masquerade fully-random\n"));
  c.type = NatType::kPortRestrictedCone;
  const std::string r = NatRuleset(c);
  EXPECT_TRUE(Has(r, "udp sport @taken masquerade fully-random\n")) << r;
  EXPECT_TRUE(Has(r, "    masquerade\n"));
}

TEST(NatRulesetTest, TimeoutsReachEveryTable) {
  NatRulesetConfig c = Config(NatType::kRestrictedCone, true);
  c.udp_timeout = Duration::Millis(1500);
  const std::string r = NatRuleset(c);
  size_t count = 0;
  for (size_t at = r.find("timeout 1500ms\n"); at != std::string::npos;
       at = r.find("timeout 1500ms\n", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 4u) << r;  // eim, taken, mappings, peers
}

TEST(NatRulesetTest, RefusesWhatItCannotBuild) {
  NatRulesetConfig c;
  c.type = NatType::kCgnat;
  c.hairpin = true;
  try {
    NatRuleset(c);
    FAIL() << "hairpinning without addresses was accepted";
  } catch (const LabError& e) {
    EXPECT_TRUE(Has(e.what(), "hairpinning needs the router's external addresses")) << e.what();
  }
  c.wan_addresses = {"203.0.113"};
  EXPECT_THROW(NatRuleset(c), LabError);
  c.wan_addresses = {"203.0.113.254"};
  c.lan_if = "lan; drop";
  EXPECT_THROW(NatRuleset(c), LabError);
  c.lan_if = "an-interface-name-too-long";
  EXPECT_THROW(NatRuleset(c), LabError);
}

TEST(NatRulesetTest, LinuxDifferencesAreSpelledOut) {
  for (NatType t : AllNatTypes()) EXPECT_FALSE(LinuxDifferences(t, false).empty());
  bool overloading = false;
  for (const std::string& d : LinuxDifferences(NatType::kSymmetricPortPreserving, false)) {
    overloading = overloading || Has(d, "port overloading");
  }
  EXPECT_TRUE(overloading);
  EXPECT_EQ(LinuxDifferences(NatType::kCgnat, true).back(), "hairpin: UDP only");
}

}  // namespace
}  // namespace punchlab::lab
