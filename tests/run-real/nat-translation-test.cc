// Scenario NATs as the real lab builds them, and what it says it cannot build.
#include "run-real/nat-translation.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::runreal {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

nat::NatConfig Spec(const std::string& text) {
  const nat::NatSpecResult r = nat::ParseNatSpec(text);
  EXPECT_TRUE(r) << r.error;
  return r.config.value_or(nat::NatConfig{});
}

std::vector<std::string> WithoutRefresh(std::vector<std::string> d) {
  d.erase(std::remove_if(d.begin(), d.end(),
                         [](const std::string& s) { return s.rfind("refresh:", 0) == 0; }),
          d.end());
  return d;
}

TEST(NatTranslation, TheClassicFourAreBuiltAsTheirLabNats) {
  EXPECT_EQ(TranslateNat(Spec("full-cone"), 1).ruleset.type, lab::NatType::kFullCone);
  EXPECT_EQ(TranslateNat(Spec("restricted-cone"), 1).ruleset.type, lab::NatType::kRestrictedCone);
  EXPECT_EQ(TranslateNat(Spec("port-restricted-cone"), 1).ruleset.type,
            lab::NatType::kPortRestrictedCone);
  EXPECT_EQ(TranslateNat(Spec("symmetric"), 1).ruleset.type, lab::NatType::kSymmetric);
  for (const char* preset : {"full-cone", "restricted-cone", "port-restricted-cone", "symmetric"}) {
    const LabNat n = TranslateNat(Spec(preset), 1);
    EXPECT_THAT(WithoutRefresh(n.deviations), IsEmpty()) << preset;
    EXPECT_EQ(n.ruleset.wan_if, "wan");
    EXPECT_EQ(n.udp_timeout_s, 120) << preset;
    EXPECT_EQ(n.ruleset.udp_timeout, Duration::Seconds(120));
    EXPECT_EQ(n.tcp_established_timeout_s, 7440);
    EXPECT_EQ(n.tcp_transitory_timeout_s, 240);
  }
}

TEST(NatTranslation, OutboundOnlyRefreshIsSaidToDiffer) {
  EXPECT_THAT(TranslateNat(Spec("port-restricted-cone"), 1).deviations,
              Contains(HasSubstr("conntrack also refreshes a live mapping on inbound packets")));
  EXPECT_THAT(TranslateNat(Spec("symmetric,refresh=both"), 1).deviations, IsEmpty());
  EXPECT_THAT(TranslateNat(Spec("full-cone,refresh=both"), 1).deviations,
              Contains(HasSubstr("refreshed by outbound packets")));
}

TEST(NatTranslation, KnobsTheLabCannotBuildAreNamed) {
  const LabNat cgnat = TranslateNat(Spec("cgnat,udp_timeout=2500ms"), 2);
  EXPECT_EQ(cgnat.ruleset.type, lab::NatType::kPortRestrictedCone);
  EXPECT_THAT(cgnat.deviations, Contains(HasSubstr("ports: random is not built")));
  EXPECT_THAT(cgnat.deviations, Contains(HasSubstr("hairpin: true is not built")));
  EXPECT_THAT(cgnat.deviations, Contains(HasSubstr("external_ips: 2 is not built")));
  EXPECT_THAT(cgnat.deviations, Contains(HasSubstr("udp_timeout: 2500ms is rounded to 3s")));
  EXPECT_EQ(cgnat.udp_timeout_s, 3);

  const LabNat spp = TranslateNat(Spec("symmetric-port-preserving"), 1);
  EXPECT_EQ(spp.ruleset.type, lab::NatType::kPortRestrictedCone);
  EXPECT_THAT(spp.deviations, Contains(HasSubstr("built as Linux masquerade")));

  const LabNat adm = TranslateNat(Spec("mapping=address-dependent,ports=random,filtering=endpoint-independent"), 1);
  EXPECT_EQ(adm.ruleset.type, lab::NatType::kSymmetric);
  EXPECT_THAT(adm.deviations, Contains(HasSubstr("mapping: address-dependent cannot be built")));
  EXPECT_THAT(adm.deviations, Contains(HasSubstr("filtering: endpoint-independent is not built")));

  const LabNat range = TranslateNat(Spec("full-cone,port_range=20000-20999"), 1);
  EXPECT_THAT(range.deviations, Contains(HasSubstr("port_range: 20000-20999 is not built")));
  EXPECT_THAT(TranslateNat(Spec("full-cone"), 1).deviations,
              Not(Contains(HasSubstr("port_range"))));
}

TEST(NatTranslation, ConntrackSecondsRoundUpToAtLeastOne) {
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(1)), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Zero()), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Seconds(30)), 30);
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(30001)), 31);
}

}  // namespace
}  // namespace punchlab::runreal
