// The committed files: every scenarios/**/*.yaml loads, REFERENCE.md is what
// `punchlab schema --markdown` prints, the fixtures say what they should, and
// no truncation of a valid file crashes the loader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "scenario-test-util.h"
#include "scenario/schema.h"
#include "support/read-file.h"

namespace punchlab::scenario {
namespace {

namespace fs = std::filesystem;

using testsupport::ReadFile;

std::vector<fs::path> Files(const fs::path& dir, std::string_view prefix = "") {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && name.rfind(prefix, 0) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

const fs::path kScenarios = fs::path(PUNCHLAB_SOURCE_DIR) / "scenarios";
const fs::path kFixtures = SCENARIO_FIXTURES_DIR;

TEST(Library, EveryExampleScenarioValidates) {
  const auto files = Files(kScenarios);
  EXPECT_GE(files.size(), 5u);
  for (const fs::path& file : files) {
    const LoadResult r = LoadScenarioFile(file.string());
    for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
    if (!r.ok()) continue;
    EXPECT_FALSE(r.scenario->description.empty()) << file << " should say what it shows";
    EXPECT_FALSE(r.scenario->expectations.empty()) << file << " should expect something";
  }
}

TEST(Library, ReferenceMatchesTheSchema) {
  const std::string committed = ReadFile(kScenarios / "REFERENCE.md");
  EXPECT_TRUE(committed == RenderSchemaMarkdown())
      << "scenarios/REFERENCE.md is stale: regenerate it with\n"
         "  punchlab schema --markdown > scenarios/REFERENCE.md";
}

// Good fixtures load; each bad fixture lists its errors as "# error: L:C: message".
TEST(Library, Fixtures) {
  const auto good = Files(kFixtures, "good-");
  const auto bad = Files(kFixtures, "bad-");
  EXPECT_FALSE(good.empty());
  EXPECT_FALSE(bad.empty());
  for (const fs::path& file : good) {
    for (const Diagnostic& d : LoadScenarioFile(file.string()).errors) {
      ADD_FAILURE() << d.ToString();
    }
  }
  for (const fs::path& file : bad) {
    std::vector<std::string> expected;
    std::istringstream lines(ReadFile(file));
    const std::string marker = "# error: ";
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(marker, 0) == 0) expected.push_back(file.string() + ":" + line.substr(marker.size()));
    }
    EXPECT_FALSE(expected.empty()) << file << " lists no '# error:' lines";
    std::vector<std::string> actual;
    for (const Diagnostic& d : LoadScenarioFile(file.string()).errors) actual.push_back(d.ToString());
    EXPECT_EQ(actual, expected) << file;
  }
}

// Cut a valid file after every line (and, for one file, after every byte):
// the loader either accepts the rest or says where it went wrong; it never
// throws or crashes, and never reports an error without a position.
void CheckText(const std::string& text, const std::string& what) {
  LoadResult r;
  ASSERT_NO_THROW(r = LoadScenarioText(text, "cut.yaml")) << what;
  for (const Diagnostic& d : r.errors) {
    EXPECT_GE(d.line, 1) << what << ": " << d.ToString();
    EXPECT_GE(d.column, 1) << what << ": " << d.ToString();
    EXPECT_FALSE(d.message.empty()) << what;
  }
}

TEST(Library, EveryTruncationByLinesIsValidOrPositioned) {
  for (const fs::path& file : Files(kScenarios)) {
    const std::string text = ReadFile(file);
    std::vector<size_t> cuts{0};
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') cuts.push_back(i + 1);
    }
    for (size_t lines = 0; lines < cuts.size(); ++lines) {
      CheckText(text.substr(0, cuts[lines]),
                  file.string() + " cut after " + std::to_string(lines) + " lines");
    }
  }
}

// Dropping any one line of a valid file: valid, or positioned errors.
TEST(Library, EveryLineDeletionIsValidOrPositioned) {
  for (const fs::path& file : Files(kScenarios)) {
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(file));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (size_t drop = 0; drop < lines.size(); ++drop) {
      std::string text;
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i != drop) text += lines[i] + "\n";
      }
      CheckText(text, file.string() + " without line " + std::to_string(drop + 1));
    }
  }
}

TEST(Library, EveryTruncationByBytesIsValidOrPositioned) {
  const std::string text = std::string(SchemaExample());
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CheckText(text.substr(0, cut), "example cut at byte " + std::to_string(cut));
  }
}

// The classic 4x4 matrix: every pair of the four classic NAT types.
TEST(Library, ClassicNatMatrixIsExpressible) {
  const char* presets[] = {"full-cone", "restricted-cone", "port-restricted-cone", "symmetric"};
  for (const char* left : presets) {
    for (const char* right : presets) {
      // Hole punching fails when a symmetric NAT meets a port-restricted
      // (or symmetric) one.
      auto is = [](const char* a, const char* b) { return std::string(a) == b; };
      const bool hard = (is(left, "symmetric") && !is(right, "full-cone") &&
                         !is(right, "restricted-cone")) ||
                        (is(right, "symmetric") && !is(left, "full-cone") &&
                         !is(left, "restricted-cone"));
      const std::string yaml =
          std::string("stop_time: 30s\nnats: {left: {preset: ") + left +
          "}, right: {preset: " + right + "}}\n"
          "nodes: {a: {behind: left}, b: {behind: right}}\n"
          "traffic: [{from: a, to: b, every: 200ms}]\n"
          "expect: [{between: [a, b], path: " +
          (hard ? "derp" : "direct") + ", by: 20s}]\n";
      testing::LoadOk(yaml);
    }
  }
}

// The field reproductions the format must be able to describe.
TEST(Library, FieldReproductionsAreExpressible) {
  const char* const cases[] = {
      // NAT mapping timeout shorter than the keepalive (heartbeats every 3 s).
      "nats: {home: {udp_timeout: 2s}}\nnodes: {a: {behind: home}, b: {}}\n"
      "traffic: [{from: a, to: b, every: 10s}]\n"
      "expect: [{between: [a, b], path: direct, from: 20s}]\n",
      // Both peers behind symmetric NATs.
      "nats: {l: {preset: symmetric}, r: {preset: symmetric}}\n"
      "nodes: {a: {behind: l}, b: {behind: r}}\n"
      "expect: [{between: [a, b], path: derp, from: 10s}]\n",
      // New flows get new mappings while old ones keep theirs.
      "nats: {home: {}}\nnodes: {a: {behind: home}, b: {}}\n"
      "events: [{at: 20s, nat: home, mapping: address-and-port-dependent}]\n"
      "expect: [{between: [a, b], path: direct, from: 10s}]\n",
      // Two peers behind one CGNAT that does not hairpin.
      "nats: {cg: {preset: cgnat, hairpin: false}, h1: {behind: cg}, h2: {behind: cg}}\n"
      "nodes: {a: {behind: h1}, b: {behind: h2}}\n"
      "expect: [{between: [a, b], path: derp, from: 10s}]\n",
      // UDP blocked by a corporate firewall.
      "firewalls: {corp: {block_udp: true}}\nnats: {office: {behind: corp}}\n"
      "nodes: {a: {behind: office}, b: {}}\n"
      "expect: [{between: [a, b], path: derp, from: 10s}]\n",
      // The public address changes under a running session.
      "nats: {home: {}}\nnodes: {a: {behind: home}, b: {}}\n"
      "events: [{at: 20s, nat: home, action: change-address}]\n"
      "expect: [{between: [a, b], time_to_direct_max: 10s, from: 20s}]\n",
      // A peer restarts with a new disco key.
      "nodes: {a: {}, b: {}}\nevents: [{at: 20s, node: b, action: restart}]\n"
      "expect: [{between: [a, b], time_to_direct_max: 10s, from: 20s}]\n",
      // Several nodes behind one port-rewriting NAT.
      "nats: {office: {ports: random}}\ndefaults: {behind: office}\n"
      "nodes: {a: {}, b: {}, c: {}, s: {behind: internet}}\n"
      "expect: [{between: [a, s], path: direct, by: 10s}, {between: [a, b], path: local, by: "
      "10s}]\n",
      // The home DERP region flaps on one bad latency sample.
      "derp: {regions: [{id: 1, name: fra, latency: 12ms}, {id: 2, name: ams, latency: 14ms}]}\n"
      "nats: {l: {preset: symmetric}, r: {preset: symmetric}}\n"
      "nodes: {a: {behind: l}, b: {behind: r}}\n"
      "events: [{at: 20s, derp_region: fra, latency: 300ms, for: 1s}]\n"
      "expect: [{between: [a, b], rtt_max: 150ms, over: derp, from: 10s}]\n",
      // An idle session whose mapping expired.
      "stop_time: 5m\nnats: {home: {udp_timeout: 30s}}\nnodes: {a: {behind: home}, b: {}}\n"
      "traffic: [{from: a, to: b, every: 1s, idle: [{at: 30s, for: 2m}]}]\n"
      "expect: [{between: [a, b], time_to_direct_max: 10s, from: 150s}]\n",
  };
  for (const char* yaml : cases) {
    SCOPED_TRACE(yaml);
    testing::LoadOk(yaml);
  }
}

}  // namespace
}  // namespace punchlab::scenario
