// The lab's nftables rulesets as text (sim/lab/nat-ruleset.h): which tables,
// chains and rules each knob brings, and the configurations it
// refuses. Whether the kernel takes them and the NATs behave is
// tests/real/test_lab_nat_real.py's job (root).
#include "lab/nat-ruleset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

nat::NatConfig Knobs(const std::string& spec) {
  const nat::NatSpecResult r = nat::ParseNatSpec(spec);
  EXPECT_TRUE(r) << r.error;
  return r.config.value_or(nat::NatConfig{});
}

// A NAT from SPEC (a preset and/or knobs), with one external address.
NatRulesetConfig Config(const std::string& spec, bool hairpin = false) {
  NatRulesetConfig c;
  c.nat = Knobs(spec);
  c.nat.hairpin = c.nat.hairpin || hairpin;
  c.wan_addresses = {"203.0.113.254"};
  return c;
}

// One chain as NatRuleset writes it, up to its last rule's end ("" when there is none).
std::string Chain(const std::string& ruleset, const std::string& name) {
  const size_t start = ruleset.find("  chain " + name + " {\n");
  if (start == std::string::npos) return "";
  return ruleset.substr(start, ruleset.find("\n  }\n", start) - start);
}

TEST(NatRulesetTest, APresetIsItsKnobs) {
  // Every preset is a named knob set (nat-config.h): spelled out knob by
  // knob it builds the same ruleset, and the lab keeps no names of its own.
  for (const nat::NatPreset& p : nat::NatPresets()) {
    const nat::NatConfig& k = p.config;
    const std::string spelled =
        std::string("mapping=") + nat::ToString(k.mapping) + ",filtering=" +
        nat::ToString(k.filtering) + ",ports=" + nat::ToString(k.ports) +
        ",hairpin=" + (k.hairpin ? "on" : "off") + ",udp_timeout=" + k.timeouts.udp.ToString();
    EXPECT_EQ(NatRuleset(Config(p.name)), NatRuleset(Config(spelled))) << p.name;
  }
}

// Every combination of the knobs the lab builds, each part of the ruleset
// following from one knob: mapping -> map "eim"; ports -> set "taken" and
// fully-random; filtering -> inbound DNAT (any remote, or "peers");
// hairpin -> DNAT from the LAN and the REQ-9 filter's counter.
TEST(NatRulesetTest, EachKnobBuildsItsOwnPart) {
  using nat::Dependence;
  for (Dependence mapping : {Dependence::kEndpointIndependent, Dependence::kAddressAndPortDependent}) {
    for (Dependence filtering : {Dependence::kEndpointIndependent, Dependence::kAddressDependent,
                                 Dependence::kAddressAndPortDependent}) {
      for (nat::PortAssignment ports : {nat::PortAssignment::kPreserve, nat::PortAssignment::kRandom}) {
        for (bool hairpin : {false, true}) {
          NatRulesetConfig c = Config("full-cone");
          c.nat.mapping = mapping;
          c.nat.filtering = filtering;
          c.nat.ports = ports;
          c.nat.hairpin = hairpin;
          const std::string what = c.nat.ToString();
          ASSERT_TRUE(UnbuildableKnobs(c.nat, 1).empty()) << what;
          const std::string r = NatRuleset(c);
          const bool eim = mapping == Dependence::kEndpointIndependent;
          const bool random = ports == nat::PortAssignment::kRandom;
          const std::string mapping_chain = Chain(r, "mapping");
          const std::string prerouting = Chain(r, "prerouting");
          EXPECT_EQ(Has(r, "map eim {"), eim) << what;
          EXPECT_EQ(Has(mapping_chain, "@eim snat ip to ip saddr . udp sport map @eim"), eim) << what;
          EXPECT_EQ(Has(r, "set taken {"), eim && !random) << what;
          EXPECT_EQ(Has(mapping_chain, "udp sport @taken snat ip to 203.0.113.254 fully-random"),
                    eim && !random)
              << what;
          // The last rule maps a flow without a mapping yet.
          const std::string last = std::string("\n    snat ip to 203.0.113.254") +
                                   (random ? " fully-random" : "");
          EXPECT_EQ(mapping_chain.substr(mapping_chain.size() - last.size()), last)
              << what << "\n" << mapping_chain;
          EXPECT_EQ(Has(prerouting, "iifname \"wan\" dnat ip to ip daddr . udp dport map @mappings"),
                    filtering == Dependence::kEndpointIndependent)
              << what;
          EXPECT_EQ(Has(prerouting, "iifname \"wan\" ip daddr . udp dport . ip saddr @peers dnat"),
                    filtering == Dependence::kAddressDependent)
              << what;
          EXPECT_EQ(Has(r, "map mappings {"),
                    filtering != Dependence::kAddressAndPortDependent || hairpin)
              << what;
          EXPECT_EQ(Has(prerouting, "iifname \"lan\" ip daddr { 203.0.113.254 } dnat"), hairpin)
              << what;
          EXPECT_EQ(Has(r, "counter name hairpin_filtered drop"),
                    hairpin && filtering != Dependence::kEndpointIndependent)
              << what;
          EXPECT_TRUE(Has(r, "iifname \"wan\" ct state new drop")) << what;
        }
      }
    }
  }
}

TEST(NatRulesetTest, SymmetricWithAConeFilterDnatsItsMappings) {
  // Not a preset: per-destination random ports, but anyone may answer a mapping.
  const std::string r = NatRuleset(Config("symmetric,filtering=endpoint-independent"));
  EXPECT_FALSE(Has(r, "@eim")) << r;
  EXPECT_TRUE(Has(r, "iifname \"wan\" dnat ip to ip daddr . udp dport map @mappings")) << r;
  EXPECT_TRUE(Has(r, "oifname \"wan\" jump note")) << r;
  EXPECT_TRUE(Has(r, "ct direction original update @mappings { ip saddr . udp sport : ct "
                     "original ip saddr . ct original proto-src }"))
      << r;
  EXPECT_TRUE(Has(r, "    snat ip to 203.0.113.254 fully-random\n")) << r;
}

TEST(NatRulesetTest, PortPreservingSymmetricIsPlainSourceNat) {
  // Linux's own mapping: per destination, keeping the port while it can.
  const std::string r = NatRuleset(Config("symmetric-port-preserving"));
  EXPECT_TRUE(Has(r, "  chain mapping {\n    snat ip to 203.0.113.254\n  }\n")) << r;
  EXPECT_FALSE(Has(r, "@eim"));
  EXPECT_FALSE(Has(r, "fully-random"));
  EXPECT_FALSE(Has(r, "chain prerouting"));
}

TEST(NatRulesetTest, SymmetricTakesAFreshRandomPortPerFlow) {
  const std::string r = NatRuleset(Config("symmetric"));
  EXPECT_TRUE(Has(r, "    snat ip to 203.0.113.254 fully-random\n")) << r;
  EXPECT_FALSE(Has(r, "@eim"));
}

TEST(NatRulesetTest, EndpointIndependentTypesReuseTheirMapping) {
  for (const std::string t : {"full-cone", "restricted-cone", "port-restricted-cone", "cgnat"}) {
    const std::string r = NatRuleset(Config(t));
    EXPECT_TRUE(Has(r, "ip saddr . udp sport @eim snat ip to ip saddr . udp sport map @eim"))
        << t;
    EXPECT_TRUE(Has(r, "update @eim { ct original ip saddr . ct original proto-src"))
        << t;
    // The cones preserve ports, but not one another inside endpoint holds.
    EXPECT_EQ(Has(r, "udp sport @taken snat ip to 203.0.113.254 fully-random"),
              t != "cgnat")
        << t;
  }
}

TEST(NatRulesetTest, FilteringOfTheCones) {
  const std::string full = NatRuleset(Config("full-cone"));
  EXPECT_TRUE(Has(full, "iifname \"wan\" dnat ip to ip daddr . udp dport map @mappings")) << full;
  EXPECT_FALSE(Has(full, "@peers"));
  const std::string restricted = NatRuleset(Config("restricted-cone"));
  EXPECT_TRUE(Has(restricted, "iifname \"wan\" ip daddr . udp dport . ip saddr @peers dnat"))
      << restricted;
  EXPECT_TRUE(Has(restricted, "oifname \"wan\" update @peers { ip saddr . udp sport . ip daddr }"));
  const std::string port = NatRuleset(Config("port-restricted-cone"));
  EXPECT_FALSE(Has(port, "chain prerouting"));  // conntrack filters
  for (const std::string& r : {full, restricted, port}) {
    EXPECT_TRUE(Has(r, "iifname \"wan\" ct state new drop"));
  }
}

TEST(NatRulesetTest, CgnatPoolsPairedByInsideAddress) {
  NatRulesetConfig c = Config("cgnat");
  c.wan_addresses = {"203.0.113.254", "203.0.113.253"};
  const std::string r = NatRuleset(c);
  EXPECT_TRUE(Has(r, "snat ip to jhash ip saddr mod 2 seed 0x0 map { 0 : 203.0.113.254, 1 : "
                     "203.0.113.253 } fully-random"))
      << r;
}

TEST(NatRulesetTest, HairpinningLoopsBackThroughTheSendersMapping) {
  const std::string r = NatRuleset(Config("port-restricted-cone", true));
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
  const std::string off = NatRuleset(Config("port-restricted-cone", false));
  EXPECT_FALSE(Has(off, "iifname \"lan\""));
  EXPECT_FALSE(Has(off, "hairpin_filtered"));
}

TEST(NatRulesetTest, HairpinFilterFollowsTheFiltering) {
  const std::string full = NatRuleset(Config("full-cone", true));
  EXPECT_FALSE(Has(full, "hairpin_filtered")) << full;  // endpoint-independent: no filter
  const std::string restricted = NatRuleset(Config("restricted-cone", true));
  EXPECT_TRUE(Has(restricted, "ct original ip daddr . ct original proto-dst . ip saddr != @peers "
                              "counter name hairpin_filtered drop"))
      << restricted;
}

TEST(NatRulesetTest, WithoutAddressesItMasquerades) {
  // What a caller that knows no external address gets (the run-real lab).
  NatRulesetConfig c;
  c.nat = Knobs("symmetric");
  EXPECT_TRUE(Has(NatRuleset(c), "    masquerade fully-random\n"));
  c.nat = Knobs("port-restricted-cone");
  const std::string r = NatRuleset(c);
  EXPECT_TRUE(Has(r, "udp sport @taken masquerade fully-random\n")) << r;
  EXPECT_TRUE(Has(r, "    masquerade\n"));
}

TEST(NatRulesetTest, TimeoutsReachEveryTable) {
  NatRulesetConfig c = Config("restricted-cone", true);
  c.nat.timeouts.udp = Duration::Seconds(90);
  const std::string r = NatRuleset(c);
  size_t count = 0;
  for (size_t at = r.find("timeout 90s\n"); at != std::string::npos;
       at = r.find("timeout 90s\n", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 4u) << r;  // eim, taken, mappings, peers
}

TEST(NatRulesetTest, RefusesWhatItCannotBuild) {
  NatRulesetConfig c;
  c.nat = Knobs("cgnat");
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

TEST(NatRulesetTest, KnobsLinuxCannotDoAreRefusedByName) {
  // Each sentence starts with the knob and its value; the ruleset refuses them all at once.
  const std::pair<const char*, const char*> refused[] = {
      {"mapping=address-dependent", "mapping=address-dependent: "},
      {"ports=sequential", "ports=sequential: "},
      {"port_range=20000-20999", "port_range=20000-20999: "},
      {"udp_timeout=2500ms", "udp_timeout=2500ms: conntrack counts whole seconds"},
      {"tcp_established_timeout=1500ms", "tcp_established_timeout=1500ms: "},
      {"tcp_transitory_timeout=250ms", "tcp_transitory_timeout=250ms: "},
      {"full-cone,refresh=both", "refresh=both: "},
      {"symmetric,refresh=both,hairpin=on", "refresh=both: "},
      {"symmetric,refresh=both,filtering=address-dependent", "refresh=both: "},
  };
  for (const auto& [spec, sentence] : refused) {
    const std::vector<std::string> why = UnbuildableKnobs(Knobs(spec), 1);
    ASSERT_EQ(why.size(), 1u) << spec;
    EXPECT_EQ(why[0].rfind(sentence, 0), 0u) << why[0];
    try {
      NatRuleset(Config(spec));
      ADD_FAILURE() << spec << " was built";
    } catch (const LabError& e) {
      EXPECT_TRUE(Has(e.what(), sentence)) << e.what();
    }
  }
  EXPECT_EQ(UnbuildableKnobs(Knobs("mapping=address-dependent,ports=sequential"), 1).size(), 2u);
  // Pooling only matters with a pool.
  EXPECT_TRUE(UnbuildableKnobs(Knobs("cgnat,pooling=arbitrary"), 1).empty());
  const std::vector<std::string> pool = UnbuildableKnobs(Knobs("cgnat,pooling=arbitrary"), 2);
  ASSERT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool[0].rfind("pooling=arbitrary: ", 0), 0u);
  // Conntrack alone refreshes both ways: exact, and no map to refresh.
  EXPECT_TRUE(UnbuildableKnobs(Knobs("symmetric,refresh=both"), 1).empty());
  EXPECT_FALSE(Has(NatRuleset(Config("symmetric,refresh=both")), "map "));
  for (const nat::NatPreset& p : nat::NatPresets()) {
    EXPECT_TRUE(UnbuildableKnobs(p.config, 2).empty()) << p.name;
  }
}

TEST(NatRulesetTest, LinuxDifferencesAreSpelledOut) {
  for (const nat::NatPreset& p : nat::NatPresets()) {
    EXPECT_FALSE(LinuxDifferences(p.config).empty()) << p.name;
  }
  bool overloading = false;
  for (const std::string& d : LinuxDifferences(Knobs("symmetric-port-preserving"))) {
    overloading = overloading || Has(d, "port overloading");
  }
  EXPECT_TRUE(overloading);
  EXPECT_EQ(LinuxDifferences(Knobs("cgnat")).back(), "hairpin: UDP only");
  // Conntrack refreshes both ways: a difference only when the knob says outbound.
  auto refresh = [](const std::vector<std::string>& d) {
    return std::count_if(d.begin(), d.end(),
                         [](const std::string& s) { return s.rfind("refresh: ", 0) == 0; });
  };
  EXPECT_EQ(refresh(LinuxDifferences(Knobs("symmetric"))), 1);
  EXPECT_EQ(refresh(LinuxDifferences(Knobs("symmetric,refresh=both"))), 0);
  // A cone filter on a per-destination mapping: answers leave by conntrack's mapping.
  const std::vector<std::string> dnat =
      LinuxDifferences(Knobs("symmetric,filtering=endpoint-independent"));
  EXPECT_EQ(std::count_if(dnat.begin(), dnat.end(),
                          [](const std::string& s) { return s.rfind("filtering: ", 0) == 0; }),
            1);
  for (const nat::NatPreset& p : nat::NatPresets()) {
    for (const std::string& d : LinuxDifferences(p.config)) {
      EXPECT_NE(d.rfind("filtering: ", 0), 0u) << p.name << ": " << d;
    }
  }
}

}  // namespace
}  // namespace punchlab::lab
