// Scenario NATs as the real lab builds them, and what it says it cannot build.
#include "run-real/nat-translation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "results/run-options.h"
#include "run-real-test-util.h"

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

TEST(NatTranslation, EveryPresetIsBuiltFromItsKnobs) {
  for (const nat::NatPreset& preset : nat::NatPresets()) {
    const LabNat n = TranslateNat(preset.config, kOne);
    EXPECT_EQ(n.ruleset.nat, preset.config) << preset.name;
    // Only Linux's own differences from the model, no knob left unbuilt.
    EXPECT_EQ(n.linux_differences, lab::LinuxDifferences(preset.config)) << preset.name;
    EXPECT_EQ(n.ruleset.wan_if, "wan");
    EXPECT_EQ(n.ruleset.lan_if, "lan");
    EXPECT_EQ(n.udp_timeout_s * 1000000000, preset.config.timeouts.udp.nanos());
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
  EXPECT_THAT(pool.linux_differences, Not(Contains(HasSubstr("pooling"))));
}

TEST(NatTranslation, RefreshOnBothIsExactForConntrackMappings) {
  const auto refresh = HasSubstr("refresh:");
  EXPECT_THAT(TranslateNat(Spec("symmetric"), kOne).linux_differences, Contains(refresh));
  EXPECT_THAT(TranslateNat(Spec("symmetric,refresh=both"), kOne).linux_differences,
              Not(Contains(refresh)));
}

// What the lab cannot build is refused by knob, never built as something near it.
TEST(NatTranslation, KnobsTheLabCannotBuildAreRefused) {
  auto refused = [](const std::string& spec, const std::vector<std::string>& addresses) {
    try {
      TranslateNat(Spec(spec), addresses);
    } catch (const results::RunError& e) {
      return std::string(e.what());
    }
    return std::string("built");
  };
  EXPECT_THAT(refused("mapping=address-dependent,ports=random,filtering=endpoint-independent", kOne),
              HasSubstr("mapping=address-dependent: "));
  const std::string cone = refused("full-cone,ports=sequential,port_range=20000-20999", kOne);
  EXPECT_THAT(cone, HasSubstr("ports=sequential: "));
  EXPECT_THAT(cone, HasSubstr("port_range=20000-20999: "));
  EXPECT_THAT(refused("symmetric,udp_timeout=2500ms", kOne),
              HasSubstr("udp_timeout=2500ms: conntrack counts whole seconds"));
  EXPECT_THAT(refused("cgnat,pooling=arbitrary", {"203.0.113.5", "203.0.113.6"}),
              HasSubstr("pooling=arbitrary: "));
  EXPECT_THAT(refused("full-cone,refresh=both", kOne), HasSubstr("refresh=both: "));
  // Not presets, but built.
  EXPECT_EQ(refused("full-cone,ports=random", kOne), "built");
  EXPECT_EQ(refused("symmetric,filtering=address-dependent,hairpin=on", kOne), "built");
  EXPECT_EQ(refused("cgnat,pooling=arbitrary", kOne), "built");  // no pool, nothing to pool
}

TEST(NatTranslation, AScenarioIsCheckedBeforeTheLabIsBuilt) {
  const std::string head =
      "stop_time: 10s\n"
      "nats:\n"
      "  home: {preset: full-cone}\n";
  const std::string nodes =
      "nodes:\n"
      "  alice: {behind: home}\n"
      "  bob: {}\n";
  EXPECT_NO_THROW(CheckNatsBuildable(testing::LoadOk(
      head + "  office: {preset: symmetric, filtering: endpoint-independent}\n" + nodes)));
  try {
    CheckNatsBuildable(testing::LoadOk(
        head + "  office: {preset: symmetric, ports: sequential}\n" + nodes +
        "events: [{at: 5s, nat: home, mapping: address-dependent}]\n"));
    FAIL() << "built";
  } catch (const results::RunError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("\nt.yaml:4:3: nat office: ports=sequential: ")) << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:8:10: nat home after this event: "
                                "mapping=address-dependent: "))
        << what;
  }
}

TEST(NatTranslation, ConntrackSecondsAreWholeAndAtLeastOne) {
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(1)), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Zero()), 1);
  EXPECT_EQ(ConntrackSeconds(Duration::Seconds(30)), 30);
  EXPECT_EQ(ConntrackSeconds(Duration::Millis(30001)), 31);
}

}  // namespace
}  // namespace punchlab::runreal
