// Scenario NATs as the real lab builds them, and what it says it cannot build.
#include "run-real/nat-translation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::runreal {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::vector<std::string> kOne = {"203.0.113.5"};

nat::NatConfig Spec(const std::string& text) {
  const nat::NatSpecResult r = nat::ParseNatSpec(text);
  EXPECT_TRUE(r) << r.error;
  return r.config.value_or(nat::NatConfig{});
}

TEST(NatTranslation, EveryPresetIsBuiltAsItsLabNat) {
  for (const nat::NatPreset& preset : nat::NatPresets()) {
    const LabNat n = TranslateNat(preset.config, kOne);
    EXPECT_EQ(lab::ToString(n.ruleset.type), std::string(preset.name));
    // Only Linux's own differences from the model, no knob left unbuilt.
    EXPECT_EQ(n.deviations, lab::LinuxDifferences(n.ruleset.type, preset.config.hairpin))
        << preset.name;
    EXPECT_EQ(n.ruleset.wan_if, "wan");
    EXPECT_EQ(n.ruleset.lan_if, "lan");
    EXPECT_EQ(n.ruleset.hairpin, preset.config.hairpin);
    EXPECT_EQ(n.udp_timeout_s * 1000000000, preset.config.timeouts.udp.nanos());
    EXPECT_EQ(n.ruleset.udp_timeout, preset.config.timeouts.udp);
    EXPECT_EQ(n.tcp_established_timeout_s, 7440);
    EXPECT_EQ(n.tcp_transitory_timeout_s, 240);
  }
}

TEST(NatTranslation, AddressesAreNamedOnlyWhenHairpinOrAPoolNeedThem) {
  EXPECT_THAT(TranslateNat(Spec("port-restricted-cone"), kOne).ruleset.wan_addresses, IsEmpty());
  EXPECT_THAT(TranslateNat(Spec("port-restricted-cone,hairpin=on"), kOne).ruleset.wan_addresses,
              ElementsAre("203.0.113.5"));
  const LabNat pool = TranslateNat(Spec("cgnat"), {"203.0.113.5", "203.0.113.6"});
  EXPECT_THAT(pool.ruleset.wan_addresses, ElementsAre("203.0.113.5", "203.0.113.6"));
  EXPECT_THAT(pool.deviations, Not(Contains(HasSubstr("pooling"))));
  EXPECT_THAT(TranslateNat(Spec("cgnat,pooling=arbitrary"), {"203.0.113.5", "203.0.113.6"}).deviations,
              Contains(HasSubstr("pooling: arbitrary is not built")));
}

TEST(NatTranslation, RefreshOnBothIsExactForConntrackMappings) {
  const auto refresh = HasSubstr("refresh:");
  EXPECT_THAT(TranslateNat(Spec("symmetric"), kOne).deviations, Contains(refresh));
  EXPECT_THAT(TranslateNat(Spec("symmetric,refresh=both"), kOne).deviations,
              Not(Contains(refresh)));
  // The cones' endpoint-independent maps are refreshed outbound only.
  EXPECT_THAT(TranslateNat(Spec("full-cone,refresh=both"), kOne).deviations, Contains(refresh));
}

TEST(NatTranslation, KnobsTheLabCannotBuildAreNamed) {
  const LabNat adm = TranslateNat(
      Spec("mapping=address-dependent,ports=random,filtering=endpoint-independent"), kOne);
  EXPECT_EQ(adm.ruleset.type, lab::NatType::kSymmetric);
  EXPECT_THAT(adm.deviations, Contains(HasSubstr("mapping: address-dependent cannot be built")));
  EXPECT_THAT(adm.deviations, Contains(HasSubstr("filtering: endpoint-independent is not built")));

  const LabNat cone = TranslateNat(Spec("full-cone,ports=random,port_range=20000-20999"), kOne);
  EXPECT_EQ(cone.ruleset.type, lab::NatType::kFullCone);
  EXPECT_THAT(cone.deviations, Contains(HasSubstr("ports: random is not built")));
  EXPECT_THAT(cone.deviations, Contains(HasSubstr("port_range: 20000-20999 is not built")));

  const LabNat seq = TranslateNat(Spec("port-restricted-cone,ports=sequential"), kOne);
  EXPECT_EQ(seq.ruleset.type, lab::NatType::kPortRestrictedCone);
  EXPECT_THAT(seq.deviations, Contains(HasSubstr("ports: sequential is not built")));

  const LabNat odd = TranslateNat(Spec("symmetric,udp_timeout=2500ms"), kOne);
  EXPECT_THAT(odd.deviations, Contains(HasSubstr("udp_timeout: 2500ms is rounded to 3s")));
  EXPECT_EQ(odd.udp_timeout_s, 3);
  EXPECT_EQ(odd.ruleset.udp_timeout, Duration::Seconds(3));
}

TEST(NatTranslation, ConntrackSecondsRoundUpToAtLeastOne) {
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(1)), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Zero()), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Seconds(30)), 30);
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(30001)), 31);
}

}  // namespace
}  // namespace punchlab::runreal
