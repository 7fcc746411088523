// The results directory's files (sim/results/README.md): results.json written
// and read back, the strict reader's errors, latency.csv, junit.xml, and the
// directory writer's errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <nlohmann/json.hpp>

#include "results-test-util.h"
#include "results/read-json.h"
#include "results/write-csv.h"
#include "results/write-disco-csv.h"
#include "results/write-directory.h"
#include "results/write-json.h"
#include "results/write-junit.h"

namespace punchlab::results {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::Echoed;
using testing::Lost;
using testing::Ms;
using testing::ReadFile;
using testing::ScratchDir;
using testing::Sec;

// The README's example, small enough to spell out byte for byte.
Results ReadmeExample() {
  Results r;
  r.scenario = "home-vs-office";
  r.file = "scenarios/home-vs-office.yaml";
  r.description = "d";
  r.seed = 1;
  r.mode = Mode::kSimulation;
  r.stop_time = Sec(60);
  r.events.push_back({Sec(30), std::nullopt, "nat home reboot"});
  ExpectationResult e;
  e.where = {21, 5};
  e.text = "laptop-workstation path derp by 10s";
  e.ok = true;
  e.observed = "derp at 10s";
  r.expectations.push_back(e);
  PairSummary p;
  p.a = "laptop";
  p.b = "workstation";
  p.first_send = Ms(5100);
  p.final_path = PathKind::kDerp;
  p.probes_sent = 550;
  p.probes_lost = 2;
  p.rtt[RoundTripPath::kDerp] = {548,
                            Duration::Micros(70100),
                            Ms(71),
                            Duration::Micros(72300),
                            Ms(74),
                            Duration::Micros(75200)};
  r.pairs.push_back(p);
  PathChange c;
  c.at = Ms(412);
  c.node = "laptop";
  c.peer = "workstation";
  c.path = PathKind::kDerp;
  c.detail = "derp 1";
  c.reason = "start";
  r.timeline.push_back(c);
  r.counters["nat/home"] = {{"translated", 1200}, {"filtered", 3}};
  r.events_executed = 123456;
  return r;
}

constexpr const char* kReadmeExampleJson = R"json({
  "format": "punchlab-results/2",
  "scenario": "home-vs-office",
  "file": "scenarios/home-vs-office.yaml",
  "description": "d",
  "seed": 1,
  "mode": "simulation",
  "stop_time_s": 60.0,
  "ok": true,
  "events": [
    {
      "t_s": 30.0,
      "until_s": null,
      "what": "nat home reboot"
    }
  ],
  "expectations": [
    {
      "line": 21,
      "column": 5,
      "text": "laptop-workstation path derp by 10s",
      "ok": true,
      "observed": "derp at 10s",
      "observed_value": null
    }
  ],
  "pairs": [
    {
      "a": "laptop",
      "b": "workstation",
      "first_send_s": 5.1,
      "direct_at_s": null,
      "time_to_direct_s": null,
      "final_path": "derp",
      "probes_sent": 550,
      "probes_lost": 2,
      "rtt": {
        "derp": {
          "samples": 548,
          "min_ms": 70.1,
          "p50_ms": 71.0,
          "p90_ms": 72.3,
          "p99_ms": 74.0,
          "max_ms": 75.2
        }
      }
    }
  ],
  "timeline": [
    {
      "t_s": 0.412,
      "node": "laptop",
      "peer": "workstation",
      "path": "derp",
      "detail": "derp 1",
      "reason": "start"
    }
  ],
  "disco_log": [],
  "counters": {
    "nat/home": {
      "filtered": 3,
      "translated": 1200
    }
  },
  "notes": [],
  "events_executed": 123456
}
)json";

// Everything a results.json carries, with values that are easy to get wrong:
// times that are not whole milliseconds, a failed expectation with a value,
// every path kind, text needing JSON escapes, the largest integers.
Results RichResults() {
  Results r;
  r.scenario = "rich";
  r.file = "scenarios/rich.yaml";
  r.description = "quotes \" backslash \\ newline \n tab \t caf\xc3\xa9";
  r.seed = std::numeric_limits<uint64_t>::max();
  r.mode = Mode::kSimulation;
  r.stop_time = Duration::Nanos(90123456789);
  r.events.push_back({Duration::Nanos(10000000001), Duration::Nanos(13000000001),
                      "node alice link-down"});
  r.events.push_back({Sec(30), std::nullopt, "firewall fw set block_udp=false"});
  ExpectationResult ok;
  ok.where = {7, 3};
  ok.text = "alice-bob path direct by 10s";
  ok.ok = true;
  ok.observed = "direct at 10s";
  ExpectationResult failed;
  failed.where = {8, 3};
  failed.text = "alice-bob time to direct <= 1s from 0s";
  failed.ok = false;
  failed.observed = "2.548s (first round trip direct both ways: probe sent at 2.548s)";
  failed.observed_value = 2.548000001;
  r.expectations = {ok, failed};
  PairSummary p;
  p.a = "alice";
  p.b = "bob";
  p.first_send = Duration::Nanos(1000000007);
  p.direct_at = Duration::Nanos(3548000008);
  p.time_to_direct = Duration::Nanos(2548000001);
  p.final_path = PathKind::kDirect;
  p.probes_sent = 1180;
  p.probes_lost = 6;
  p.rtt[RoundTripPath::kDirect] = {1100, Duration::Nanos(40123456), Duration::Nanos(48000001),
                                   Ms(52), Duration::Micros(60001), Duration::Nanos(99999999)};
  p.rtt[RoundTripPath::kDerp] = {74, Ms(70), Ms(71), Ms(72), Ms(73), Ms(74)};
  p.rtt[RoundTripPath::kMixed] = {3, Ms(80), Ms(81), Ms(82), Ms(82), Ms(82)};
  PairSummary q;
  q.a = "bob";
  q.b = "carol";
  q.final_path = PathKind::kAsymmetric;
  // 1.000001 ms and 1.000000007 s come out of seconds()/millis() a hair low:
  // reading them back must round to the nanosecond, not truncate.
  const Duration odd_rtt = Duration::Nanos(1000001);
  q.rtt[RoundTripPath::kLocal] = {1, odd_rtt, odd_rtt, odd_rtt, odd_rtt, odd_rtt};
  r.pairs = {p, q};
  r.timeline.push_back(testing::Change(Duration::Nanos(412345678), "alice", "bob", PathKind::kDerp,
                                       "start"));
  r.timeline.push_back(testing::Change(Duration::Nanos(2548000001), "bob", "alice",
                                       PathKind::kDirect, "disco-pong"));
  r.timeline.push_back(
      testing::Change(Duration::Nanos(1000000007), "bob", "carol", PathKind::kLocal, "lan"));
  r.timeline.push_back(testing::Change(Duration::Nanos(90123456789), "bob", "carol",
                                       PathKind::kNone, "stopped"));
  r.timeline[1].detail = "direct 198.51.100.2:41641";
  r.disco_log.push_back({Duration::Nanos(2500000001), "alice", "bob", DiscoStepKind::kPingSent,
                         "udp", "198.51.100.2:41641", "00112233445566778899aabb", "discovery"});
  r.disco_log.push_back({Duration::Nanos(2548000001), "bob", "alice",
                         DiscoStepKind::kCallMeMaybeReceived, "derp 1", "", "",
                         "their endpoints [192.0.2.1:1, \"odd\"]"});
  r.counters["nat/home"] = {{"translated", 812}, {"filtered", 0}};
  r.counters["node/alice"] = {{"disco_pings_sent", std::numeric_limits<uint64_t>::max()}};
  r.notes = {"first note", "second <note> & \"quoted\""};
  r.events_executed = 987654321012;
  // Probes are not in results.json.
  r.probes.push_back(Echoed("alice", "bob", Sec(1), PathKind::kDirect, Ms(40)));
  return r;
}

// Field by field, probes excepted (they are not in results.json).
void ExpectSameResults(const Results& want, const Results& got) {
  EXPECT_EQ(got.scenario, want.scenario);
  EXPECT_EQ(got.file, want.file);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.seed, want.seed);
  EXPECT_EQ(got.mode, want.mode);
  EXPECT_EQ(got.stop_time, want.stop_time);
  EXPECT_EQ(got.counters, want.counters);
  EXPECT_EQ(got.notes, want.notes);
  EXPECT_EQ(got.events_executed, want.events_executed);
  ASSERT_EQ(got.events.size(), want.events.size());
  for (size_t i = 0; i < want.events.size(); ++i) {
    EXPECT_EQ(got.events[i].at, want.events[i].at);
    EXPECT_EQ(got.events[i].until, want.events[i].until);
    EXPECT_EQ(got.events[i].what, want.events[i].what);
  }
  ASSERT_EQ(got.expectations.size(), want.expectations.size());
  for (size_t i = 0; i < want.expectations.size(); ++i) {
    SCOPED_TRACE("expectations[" + std::to_string(i) + "]");
    const ExpectationResult& w = want.expectations[i];
    const ExpectationResult& g = got.expectations[i];
    EXPECT_EQ(g.where.line, w.where.line);
    EXPECT_EQ(g.where.column, w.where.column);
    EXPECT_EQ(g.text, w.text);
    EXPECT_EQ(g.ok, w.ok);
    EXPECT_EQ(g.observed, w.observed);
    EXPECT_EQ(g.observed_value, w.observed_value);
  }
  ASSERT_EQ(got.pairs.size(), want.pairs.size());
  for (size_t i = 0; i < want.pairs.size(); ++i) {
    SCOPED_TRACE("pairs[" + std::to_string(i) + "]");
    const PairSummary& w = want.pairs[i];
    const PairSummary& g = got.pairs[i];
    EXPECT_EQ(g.a, w.a);
    EXPECT_EQ(g.b, w.b);
    EXPECT_EQ(g.first_send, w.first_send);
    EXPECT_EQ(g.direct_at, w.direct_at);
    EXPECT_EQ(g.time_to_direct, w.time_to_direct);
    EXPECT_EQ(g.final_path, w.final_path);
    EXPECT_EQ(g.probes_sent, w.probes_sent);
    EXPECT_EQ(g.probes_lost, w.probes_lost);
    ASSERT_EQ(g.rtt.size(), w.rtt.size());
    for (const auto& [kind, wp] : w.rtt) {
      SCOPED_TRACE(ToString(kind));
      ASSERT_EQ(g.rtt.count(kind), 1u);
      const RttPercentiles& gp = g.rtt.at(kind);
      EXPECT_EQ(gp.samples, wp.samples);
      EXPECT_EQ(gp.min, wp.min);
      EXPECT_EQ(gp.p50, wp.p50);
      EXPECT_EQ(gp.p90, wp.p90);
      EXPECT_EQ(gp.p99, wp.p99);
      EXPECT_EQ(gp.max, wp.max);
    }
  }
  ASSERT_EQ(got.timeline.size(), want.timeline.size());
  for (size_t i = 0; i < want.timeline.size(); ++i) {
    SCOPED_TRACE("timeline[" + std::to_string(i) + "]");
    const PathChange& w = want.timeline[i];
    const PathChange& g = got.timeline[i];
    EXPECT_EQ(g.at, w.at);
    EXPECT_EQ(g.node, w.node);
    EXPECT_EQ(g.peer, w.peer);
    EXPECT_EQ(g.path, w.path);
    EXPECT_EQ(g.detail, w.detail);
    EXPECT_EQ(g.reason, w.reason);
  }
  ASSERT_EQ(got.disco_log.size(), want.disco_log.size());
  for (size_t i = 0; i < want.disco_log.size(); ++i) {
    SCOPED_TRACE("disco_log[" + std::to_string(i) + "]");
    const DiscoStep& w = want.disco_log[i];
    const DiscoStep& g = got.disco_log[i];
    EXPECT_EQ(g.at, w.at);
    EXPECT_EQ(g.node, w.node);
    EXPECT_EQ(g.peer, w.peer);
    EXPECT_EQ(g.what, w.what);
    EXPECT_EQ(g.via, w.via);
    EXPECT_EQ(g.endpoint, w.endpoint);
    EXPECT_EQ(g.txid, w.txid);
    EXPECT_EQ(g.reason, w.reason);
  }
}

// ---------------------------------------------------------------------------
// results.json

TEST(ResultsJson, ReadmeExampleByteForByte) {
  EXPECT_EQ(ResultsJsonText(ReadmeExample()), kReadmeExampleJson);
}

TEST(ResultsJson, RoundTripGivesBackEveryFieldButProbes) {
  const Results original = RichResults();
  const Results back = ParseResultsJson(ResultsJsonText(original), "rich.json");
  ExpectSameResults(original, back);
  EXPECT_TRUE(back.probes.empty());
  EXPECT_FALSE(back.AllExpectationsOk());
}

TEST(ResultsJson, RealModeHasNoEventsExecutedAndRoundTrips) {
  Results real = RichResults();
  real.mode = Mode::kReal;
  const std::string text = ResultsJsonText(real);
  EXPECT_THAT(text, HasSubstr("\"mode\": \"real\""));
  EXPECT_THAT(text, Not(HasSubstr("events_executed")));
  const Results back = ParseResultsJson(text, "real.json");
  real.events_executed = 0;  // simulation only: not carried
  ExpectSameResults(real, back);
}

// A real run with program nodes also carries the wire's samples and the
// programs' reports; reading them back and writing again gives the same bytes.
TEST(ResultsJson, WireSamplesAndProgramsRoundTrip) {
  Results real = RichResults();
  real.mode = Mode::kReal;
  real.wire.push_back({Ms(1200), "alice", "bob", PathKind::kDirect, 3, 420});
  real.wire.push_back({Ms(1300), "bob", "alice", PathKind::kDerp, 1, 148});
  ProgramReport p;
  p.node = "alice";
  p.command = "sh peer.sh";
  p.status = ProgramReport::Status::kExited;
  p.started_at = Sec(1);
  p.exited_at = Ms(2500);
  p.exit_code = 1;
  p.detail = "no route";
  p.output_bytes = 12;
  p.output_matches = {std::string("wg0 up"), std::nullopt};
  p.peak_packet_rate = 30;
  p.peak_at = Sec(2);
  p.reported_paths = {{Ms(4200), "bob", PathKind::kDirect}};
  real.programs.push_back(p);
  ProgramReport never;
  never.node = "bob";
  never.status = ProgramReport::Status::kNeverStarted;
  real.programs.push_back(never);
  const std::string text = ResultsJsonText(real);
  EXPECT_THAT(text, HasSubstr("\"status\": \"never-started\""));
  const Results back = ParseResultsJson(text, "real.json");
  ASSERT_EQ(back.wire.size(), 2u);
  EXPECT_EQ(back.wire[1].path, PathKind::kDerp);
  EXPECT_EQ(back.wire[0].bytes, 420u);
  ASSERT_EQ(back.programs.size(), 2u);
  EXPECT_EQ(back.programs[0].exit_code, 1);
  EXPECT_EQ(back.programs[0].output_matches[0], "wg0 up");
  EXPECT_FALSE(back.programs[0].output_matches[1]);
  ASSERT_EQ(back.programs[0].reported_paths.size(), 1u);
  EXPECT_EQ(back.programs[0].reported_paths[0].at, Ms(4200));
  EXPECT_EQ(back.programs[1].status, ProgramReport::Status::kNeverStarted);
  EXPECT_EQ(ResultsJsonText(back), text);
  // Simulated results never have them: their bytes stay as they were.
  EXPECT_THAT(ResultsJsonText(RichResults()), Not(HasSubstr("\"programs\"")));
}

TEST(ResultsJson, SameResultsGiveTheSameBytes) {
  const Results r = RichResults();
  const Results copy = r;
  const std::string text = ResultsJsonText(r);
  EXPECT_EQ(ResultsJsonText(r), text);
  EXPECT_EQ(ResultsJsonText(copy), text);
  // Reading back and writing again reproduces the file exactly: nothing is
  // lost or reformatted on the way (compare and matrix rely on this).
  EXPECT_EQ(ResultsJsonText(ParseResultsJson(text, "rich.json")), text);
  EXPECT_EQ(text.back(), '\n');
}

TEST(ResultsJson, ProbesAreLeftOut) {
  Results a = RichResults();
  Results b = a;
  b.probes.clear();
  EXPECT_EQ(ResultsJsonText(a), ResultsJsonText(b));
  EXPECT_THAT(ResultsJsonText(a), Not(HasSubstr("probes\":")));
}

TEST(ResultsJson, TopLevelKeysInTheDocumentedOrder) {
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(ResultsJsonText(RichResults()));
  std::vector<std::string> keys;
  for (const auto& item : doc.items()) keys.push_back(item.key());
  EXPECT_THAT(keys, ::testing::ElementsAre("format", "scenario", "file", "description", "seed",
                                           "mode", "stop_time_s", "ok", "events", "expectations",
                                           "pairs",
                                           "timeline", "disco_log", "counters", "notes",
                                           "events_executed"));
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["pairs"][0]["time_to_direct_s"], 2.548000001);
  EXPECT_TRUE(doc["pairs"][1]["time_to_direct_s"].is_null());
  EXPECT_TRUE(doc["expectations"][0]["observed_value"].is_null());
  EXPECT_EQ(doc["expectations"][1]["observed_value"], 2.548000001);
}

TEST(ResultsJson, InvalidUtf8IsReplacedNotThrown) {
  Results r = ReadmeExample();
  r.description = "bad \xff byte";
  std::string text;
  ASSERT_NO_THROW(text = ResultsJsonText(r));
  EXPECT_THAT(text, HasSubstr("bad \xef\xbf\xbd byte"));  // U+FFFD
  EXPECT_NO_THROW(ParseResultsJson(text, "utf8.json"));
}

// ---------------------------------------------------------------------------
// The strict reader's errors: file name, key path, what was expected.

// The README example with one change made to its JSON.
std::string Edited(const std::function<void(nlohmann::ordered_json&)>& edit) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(kReadmeExampleJson);
  edit(doc);
  return doc.dump(2);
}

std::string ReadError(const std::string& text) {
  try {
    ParseResultsJson(text, "out/results.json");
  } catch (const ResultsReadError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ResultsJsonReader, TheUneditedExampleReads) {
  EXPECT_EQ(ReadError(Edited([](auto&) {})), "(no error)");
}

// A NUL after the document: nlohmann would stop there and read the file as
// if nothing followed.
TEST(ResultsJsonReader, ARawNulIsRefusedWithItsPosition) {
  const std::string text = Edited([](auto&) {}) + "\n" + '\0' + "and whatever follows";
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_EQ(ReadError(text), "out/results.json: a raw NUL byte at line " +
                                 std::to_string(lines + 1) +
                                 ", column 1 (JSON has none; in a string it is written \\u0000)");
}

TEST(ResultsJsonReader, WrongFormatTag) {
  // The format before round trips were judged by both legs.
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["format"] = "punchlab-results/1"; })),
            "out/results.json: format: expected \"punchlab-results/2\"");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["format"] = "punchlab-matrix/1"; })),
            "out/results.json: format: expected \"punchlab-results/2\"");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["format"] = 1; })),
            "out/results.json: format: expected a string");
}

TEST(ResultsJsonReader, MissingKeysAtTopLevelAndNested) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d.erase("seed"); })),
            "out/results.json: missing key 'seed'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d.erase("format"); })),
            "out/results.json: missing key 'format'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0].erase("probes_sent"); })),
            "out/results.json: pairs[0]: missing key 'probes_sent'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["rtt"]["derp"].erase("p90_ms"); })),
            "out/results.json: pairs[0].rtt.derp: missing key 'p90_ms'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["expectations"][0].erase("observed_value"); })),
            "out/results.json: expectations[0]: missing key 'observed_value'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["timeline"][0].erase("reason"); })),
            "out/results.json: timeline[0]: missing key 'reason'");
  // Simulation results must say how much work the run was.
  EXPECT_EQ(ReadError(Edited([](auto& d) { d.erase("events_executed"); })),
            "out/results.json: missing key 'events_executed'");
}

// The disco log came later than punchlab-results/2's first files: a file
// without it reads as an empty log; a step must be whole and name a known kind.
TEST(ResultsJsonReader, DiscoLogAbsentIsEmptyAndItsStepsAreChecked) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d.erase("disco_log"); })), "(no error)");
  const auto with_step = [](auto& d) {
    d["disco_log"] = nlohmann::json::array({{{"t_s", 1.5},
                                             {"node", "laptop"},
                                             {"peer", "workstation"},
                                             {"what", "pong-received"},
                                             {"via", "udp"},
                                             {"endpoint", "192.0.2.1:41641"},
                                             {"txid", "00"},
                                             {"reason", "rtt 20.000ms"}}});
  };
  EXPECT_EQ(ReadError(Edited(with_step)), "(no error)");
  EXPECT_EQ(ReadError(Edited([&](auto& d) {
              with_step(d);
              d["disco_log"][0]["what"] = "pinged";
            })),
            "out/results.json: disco_log[0].what: 'pinged' is not a disco step");
  EXPECT_EQ(ReadError(Edited([&](auto& d) {
              with_step(d);
              d["disco_log"][0].erase("txid");
            })),
            "out/results.json: disco_log[0]: missing key 'txid'");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["disco_log"] = "none"; })),
            "out/results.json: disco_log: expected a list");
}

TEST(ResultsJsonReader, WrongTypes) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["probes_sent"] = "550"; })),
            "out/results.json: pairs[0].probes_sent: expected a non-negative integer");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["probes_lost"] = -1; })),
            "out/results.json: pairs[0].probes_lost: expected a non-negative integer");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["seed"] = 1.5; })),
            "out/results.json: seed: expected a non-negative integer");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["expectations"][0]["ok"] = "yes"; })),
            "out/results.json: expectations[0].ok: expected true or false");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["expectations"][0]["observed_value"] = "1s"; })),
            "out/results.json: expectations[0].observed_value: expected a number or null");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["scenario"] = nullptr; })),
            "out/results.json: scenario: expected a string");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["mode"] = "sim"; })),
            "out/results.json: mode: expected simulation or real");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["timeline"][0]["path"] = "relay"; })),
            "out/results.json: timeline[0].path: expected one of direct, derp, local, none, "
            "asymmetric");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["final_path"] = 2; })),
            "out/results.json: pairs[0].final_path: expected one of direct, derp, local, none, "
            "asymmetric");
  EXPECT_EQ(ReadError(Edited([](auto& d) {
              d["pairs"][0]["rtt"]["relay"] = d["pairs"][0]["rtt"]["derp"];
            })),
            "out/results.json: pairs[0].rtt.relay: expected one of direct, derp, local, mixed");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["expectations"] = nlohmann::json::object(); })),
            "out/results.json: expectations: expected a list");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["timeline"][0] = "0.4s derp"; })),
            "out/results.json: timeline[0]: expected a map");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["counters"]["nat/home"] = 5; })),
            "out/results.json: counters.nat/home: expected a map");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["counters"]["nat/home"]["filtered"] = -3; })),
            "out/results.json: counters.nat/home.filtered: expected a non-negative integer");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["notes"] = {"fine", 3}; })),
            "out/results.json: notes[1]: expected a string");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["expectations"][0]["line"] = 5000000000; })),
            "out/results.json: expectations[0].line: out of range");
}

// Times that would overflow nanoseconds are refused, naming the key.
TEST(ResultsJsonReader, TimesBeyondNanosecondRangeAreOutOfRange) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["stop_time_s"] = 1e300; })),
            "out/results.json: stop_time_s: out of range");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["timeline"][0]["t_s"] = -1e12; })),
            "out/results.json: timeline[0].t_s: out of range");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["rtt"]["derp"]["max_ms"] = 1e16; })),
            "out/results.json: pairs[0].rtt.derp.max_ms: out of range");
}

// A number the format requires may not be null or text; the message must not
// offer null as a choice there.
TEST(ResultsJsonReader, RequiredNumbersSayJustNumber) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["stop_time_s"] = nullptr; })),
            "out/results.json: stop_time_s: expected a number");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["stop_time_s"] = "60s"; })),
            "out/results.json: stop_time_s: expected a number");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["pairs"][0]["rtt"]["derp"]["p50_ms"] = "71"; })),
            "out/results.json: pairs[0].rtt.derp.p50_ms: expected a number");
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["timeline"][0]["t_s"] = nullptr; })),
            "out/results.json: timeline[0].t_s: expected a number");
}

TEST(ResultsJsonReader, OkMustAgreeWithTheExpectations) {
  EXPECT_EQ(ReadError(Edited([](auto& d) { d["ok"] = false; })),
            "out/results.json: ok: disagrees with the expectations' ok");
}

TEST(ResultsJsonReader, TruncatedOrNotJson) {
  const std::string text = kReadmeExampleJson;
  EXPECT_EQ(ReadError(text.substr(0, text.size() / 2)), "out/results.json: not valid JSON");
  EXPECT_EQ(ReadError(text.substr(0, text.size() - 3)), "out/results.json: not valid JSON");
  EXPECT_EQ(ReadError(""), "out/results.json: not valid JSON");
  EXPECT_EQ(ReadError("[1, 2]"), "out/results.json: expected a map");
}

TEST(ResultsJsonReader, ReadsAFileAndNamesItInErrors) {
  ScratchDir dir;
  const std::string good = dir / "results.json";
  WriteTextFile(good, ResultsJsonText(RichResults()));
  ExpectSameResults(RichResults(), ReadResultsJson(good));

  const std::string bad = dir / "bad.json";
  WriteTextFile(bad, Edited([](auto& d) { d.erase("pairs"); }));
  try {
    ReadResultsJson(bad);
    ADD_FAILURE() << "no error";
  } catch (const ResultsReadError& e) {
    EXPECT_EQ(std::string(e.what()), bad + ": missing key 'pairs'");
  }

  const std::string missing = dir / "missing.json";
  try {
    ReadResultsJson(missing);
    ADD_FAILURE() << "no error";
  } catch (const ResultsReadError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot read: No such file or directory");
  }
  // A directory opens but does not read: said so, not parsed as an empty file.
  try {
    ReadResultsJson(dir.path());
    ADD_FAILURE() << "no error";
  } catch (const ResultsReadError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path() + ": cannot read: Is a directory");
  }
}

// ---------------------------------------------------------------------------
// latency.csv

TEST(LatencyCsv, OneRowPerProbeInOrderWithBothLegsAndFixedDecimals) {
  Results r = testing::EmptyRun();
  r.probes.push_back(Echoed("laptop", "workstation", Ms(5100), PathKind::kDerp,
                            Duration::Nanos(71204321)));
  r.probes.push_back(Lost("laptop", "workstation", Ms(5200), PathKind::kDerp));
  r.probes.back().seq = 1;
  r.probes.push_back(Echoed("workstation", "laptop", Duration::Nanos(12345678901),
                            PathKind::kDirect, Duration::Micros(40500), PathKind::kDerp));
  r.probes.push_back(Echoed("laptop", "workstation", Sec(20), PathKind::kLocal,
                            Duration::Micros(250)));
  r.probes.back().seq = 2;
  r.probes.push_back(Lost("laptop", "workstation", Sec(21), PathKind::kNone));
  r.probes.back().seq = 3;
  // Sent in the last 2 s of the run: not (yet) lost.
  r.probes.push_back(Lost("laptop", "workstation", Sec(58), PathKind::kDirect));
  r.probes.back().seq = 4;
  EXPECT_EQ(LatencyCsvText(r),
            "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms\n"
            "5.100000,laptop,workstation,0,derp,derp,derp,71.204\n"
            "5.200000,laptop,workstation,1,derp,,lost,\n"
            "12.345679,workstation,laptop,0,direct,derp,mixed,40.500\n"
            "20.000000,laptop,workstation,2,local,local,local,0.250\n"
            "21.000000,laptop,workstation,3,none,,lost,\n"
            "58.000000,laptop,workstation,4,direct,,in-flight,\n");
}

TEST(DiscoCsv, OneRowPerStepQuotedWhereNeeded) {
  EXPECT_EQ(DiscoCsvText(RichResults()),
            "time_s,node,peer,what,via,endpoint,txid,reason\n"
            "2.500000,alice,bob,ping-sent,udp,198.51.100.2:41641,00112233445566778899aabb,"
            "discovery\n"
            "2.548000,bob,alice,call-me-maybe-received,derp 1,,,"
            "\"their endpoints [192.0.2.1:1, \"\"odd\"\"]\"\n");
  EXPECT_EQ(DiscoCsvText(testing::EmptyRun()), std::string(kDiscoCsvHeader) + "\n");
  for (DiscoStepKind k : {DiscoStepKind::kPingSent, DiscoStepKind::kPongReceived,
                          DiscoStepKind::kCallMeMaybeSent, DiscoStepKind::kCandidate,
                          DiscoStepKind::kTrust, DiscoStepKind::kPath}) {
    EXPECT_EQ(ParseDiscoStepKind(ToString(k)), k);
  }
  EXPECT_EQ(ParseDiscoStepKind("ping"), std::nullopt);
}

TEST(LatencyCsv, HeaderAloneWithoutProbes) {
  Results r = testing::EmptyRun();
  EXPECT_EQ(LatencyCsvText(r), "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms\n");
}

// ---------------------------------------------------------------------------
// junit.xml

// libxml2 reads what libxml2 wrote: a test must not trust the writer to check
// itself, so the document is parsed strictly (no recovery, no network) and
// the tests look at what a CI system would read.
struct XmlDoc {
  xmlDocPtr doc = nullptr;
  std::string error;
  explicit XmlDoc(const std::string& xml) {
    doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "junit.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == nullptr) {
      const xmlError* e = xmlGetLastError();
      error = e != nullptr && e->message != nullptr ? e->message : "not well-formed";
    }
  }
  ~XmlDoc() {
    if (doc != nullptr) xmlFreeDoc(doc);
  }
  XmlDoc(const XmlDoc&) = delete;
  XmlDoc& operator=(const XmlDoc&) = delete;
  xmlNodePtr root() const { return xmlDocGetRootElement(doc); }
};

std::string WellFormednessError(const std::string& xml) {
  XmlDoc d(xml);
  return d.doc == nullptr ? (d.error.empty() ? "not well-formed" : d.error) : "";
}

std::vector<xmlNodePtr> Children(xmlNodePtr node, const char* name) {
  std::vector<xmlNodePtr> out;
  for (xmlNodePtr c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && std::string_view(reinterpret_cast<const char*>(c->name)) == name) {
      out.push_back(c);
    }
  }
  return out;
}

std::string Attr(xmlNodePtr node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "<absent>";
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string Content(xmlNodePtr node) {
  xmlChar* v = xmlNodeGetContent(node);
  std::string out(v != nullptr ? reinterpret_cast<const char*>(v) : "");
  xmlFree(v);
  return out;
}

TEST(XmlChecker, RejectsWhatIsNotWellFormed) {
  // The junit checks below lean on this checker: it must be able to fail.
  EXPECT_EQ(WellFormednessError("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; &#38;</a>\n"), "");
  for (const char* bad : {"<a><b></a></b>", "<a x=\"1\" x=\"2\"/>", "<a>&</a>", "<a>&nbsp;</a>",
                          "<a>\x01</a>", "<a x=\"<\"/>", "<a x=1/>", "<a>", "<a/><b/>",
                          "text<a/>", "<a x=\"\"y=\"\"/>"}) {
    EXPECT_NE(WellFormednessError(bad), "") << bad;
  }
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(XmlSafeText, KeepsMarkupAndUtf8AndReplacesForbiddenControls) {
  EXPECT_EQ(XmlSafeText("a < b & c > d \"e\" 'f'"), "a < b & c > d \"e\" 'f'");
  EXPECT_EQ(XmlSafeText("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  const std::string controls = std::string("nul") + '\0' + "bell" + '\x07' + "esc" + '\x1b';
  EXPECT_EQ(XmlSafeText(controls), "nul?bell?esc?");
  EXPECT_EQ(XmlSafeText("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");  // UTF-8 kept
  EXPECT_EQ(XmlSafeText(""), "");
}

// XML must be UTF-8: a stray byte (a Latin-1 file name, a cut sequence, an
// overlong form, a surrogate) becomes U+FFFD, and the document stays well-formed.
TEST(XmlSafeText, BytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  const std::string kReplacement = "\xef\xbf\xbd";
  EXPECT_EQ(XmlSafeText("caf\xe9"), "caf" + kReplacement);
  EXPECT_EQ(XmlSafeText("\xe2\x9c"), kReplacement + kReplacement);       // cut short
  EXPECT_EQ(XmlSafeText("\xc0\xaf"), kReplacement + kReplacement);       // overlong '/'
  EXPECT_EQ(XmlSafeText("\xed\xa0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(XmlSafeText("\xf0\x9f\x92\xac"), "\xf0\x9f\x92\xac");    // U+1F4AC kept
  Results r = ReadmeExample();
  r.notes.push_back("lab note from a Latin-1 world: \xe9t\xe9");
  r.expectations[0].ok = false;
  r.expectations[0].observed = "derp \xff at 10s";
  const std::string xml = JunitXmlText(r);
  EXPECT_EQ(WellFormednessError(xml), "");
  // nlohmann-json's dump refuses text that is not UTF-8 (error 316).
  EXPECT_NO_THROW((void)nlohmann::json(xml).dump());
  EXPECT_NE(xml.find("derp \xef\xbf\xbd at 10s"), std::string::npos);
}

TEST(JunitXml, TwoExpectationsExactly) {
  Results r = ReadmeExample();
  ExpectationResult failed;
  failed.where = {24, 5};
  failed.text = "laptop-workstation time to direct <= 5s from 0s";
  failed.ok = false;
  failed.observed = "never direct";
  r.expectations.push_back(failed);
  EXPECT_EQ(JunitXmlText(r),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"punchlab\" tests=\"2\" failures=\"1\">\n"
            "  <testsuite name=\"home-vs-office\" tests=\"2\" failures=\"1\" errors=\"0\" "
            "skipped=\"0\">\n"
            "    <properties>\n"
            "      <property name=\"file\" value=\"scenarios/home-vs-office.yaml\"/>\n"
            "      <property name=\"mode\" value=\"simulation\"/>\n"
            "      <property name=\"seed\" value=\"1\"/>\n"
            "    </properties>\n"
            "    <testcase classname=\"home-vs-office\" name=\"laptop-workstation path derp by "
            "10s\" file=\"scenarios/home-vs-office.yaml\" line=\"21\"/>\n"
            "    <testcase classname=\"home-vs-office\" name=\"laptop-workstation time to direct "
            "&lt;= 5s from 0s\" file=\"scenarios/home-vs-office.yaml\" line=\"24\">\n"
            "      <failure message=\"never direct\">never direct</failure>\n"
            "    </testcase>\n"
            "  </testsuite>\n"
            "</testsuites>\n");
}

TEST(JunitXml, OneTestcasePerExpectationFailuresCarryObservedAndAllTextSurvives) {
  Results r = testing::EmptyRun();
  r.scenario = "a&b";
  r.file = "dir/\"odd\" <name>.yaml";
  r.mode = Mode::kReal;
  r.seed = 42;
  for (int i = 0; i < 3; ++i) {
    ExpectationResult e;
    e.where = {10 + i, 3};
    e.text = "x-y every rtt <= 100ms #" + std::to_string(i);
    e.ok = i != 1;
    e.observed = i == 1 ? "3 samples; 1 outside <first> & \"worst\" 'x'\nsecond line" : "fine";
    r.expectations.push_back(e);
  }
  r.notes = {"lab: hairpin <not> built & \"noted\"", std::string("bell\x07 here")};
  const std::string xml = JunitXmlText(r);

  XmlDoc d(xml);
  ASSERT_NE(d.doc, nullptr) << d.error << "\n" << xml;
  const xmlNodePtr root = d.root();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(root->name)), "testsuites");
  EXPECT_EQ(Attr(root, "tests"), "3");
  EXPECT_EQ(Attr(root, "failures"), "1");
  EXPECT_EQ(Attr(root, "time"), "<absent>");  // byte-identical for one seed
  const auto suites = Children(root, "testsuite");
  ASSERT_EQ(suites.size(), 1u);
  const xmlNodePtr suite = suites[0];
  EXPECT_EQ(Attr(suite, "name"), "a&b");
  EXPECT_EQ(Attr(suite, "tests"), "3");
  EXPECT_EQ(Attr(suite, "failures"), "1");
  const auto cases = Children(suite, "testcase");
  ASSERT_EQ(cases.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Attr(cases[i], "classname"), "a&b");
    EXPECT_EQ(Attr(cases[i], "name"), r.expectations[i].text);
    EXPECT_EQ(Attr(cases[i], "file"), "dir/\"odd\" <name>.yaml");
    EXPECT_EQ(Attr(cases[i], "line"), std::to_string(10 + i));
    EXPECT_EQ(Attr(cases[i], "time"), "<absent>");
    EXPECT_EQ(Children(cases[i], "failure").size(), i == 1 ? 1u : 0u);
  }
  // What was observed survives markup, quotes and a newline, in the
  // attribute and in the element.
  const xmlNodePtr failure = Children(cases[1], "failure").at(0);
  EXPECT_EQ(Attr(failure, "message"), r.expectations[1].observed);
  EXPECT_EQ(Content(failure), r.expectations[1].observed);
  const auto properties = Children(Children(suite, "properties").at(0), "property");
  ASSERT_EQ(properties.size(), 3u);
  EXPECT_EQ(Attr(properties[0], "value"), r.file);
  EXPECT_EQ(Attr(properties[1], "value"), "real");
  EXPECT_EQ(Attr(properties[2], "value"), "42");
  EXPECT_EQ(Content(Children(suite, "system-out").at(0)),
            "lab: hairpin <not> built & \"noted\"\nbell? here\n");
}

TEST(JunitXml, NoExpectationsIsAnEmptyWellFormedSuite) {
  Results r = testing::EmptyRun();
  const std::string xml = JunitXmlText(r);
  EXPECT_EQ(WellFormednessError(xml), "") << xml;
  EXPECT_EQ(Count(xml, "<testcase"), 0u);
  EXPECT_THAT(xml, HasSubstr("tests=\"0\" failures=\"0\""));
  EXPECT_THAT(xml, Not(HasSubstr("system-out")));
}

// A multi-scenario run's junit.xml: one suite per scenario with its wall
// time, a "run" testcase carrying it (or the error that kept the scenario
// from running: CI shows it as broken, not as passed), every expectation
// with time=, and the totals on <testsuites>.
TEST(JunitXml, AggregateHoldsEverySuiteWithTimesTotalsAndErrors) {
  Results first = ReadmeExample();
  ExpectationResult failed;
  failed.where = {24, 5};
  failed.text = "laptop-workstation loss <= 0%";
  failed.observed = "3% lost";
  first.expectations.push_back(failed);
  Results second = testing::EmptyRun();
  second.scenario = "quiet";
  JunitRun broken;
  broken.results.scenario = "broken";
  broken.results.file = "broken.yaml";
  broken.error = "cannot build the world: <too many> links";
  broken.wall_s = 0.25;
  const std::string xml = JunitAggregateText({{first, 1.5, std::nullopt},
                                              {second, 0.0004, std::nullopt}, broken});
  XmlDoc d(xml);
  ASSERT_NE(d.doc, nullptr) << d.error << "\n" << xml;
  const xmlNodePtr root = d.root();
  // 2 expectations + 3 runs; the failed expectation; the broken run.
  EXPECT_EQ(Attr(root, "tests"), "5");
  EXPECT_EQ(Attr(root, "failures"), "1");
  EXPECT_EQ(Attr(root, "errors"), "1");
  EXPECT_EQ(Attr(root, "time"), "1.750");
  const auto suites = Children(root, "testsuite");
  ASSERT_EQ(suites.size(), 3u);
  const std::vector<std::vector<std::string>> want = {
      {"home-vs-office", "3", "1", "0", "1.500"},
      {"quiet", "1", "0", "0", "0.000"},
      {"broken", "1", "0", "1", "0.250"}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((std::vector<std::string>{Attr(suites[i], "name"), Attr(suites[i], "tests"),
                                        Attr(suites[i], "failures"), Attr(suites[i], "errors"),
                                        Attr(suites[i], "time")}),
              want[i]);
    const auto cases = Children(suites[i], "testcase");
    ASSERT_FALSE(cases.empty());
    EXPECT_EQ(Attr(cases[0], "name"), "run");
    EXPECT_EQ(Attr(cases[0], "time"), want[i][4]);
    for (size_t k = 1; k < cases.size(); ++k) EXPECT_EQ(Attr(cases[k], "time"), "0.000");
  }
  EXPECT_EQ(Children(suites[0], "testcase").size(), 3u);
  const auto error = Children(Children(suites[2], "testcase").at(0), "error");
  ASSERT_EQ(error.size(), 1u);
  EXPECT_EQ(Attr(error[0], "message"), "cannot build the world: <too many> links");
  EXPECT_EQ(Children(Children(suites[0], "testcase").at(0), "error").size(), 0u);
  // A results directory's own junit.xml stays free of wall times.
  EXPECT_THAT(JunitXmlText(first), Not(HasSubstr("time=")));
}

TEST(JunitXml, AggregateOfNothingIsAnEmptyWellFormedDocument) {
  const std::string xml = JunitAggregateText({});
  XmlDoc d(xml);
  ASSERT_NE(d.doc, nullptr) << d.error;
  EXPECT_EQ(Attr(d.root(), "tests"), "0");
  EXPECT_EQ(Attr(d.root(), "time"), "0.000");
}

// ---------------------------------------------------------------------------
// The results directory

TEST(ResultsDirectory, WritesTheThreeFilesCreatingDirectories) {
  ScratchDir scratch;
  Results r = RichResults();
  const std::string dir = scratch / "nested/cells/one";
  WriteResultsDirectory(dir, r);
  EXPECT_EQ(ReadFile(dir + "/results.json"), ResultsJsonText(r));
  EXPECT_EQ(ReadFile(dir + "/latency.csv"), LatencyCsvText(r));
  EXPECT_EQ(ReadFile(dir + "/disco.csv"), DiscoCsvText(r));
  EXPECT_EQ(ReadFile(dir + "/junit.xml"), JunitXmlText(r));

  // Writing again replaces, never appends.
  Results smaller = testing::EmptyRun();
  WriteResultsDirectory(dir, smaller);
  EXPECT_EQ(ReadFile(dir + "/results.json"), ResultsJsonText(smaller));
  EXPECT_EQ(ReadFile(dir + "/latency.csv"), "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms\n");
}

std::string WriteError(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ResultsDirectory, UnwritableDirectoryIsAClearErrorNamingIt) {
  // A parent that is a regular file cannot hold a directory, even for root.
  ScratchDir scratch;
  const std::string plain = scratch / "plain";
  WriteTextFile(plain, "not a directory\n");
  const std::string dir = plain + "/out";
  const std::string message = WriteError([&] { WriteResultsDirectory(dir, RichResults()); });
  EXPECT_THAT(message, StartsWith(dir + ": cannot create directory: "));
  EXPECT_EQ(ReadFile(plain), "not a directory\n");  // left alone
}

TEST(WriteTextFile, ErrorsNameThePath) {
  ScratchDir scratch;
  const std::string plain = scratch / "plain";
  WriteTextFile(plain, "x");

  // The parent itself is a regular file.
  const std::string under_file = plain + "/x.txt";
  const std::string message = WriteError([&] { WriteTextFile(under_file, "text"); });
  EXPECT_THAT(message, StartsWith(plain + ": cannot create directory: "));

  // The path is a directory.
  const std::string message_dir = WriteError([&] { WriteTextFile(scratch.path(), "text"); });
  EXPECT_EQ(message_dir, scratch.path() + ": cannot write");
}

TEST(WriteTextFile, CreatesParentsAndTruncates) {
  ScratchDir scratch;
  const std::string path = scratch / "a/b/c.txt";
  WriteTextFile(path, "a longer first text");
  EXPECT_EQ(ReadFile(path), "a longer first text");
  WriteTextFile(path, "short");
  EXPECT_EQ(ReadFile(path), "short");
  WriteTextFile(path, "");
  EXPECT_EQ(ReadFile(path), "");
}

}  // namespace
}  // namespace punchlab::results
