// The schema table is the one source of truth: it must agree with the NAT
// SPEC parser and the firewall's defaults, describe every key, and every
// literal default must be something the loader accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "punchlab/nat/firewall.h"
#include "punchlab/nat/nat-config.h"
#include "scenario-test-util.h"
#include "scenario/schema.h"
#include "scenario/suggest.h"

namespace punchlab::scenario {
namespace {

TEST(Schema, NatKnobsAreTheNatSpecKnobs) {
  // ParseNatSpec names its knobs when it meets an unknown one.
  const std::string error = nat::ParseNatSpec("no_such_knob=1").error;
  const std::string marker = "valid knobs are ";
  ASSERT_NE(error.find(marker), std::string::npos) << error;
  std::vector<std::string> spec_knobs;
  std::string list = error.substr(error.find(marker) + marker.size());
  for (size_t start = 0; start < list.size();) {
    size_t comma = list.find(", ", start);
    if (comma == std::string::npos) comma = list.size();
    spec_knobs.push_back(list.substr(start, comma - start));
    start = comma + 2;
  }
  std::vector<std::string> schema_knobs;
  for (const std::string& key : SchemaKeyNames(section::kNat)) {
    if (key != "preset" && key != "external_ips" && key != "behind" && key != "link" &&
        key != "port_mapping") {
      schema_knobs.push_back(key);
    }
  }
  EXPECT_EQ(schema_knobs, spec_knobs);
}

TEST(Schema, PresetsAreTheNatPresets) {
  std::vector<std::string> names;
  for (const nat::NatPreset& p : nat::NatPresets()) names.emplace_back(p.name);
  EXPECT_EQ(FindSchemaKey(section::kNat, "preset")->choices, names);
  EXPECT_EQ(nat::FindNatPreset(FindSchemaKey(section::kNat, "preset")->default_text)->config,
            nat::NatConfig{});
}

TEST(Schema, FirewallDefaultsAreTheFirewallConfigs) {
  const Scenario s = testing::LoadOk("firewalls: {fw: {}}\nnodes: {a: {behind: fw}}\n");
  const nat::FirewallConfig defaults;
  EXPECT_EQ(s.firewalls[0].config.timeouts, defaults.timeouts);
  EXPECT_EQ(s.firewalls[0].config.block_udp, defaults.block_udp);
}

TEST(Schema, EveryKeyIsDescribedOnce) {
  std::set<std::string> sections;
  for (const SchemaSection& s : SchemaSections()) {
    EXPECT_TRUE(sections.insert(s.name).second) << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const SchemaKey& k : SchemaKeys()) {
    SCOPED_TRACE(k.section + " " + k.key);
    EXPECT_TRUE(seen.insert({k.section, k.key}).second);
    EXPECT_EQ(sections.count(k.section), 1u);
    EXPECT_FALSE(k.description.empty());
    EXPECT_EQ(k.example.rfind(k.key + ": ", 0), 0u) << k.example;
    EXPECT_EQ(k.default_text.empty(), k.default_kind == DefaultKind::kRequired);
    if (k.kind == ValueKind::kChoice) {
      EXPECT_FALSE(k.choices.empty());
    }
    if (k.kind == ValueKind::kMap || k.kind == ValueKind::kNamedMaps ||
        k.kind == ValueKind::kList) {
      EXPECT_EQ(sections.count(k.subsection), 1u) << k.subsection;
    }
    // An alias that is a real key of the same section would never be suggested.
    for (const std::string& alias : k.aliases) {
      EXPECT_EQ(FindSchemaKey(k.section, alias), nullptr) << alias;
    }
  }
}

TEST(Schema, TextAndMarkdownMentionEveryKey) {
  const std::string text = RenderSchemaText();
  const std::string markdown = RenderSchemaMarkdown();
  for (const SchemaKey& k : SchemaKeys()) {
    EXPECT_NE(text.find("  " + k.key + ": "), std::string::npos) << k.key;
    EXPECT_NE(markdown.find("| `" + k.key + "` |"), std::string::npos) << k.key;
  }
  EXPECT_NE(text.find("stop_time: duration; default: 60s"), std::string::npos);
  EXPECT_NE(markdown.find("| `stop_time` | duration | `60s` |"), std::string::npos);
}

TEST(Suggest, ClosestMatch) {
  const std::vector<std::string> keys{"latency", "jitter", "loss", "bandwidth"};
  EXPECT_EQ(ClosestMatch("latancy", keys), "latency");
  EXPECT_EQ(ClosestMatch("ltaency", keys), "latency");  // a swap counts once
  EXPECT_EQ(ClosestMatch("LATENCY", keys), "latency");
  EXPECT_EQ(ClosestMatch("band", keys), "bandwidth");  // a prefix
  EXPECT_EQ(ClosestMatch("los", keys), "loss");
  EXPECT_FALSE(ClosestMatch("colour", keys));
  EXPECT_FALSE(ClosestMatch("x", keys));
  EXPECT_FALSE(ClosestMatch("latency", {}));
}

TEST(Suggest, JoinNames) {
  EXPECT_EQ(JoinNames({"a", "b"}), "a, b");
  EXPECT_EQ(JoinNames({"a", "b", "c"}, 2), "a, b, ... (3 in all)");
}

}  // namespace
}  // namespace punchlab::scenario
