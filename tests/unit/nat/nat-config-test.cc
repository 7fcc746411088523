#include <gtest/gtest.h>

#include "punchlab/nat/nat-config.h"

namespace punchlab {
namespace nat {
namespace {

NatConfig Parsed(const std::string& spec) {
  NatSpecResult r = ParseNatSpec(spec);
  EXPECT_TRUE(r) << spec << ": " << r.error;
  return r.config.value_or(NatConfig{});
}

std::string ErrorOf(const std::string& spec) {
  NatSpecResult r = ParseNatSpec(spec);
  EXPECT_FALSE(r) << spec;
  return r.error;
}

TEST(NatPresets, MapToTheClassicKnobs) {
  using D = Dependence;
  struct Case {
    const char* name;
    Dependence mapping, filtering;
    PortAssignment ports;
  };
  for (const Case& c : {
           Case{"full-cone", D::kEndpointIndependent, D::kEndpointIndependent,
                PortAssignment::kPreserve},
           Case{"restricted-cone", D::kEndpointIndependent, D::kAddressDependent,
                PortAssignment::kPreserve},
           Case{"port-restricted-cone", D::kEndpointIndependent, D::kAddressAndPortDependent,
                PortAssignment::kPreserve},
           Case{"symmetric", D::kAddressAndPortDependent, D::kAddressAndPortDependent,
                PortAssignment::kRandom},
           Case{"symmetric-port-preserving", D::kAddressAndPortDependent,
                D::kAddressAndPortDependent, PortAssignment::kPreserve},
       }) {
    const NatConfig cfg = Parsed(c.name);
    EXPECT_EQ(cfg.mapping, c.mapping) << c.name;
    EXPECT_EQ(cfg.filtering, c.filtering) << c.name;
    EXPECT_EQ(cfg.ports, c.ports) << c.name;
    EXPECT_FALSE(cfg.hairpin) << c.name;
    EXPECT_EQ(cfg.pooling, Pooling::kPaired) << c.name;
    EXPECT_EQ(cfg.timeouts.udp, Duration::Seconds(120)) << c.name;
  }
  const NatConfig cgnat = Parsed("cgnat");
  EXPECT_EQ(cgnat.mapping, Dependence::kEndpointIndependent);
  EXPECT_EQ(cgnat.ports, PortAssignment::kRandom);
  EXPECT_TRUE(cgnat.hairpin);
  EXPECT_EQ(cgnat.pooling, Pooling::kPaired);
  EXPECT_EQ(cgnat.timeouts.udp, Duration::Seconds(30));
  EXPECT_EQ(NatPresets().size(), 6u);
}

TEST(NatPresets, DefaultsArePortRestrictedConeWithRfcTimeouts) {
  const NatConfig d;
  EXPECT_EQ(d, FindNatPreset("port-restricted-cone")->config);
  EXPECT_EQ(d.refresh, Refresh::kOutbound);
  EXPECT_EQ(d.port_range.first, 1024);
  EXPECT_EQ(d.port_range.last, 65535);
  EXPECT_EQ(d.timeouts.tcp_established, Duration::Seconds(2 * 3600 + 4 * 60));
  EXPECT_EQ(d.timeouts.tcp_transitory, Duration::Seconds(240));
  EXPECT_EQ(FindNatPreset("no-such"), nullptr);
}

TEST(NatSpec, KnobsOverrideThePresetInAnyOrder) {
  for (const char* spec : {"symmetric,hairpin=on,udp_timeout=30s",
                           "hairpin=on, udp_timeout=30s ,symmetric"}) {
    const NatConfig c = Parsed(spec);
    EXPECT_EQ(c.mapping, Dependence::kAddressAndPortDependent) << spec;
    EXPECT_EQ(c.ports, PortAssignment::kRandom) << spec;
    EXPECT_TRUE(c.hairpin) << spec;
    EXPECT_EQ(c.timeouts.udp, Duration::Seconds(30)) << spec;
  }
  const NatConfig cgnat_no_hairpin = Parsed("cgnat,hairpin=off");
  EXPECT_FALSE(cgnat_no_hairpin.hairpin);
}

TEST(NatSpec, KnobsAloneStartFromTheDefaults) {
  const NatConfig c = Parsed(
      "mapping=address-dependent,filtering=endpoint-independent,ports=preserve,hairpin=on");
  EXPECT_EQ(c.mapping, Dependence::kAddressDependent);
  EXPECT_EQ(c.filtering, Dependence::kEndpointIndependent);
  EXPECT_EQ(c.ports, PortAssignment::kPreserve);
  EXPECT_TRUE(c.hairpin);

  const NatConfig all = Parsed(
      "ports=sequential,port_range=2000-2999,pooling=arbitrary,refresh=both,"
      "tcp_established_timeout=1h,tcp_transitory_timeout=90s,udp_timeout=500ms");
  EXPECT_EQ(all.ports, PortAssignment::kSequential);
  EXPECT_EQ(all.port_range.first, 2000);
  EXPECT_EQ(all.port_range.last, 2999);
  EXPECT_EQ(all.pooling, Pooling::kArbitrary);
  EXPECT_EQ(all.refresh, Refresh::kBoth);
  EXPECT_EQ(all.timeouts.tcp_established, Duration::Seconds(3600));
  EXPECT_EQ(all.timeouts.tcp_transitory, Duration::Seconds(90));
  EXPECT_EQ(all.timeouts.udp, Duration::Millis(500));
}

TEST(NatSpec, ToStringIsCanonicalAndRoundTrips) {
  EXPECT_EQ(NatConfig().ToString(), "port-restricted-cone");
  EXPECT_EQ(Parsed("symmetric").ToString(), "symmetric");
  EXPECT_EQ(Parsed("hairpin=on,symmetric").ToString(), "symmetric,hairpin=on");
  EXPECT_EQ(Parsed("udp_timeout=45s,ports=sequential,symmetric").ToString(),
            "symmetric,ports=sequential,udp_timeout=45s");
  // The fewest overrides win: this is one knob away from cgnat, two from symmetric.
  EXPECT_EQ(Parsed("symmetric,hairpin=on,udp_timeout=30s").ToString(),
            "cgnat,mapping=address-and-port-dependent");
  // Knobs that happen to spell a preset print as that preset.
  EXPECT_EQ(Parsed("filtering=endpoint-independent").ToString(), "full-cone");
  EXPECT_EQ(Parsed("mapping=address-and-port-dependent,ports=random").ToString(), "symmetric");

  for (const NatPreset& p : NatPresets()) {
    EXPECT_EQ(p.config.ToString(), p.name);
    for (const char* extra : {"", ",hairpin=on", ",pooling=arbitrary,refresh=both",
                              ",port_range=5000-5010,tcp_transitory_timeout=1m",
                              ",mapping=address-dependent,ports=sequential"}) {
      const NatConfig c = Parsed(std::string(p.name) + extra);
      EXPECT_EQ(Parsed(c.ToString()), c) << p.name << extra << " -> " << c.ToString();
    }
  }
}

TEST(NatSpec, ErrorsNameTheBadItemAndTheValidChoices) {
  std::string e = ErrorOf("mapping=sideways");
  EXPECT_NE(e.find("'sideways'"), std::string::npos) << e;
  EXPECT_NE(e.find("'mapping'"), std::string::npos) << e;
  EXPECT_NE(e.find("endpoint-independent, address-dependent, address-and-port-dependent"),
            std::string::npos)
      << e;

  e = ErrorOf("symmetric,mappng=endpoint-independent");
  EXPECT_NE(e.find("unknown NAT knob 'mappng'"), std::string::npos) << e;
  EXPECT_NE(e.find("mapping, filtering, ports, port_range, hairpin, pooling, refresh"),
            std::string::npos)
      << e;

  e = ErrorOf("full-cones");
  EXPECT_NE(e.find("unknown NAT preset 'full-cones'"), std::string::npos) << e;
  EXPECT_NE(e.find("full-cone, restricted-cone, port-restricted-cone, symmetric, "
                   "symmetric-port-preserving, cgnat"),
            std::string::npos)
      << e;

  e = ErrorOf("hairpin=yes");
  EXPECT_NE(e.find("valid values are on, off"), std::string::npos) << e;
  e = ErrorOf("ports=preserving");
  EXPECT_NE(e.find("preserve, sequential, random"), std::string::npos) << e;
  e = ErrorOf("pooling=random");
  EXPECT_NE(e.find("paired, arbitrary"), std::string::npos) << e;
  e = ErrorOf("refresh=inbound");
  EXPECT_NE(e.find("outbound, both"), std::string::npos) << e;
  e = ErrorOf("udp_timeout=30");
  EXPECT_NE(e.find("bad value '30' for NAT knob 'udp_timeout'"), std::string::npos) << e;
  EXPECT_NE(ErrorOf("udp_timeout=0s").find("positive duration"), std::string::npos);
  for (const char* bad : {"port_range=3000-2000", "port_range=0-10", "port_range=1-65536",
                          "port_range=80", "port_range=a-b"}) {
    EXPECT_NE(ErrorOf(bad).find("FIRST-LAST"), std::string::npos) << bad;
  }

  EXPECT_NE(ErrorOf("hairpin=on,hairpin=off").find("'hairpin' is given twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf("symmetric,full-cone").find("two NAT presets given ('symmetric' and "
                                                "'full-cone')"),
            std::string::npos);
  EXPECT_NE(ErrorOf("").find("empty NAT spec"), std::string::npos);
  EXPECT_NE(ErrorOf("symmetric,,hairpin=on").find("empty item"), std::string::npos);
  EXPECT_NE(ErrorOf("symmetric,").find("empty item"), std::string::npos);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
