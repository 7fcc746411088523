// NAT behaviour discovery in ns-3 behind every NAT preset and every mapping x
// filtering x port-assignment combination, with hairpinning on and off: the
// report must say what the NAT was configured to do, as far as the NAT lets
// any outside observer see it.
//
// Two knobs cannot show as configured (punchlab/nat/nat-observability.h has the
// argument); the expectation below derives them from the configuration, and
// each run also checks, inside the NAT, that the knob really was in force:
//  * a port-preserving NAT with destination-dependent mapping makes a mapping
//    per destination, but all of one socket's mappings keep the socket's port
//    and share one external endpoint, so it shows as endpoint-independent;
//  * hairpinning behind a NAT whose mapping shows as destination-dependent
//    loops the request back from a fresh mapping that the client's own
//    mapping never sent to, so only endpoint-independent filtering lets it
//    through; otherwise it shows as off.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "helper/classify-topology.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/simulator.h"
#include "punchlab/nat/nat-observability.h"

namespace ns3 {
namespace {

using punchlab::nat::CompareFindings;
using punchlab::nat::ConfiguredFindings;
using punchlab::nat::Dependence;
using punchlab::nat::ExpectedFindings;
using punchlab::nat::NatConfig;
using punchlab::nat::NatExpectation;
using punchlab::nat::PortAssignment;
using punchlab::nat::ReportedFindings;

constexpr uint16_t kMainPort = 50000;  // NatDiscoveryApplication's default LocalPort
constexpr uint32_t kExtraSockets = 3;  // ClassifyTopologyConfig's default

// What the report must say about `c`, in the SPEC's words.
struct Expected {
  Dependence mapping;
  Dependence filtering;
  PortAssignment ports;
  bool hairpin;
};

Expected ExpectFrom(const NatConfig& c) {
  Expected e{c.mapping, c.filtering, c.ports, c.hairpin};
  // A preserved port is the socket's own, whatever the destination.
  if (c.ports == PortAssignment::kPreserve) e.mapping = Dependence::kEndpointIndependent;
  // The looped-back request comes from the client's own mapping only when
  // mapping (as it shows) ignores the destination; else only an
  // endpoint-independent filter admits the fresh one it comes from.
  if (e.mapping != Dependence::kEndpointIndependent &&
      c.filtering != Dependence::kEndpointIndependent) {
    e.hairpin = false;
  }
  return e;
}

// Distinct external endpoints the main socket gets from its three
// destinations (server, alternate IP, alternate IP and port).
size_t MainSocketMappings(Dependence shown) {
  switch (shown) {
    case Dependence::kEndpointIndependent: return 1;
    case Dependence::kAddressDependent: return 2;
    case Dependence::kAddressAndPortDependent: return 3;
  }
  return 0;
}

// Runs discovery behind `config` and checks the report and the NAT's state.
void ClassifyAndCheck(const NatConfig& config, uint64_t seed = 1) {
  SCOPED_TRACE("NAT " + config.ToString() + ", seed " + std::to_string(seed));
  ClassifyTopologyConfig tc;
  tc.nat = config;
  tc.seed = seed;
  ClassifyTopology topology(tc);
  const punchlab::stun::NatReport r = topology.Run();
  const punchlab::nat::NatTable& table = topology.GetNat()->GetNat();
  const Expected e = ExpectFrom(config);

  EXPECT_FALSE(r.udp_blocked);
  ASSERT_TRUE(r.mapped.has_value());
  EXPECT_EQ(r.mapped->ip, ToPunchlab(ClassifyTopology::NatExternalAddress()));
  ASSERT_TRUE(r.other_address.has_value());
  EXPECT_EQ(*r.other_address,
            punchlab::Endpoint(ToPunchlab(ClassifyTopology::ServerAlternateAddress()),
                               ClassifyTopology::kServerAlternatePort));

  EXPECT_EQ(punchlab::stun::ToString(r.mapping), std::string(punchlab::nat::ToString(e.mapping)));
  EXPECT_EQ(punchlab::stun::ToString(r.filtering),
            std::string(punchlab::nat::ToString(e.filtering)));
  EXPECT_EQ(punchlab::stun::ToString(r.ports), std::string(punchlab::nat::ToString(e.ports)));
  EXPECT_EQ(punchlab::stun::ToString(r.hairpin), std::string(e.hairpin ? "on" : "off"));

  // The evidence: one mapping per distinct external endpoint of the main
  // socket, then one per extra socket.
  EXPECT_EQ(r.mappings.size(), MainSocketMappings(e.mapping) + kExtraSockets);
  if (config.ports == PortAssignment::kPreserve) {
    EXPECT_EQ(r.mapped->port, kMainPort);
  }

  // The hidden knobs were in force all the same. Per-destination mappings
  // exist inside the NAT; they share bindings exactly when ports are preserved.
  if (config.mapping == Dependence::kEndpointIndependent) {
    EXPECT_EQ(table.mapping_count(), table.binding_count());
  } else if (config.ports == PortAssignment::kPreserve) {
    EXPECT_GT(table.mapping_count(), table.binding_count());
  } else {
    EXPECT_EQ(table.mapping_count(), table.binding_count());
    EXPECT_GT(table.binding_count(), 1 + kExtraSockets);
  }
  // Hairpinning on but shown off: the NAT did try, and its filter refused.
  const punchlab::nat::NatCounters& n = table.counters();
  if (!config.hairpin) {
    EXPECT_GT(n.hairpin_refused, 0u);
  } else if (!e.hairpin) {
    EXPECT_EQ(n.hairpin_refused, 0u);
    EXPECT_EQ(n.hairpinned, 0u);
  } else {
    EXPECT_GT(n.hairpinned, 0u);
  }

  // `punchlab classify`'s judgement agrees: what it expects is what was found,
  // with one note per knob that shows differently from its configuration.
  const NatExpectation judged = ExpectedFindings(config);
  EXPECT_EQ(judged.findings, ReportedFindings(r)) << judged.findings.ToString() << " vs "
                                                  << ReportedFindings(r).ToString();
  EXPECT_EQ(judged.notes.size(),
            CompareFindings(ConfiguredFindings(config), judged.findings).size());
}

class ClassifyTest : public ::testing::Test {
 protected:
  ~ClassifyTest() override { Simulator::Destroy(); }
};

// --- every preset ---

class ClassifyPresetTest : public ClassifyTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ClassifyPresetTest, ReportSaysWhatThePresetDoes) {
  const punchlab::nat::NatPreset* preset = punchlab::nat::FindNatPreset(GetParam());
  ASSERT_NE(preset, nullptr);
  ClassifyAndCheck(preset->config);
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const auto& p : punchlab::nat::NatPresets()) names.push_back(p.name);
  return names;
}

std::string PresetTestName(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Presets, ClassifyPresetTest, ::testing::ValuesIn(PresetNames()),
                         PresetTestName);

// --- every mapping x filtering x port assignment, hairpinning on and off ---

using Knobs = std::tuple<Dependence, Dependence, PortAssignment, bool>;

class ClassifyKnobsTest : public ClassifyTest, public ::testing::WithParamInterface<Knobs> {};

TEST_P(ClassifyKnobsTest, ReportSaysWhatTheKnobsDo) {
  NatConfig config;
  std::tie(config.mapping, config.filtering, config.ports, config.hairpin) = GetParam();
  ClassifyAndCheck(config);
}

const char* Short(Dependence d) {
  switch (d) {
    case Dependence::kEndpointIndependent: return "ei";
    case Dependence::kAddressDependent: return "ad";
    case Dependence::kAddressAndPortDependent: return "apd";
  }
  return "?";
}

std::string KnobsTestName(const ::testing::TestParamInfo<Knobs>& param) {
  const auto& [mapping, filtering, ports, hairpin] = param.param;
  return std::string("mapping_") + Short(mapping) + "_filtering_" + Short(filtering) + "_ports_" +
         punchlab::nat::ToString(ports) + (hairpin ? "_hairpin_on" : "_hairpin_off");
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, ClassifyKnobsTest,
    ::testing::Combine(::testing::Values(Dependence::kEndpointIndependent,
                                         Dependence::kAddressDependent,
                                         Dependence::kAddressAndPortDependent),
                       ::testing::Values(Dependence::kEndpointIndependent,
                                         Dependence::kAddressDependent,
                                         Dependence::kAddressAndPortDependent),
                       ::testing::Values(PortAssignment::kPreserve, PortAssignment::kSequential,
                                         PortAssignment::kRandom),
                       ::testing::Bool()),
    KnobsTestName);

// --- the verdicts do not hang on one lucky seed ---

TEST_F(ClassifyTest, RandomAndSequentialPortsAreRecognisedUnderOtherSeeds) {
  for (uint64_t seed : {2u, 3u, 4u, 5u}) {
    for (PortAssignment ports : {PortAssignment::kSequential, PortAssignment::kRandom}) {
      for (Dependence mapping :
           {Dependence::kEndpointIndependent, Dependence::kAddressAndPortDependent}) {
        NatConfig config;
        config.mapping = mapping;
        config.ports = ports;
        ClassifyAndCheck(config, seed);
        Simulator::Destroy();
      }
    }
  }
}

}  // namespace
}  // namespace ns3
