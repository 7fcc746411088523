#include "results/write-json.h"

#include <nlohmann/json.hpp>

namespace punchlab {
namespace results {
namespace {

using Json = nlohmann::ordered_json;

Json Rtt(const RttPercentiles& r) {
  Json j;
  j["samples"] = r.samples;
  j["min_ms"] = r.min.millis();
  j["p50_ms"] = r.p50.millis();
  j["p90_ms"] = r.p90.millis();
  j["p99_ms"] = r.p99.millis();
  j["max_ms"] = r.max.millis();
  return j;
}

Json Pair(const PairSummary& p) {
  Json j;
  j["a"] = p.a;
  j["b"] = p.b;
  const auto seconds = [](const std::optional<Duration>& d) {
    return d ? Json(d->seconds()) : Json();
  };
  j["first_send_s"] = seconds(p.first_send);
  j["direct_at_s"] = seconds(p.direct_at);
  j["time_to_direct_s"] = seconds(p.time_to_direct);
  j["final_path"] = scenario::ToString(p.final_path);
  j["probes_sent"] = p.probes_sent;
  j["probes_lost"] = p.probes_lost;
  Json rtt = Json::object();
  for (const auto& [kind, r] : p.rtt) rtt[ToString(kind)] = Rtt(r);
  j["rtt"] = std::move(rtt);
  return j;
}

Json Program(const ProgramReport& p) {
  const auto seconds = [](const std::optional<Duration>& d) {
    return d ? Json(d->seconds()) : Json();
  };
  Json j;
  j["node"] = p.node;
  j["command"] = p.command;
  j["status"] = ToString(p.status);
  j["started_s"] = p.started_at.seconds();
  j["exited_s"] = seconds(p.exited_at);
  j["exit_code"] = p.exit_code ? Json(*p.exit_code) : Json();
  j["detail"] = p.detail;
  j["output_bytes"] = p.output_bytes;
  Json matches = Json::array();
  for (const auto& m : p.output_matches) matches.push_back(m ? Json(*m) : Json());
  j["output_matches"] = std::move(matches);
  j["peak_packet_rate"] = p.peak_packet_rate;
  j["peak_at_s"] = seconds(p.peak_at);
  Json reported = Json::array();
  for (const auto& r : p.reported_paths) {
    reported.push_back(Json::array({r.at.seconds(), r.peer, scenario::ToString(r.path)}));
  }
  j["reported_paths"] = std::move(reported);
  return j;
}

}  // namespace

std::string ResultsJsonText(const Results& r) {
  Json j;
  j["format"] = kResultsFormat;
  j["scenario"] = r.scenario;
  j["file"] = r.file;
  j["description"] = r.description;
  j["seed"] = r.seed;
  j["mode"] = ToString(r.mode);
  j["stop_time_s"] = r.stop_time.seconds();
  j["ok"] = r.AllExpectationsOk();
  Json events = Json::array();
  for (const EventMark& m : r.events) {
    Json x;
    x["t_s"] = m.at.seconds();
    x["until_s"] = m.until ? Json(m.until->seconds()) : Json();
    x["what"] = m.what;
    events.push_back(std::move(x));
  }
  j["events"] = std::move(events);
  Json expectations = Json::array();
  for (const ExpectationResult& e : r.expectations) {
    Json x;
    x["line"] = e.where.line;
    x["column"] = e.where.column;
    x["text"] = e.text;
    x["ok"] = e.ok;
    x["observed"] = e.observed;
    x["observed_value"] = e.observed_value ? Json(*e.observed_value) : Json();
    expectations.push_back(std::move(x));
  }
  j["expectations"] = std::move(expectations);
  Json pairs = Json::array();
  for (const PairSummary& p : r.pairs) pairs.push_back(Pair(p));
  j["pairs"] = std::move(pairs);
  Json timeline = Json::array();
  for (const PathChange& c : r.timeline) {
    Json x;
    x["t_s"] = c.at.seconds();
    x["node"] = c.node;
    x["peer"] = c.peer;
    x["path"] = scenario::ToString(c.path);
    x["detail"] = c.detail;
    x["reason"] = c.reason;
    timeline.push_back(std::move(x));
  }
  j["timeline"] = std::move(timeline);
  Json disco = Json::array();
  for (const DiscoStep& d : r.disco_log) {
    Json x;
    x["t_s"] = d.at.seconds();
    x["node"] = d.node;
    x["peer"] = d.peer;
    x["what"] = ToString(d.what);
    x["via"] = d.via;
    x["endpoint"] = d.endpoint;
    x["txid"] = d.txid;
    x["reason"] = d.reason;
    disco.push_back(std::move(x));
  }
  j["disco_log"] = std::move(disco);
  Json counters = Json::object();
  for (const auto& [group, values] : r.counters) {
    Json g = Json::object();
    for (const auto& [name, value] : values) g[name] = value;
    counters[group] = std::move(g);
  }
  j["counters"] = std::move(counters);
  j["notes"] = r.notes;
  // Only real runs have them: simulated results stay as they were.
  if (!r.wire.empty()) {
    Json wire = Json::array();
    for (const WireSample& w : r.wire) {
      wire.push_back(Json::array({w.at.seconds(), w.from, w.to, scenario::ToString(w.path),
                                  w.packets, w.bytes}));
    }
    j["wire"] = std::move(wire);
  }
  // Only real runs with program nodes have them: simulated results stay as they were.
  if (!r.programs.empty()) {
    Json programs = Json::array();
    for (const ProgramReport& p : r.programs) programs.push_back(Program(p));
    j["programs"] = std::move(programs);
  }
  if (r.mode == Mode::kSimulation) j["events_executed"] = r.events_executed;
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace results
}  // namespace punchlab
