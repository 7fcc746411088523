#include "results/read-json.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "files/read-whole-file.h"
#include "punchlab/json.h"
#include "results/write-json.h"

namespace punchlab {
namespace results {
namespace {

using Json = nlohmann::json;

// Walks the document keeping the key path for messages.
class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void Fail(const std::string& where, const std::string& what) const {
    throw ResultsReadError(name_ + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  const Json& Key(const Json& obj, const std::string& where, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end()) Fail(where, std::string("missing key '") + key + "'");
    return *it;
  }

  std::string String(const Json& obj, const std::string& where, const char* key) const {
    const Json& v = Key(obj, where, key);
    if (!v.is_string()) Fail(Join(where, key), "expected a string");
    return v.get<std::string>();
  }

  bool Bool(const Json& obj, const std::string& where, const char* key) const {
    const Json& v = Key(obj, where, key);
    if (!v.is_boolean()) Fail(Join(where, key), "expected true or false");
    return v.get<bool>();
  }

  uint64_t Unsigned(const Json& v, const std::string& where) const {
    if (!v.is_number_unsigned()) Fail(where, "expected a non-negative integer");
    return v.get<uint64_t>();
  }
  uint64_t Unsigned(const Json& obj, const std::string& where, const char* key) const {
    return Unsigned(Key(obj, where, key), Join(where, key));
  }

  std::optional<double> OptionalNumber(const Json& obj, const std::string& where,
                                       const char* key) const {
    const Json& v = Key(obj, where, key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) Fail(Join(where, key), "expected a number or null");
    return v.get<double>();
  }
  // Checks the type itself rather than going through OptionalNumber: a
  // required number given as text must not be told "expected a number or
  // null" when null is rejected right after.
  double Number(const Json& obj, const std::string& where, const char* key) const {
    const Json& v = Key(obj, where, key);
    if (!v.is_number()) Fail(Join(where, key), "expected a number");
    return v.get<double>();
  }

  // A time in seconds (or milliseconds with scale 1e6) back to exact
  // nanoseconds; beyond about 290 years the nanoseconds would overflow.
  Duration Time(double value, double ns_per_unit, const std::string& where,
                const char* key) const {
    const double ns = value * ns_per_unit;
    if (!(ns > -9.2e18 && ns < 9.2e18)) Fail(Join(where, key), "out of range");
    return Duration::Nanos(static_cast<int64_t>(std::llround(ns)));
  }
  Duration Time(const Json& obj, const std::string& where, const char* key,
                double ns_per_unit) const {
    return Time(Number(obj, where, key), ns_per_unit, where, key);
  }

  const Json& Array(const Json& obj, const std::string& where, const char* key) const {
    const Json& v = Key(obj, where, key);
    if (!v.is_array()) Fail(Join(where, key), "expected a list");
    return v;
  }
  const Json& Object(const Json& v, const std::string& where) const {
    if (!v.is_object()) Fail(where, "expected a map");
    return v;
  }

  PathKind Path(const Json& v, const std::string& where) const {
    if (v.is_string()) {
      for (PathKind p : {PathKind::kDirect, PathKind::kDerp, PathKind::kLocal, PathKind::kNone,
                         PathKind::kAsymmetric}) {
        if (v.get<std::string>() == scenario::ToString(p)) return p;
      }
    }
    Fail(where, "expected one of direct, derp, local, none, asymmetric");
  }

  RoundTripPath Trip(const std::string& v, const std::string& where) const {
    for (RoundTripPath p : {RoundTripPath::kDirect, RoundTripPath::kDerp, RoundTripPath::kLocal,
                            RoundTripPath::kMixed}) {
      if (v == ToString(p)) return p;
    }
    Fail(where, "expected one of direct, derp, local, mixed");
  }

  static std::string Join(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }
  static std::string Index(const char* key, size_t i) {
    return std::string(key) + "[" + std::to_string(i) + "]";
  }

 private:
  std::string name_;
};

int Int(const Reader& r, const Json& obj, const std::string& where, const char* key) {
  const uint64_t v = r.Unsigned(obj, where, key);
  if (v > 1000000000) r.Fail(Reader::Join(where, key), "out of range");
  return static_cast<int>(v);
}

}  // namespace

Results ParseResultsJson(std::string_view text, const std::string& name) {
  const Reader r(name);
  // nlohmann would stop at a NUL and read only what came before it.
  if (const std::optional<std::string> nul = RawNulError(text)) r.Fail("", *nul);
  Json doc = Json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) r.Fail("", "not valid JSON");
  r.Object(doc, "");
  if (r.String(doc, "", "format") != kResultsFormat) {
    r.Fail("format", std::string("expected \"") + kResultsFormat + "\"");
  }
  Results out;
  out.scenario = r.String(doc, "", "scenario");
  out.file = r.String(doc, "", "file");
  out.description = r.String(doc, "", "description");
  out.seed = r.Unsigned(doc, "", "seed");
  const std::string mode = r.String(doc, "", "mode");
  if (mode == ToString(Mode::kSimulation)) {
    out.mode = Mode::kSimulation;
  } else if (mode == ToString(Mode::kReal)) {
    out.mode = Mode::kReal;
  } else {
    r.Fail("mode", "expected simulation or real");
  }
  out.stop_time = r.Time(doc, "", "stop_time_s", 1e9);
  const bool ok = r.Bool(doc, "", "ok");

  const Json& events = r.Array(doc, "", "events");
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string at = Reader::Index("events", i);
    const Json& e = r.Object(events[i], at);
    EventMark m;
    m.at = r.Time(e, at, "t_s", 1e9);
    if (auto until = r.OptionalNumber(e, at, "until_s")) m.until = r.Time(*until, 1e9, at, "until_s");
    m.what = r.String(e, at, "what");
    out.events.push_back(std::move(m));
  }

  const Json& expectations = r.Array(doc, "", "expectations");
  for (size_t i = 0; i < expectations.size(); ++i) {
    const std::string at = Reader::Index("expectations", i);
    const Json& e = r.Object(expectations[i], at);
    ExpectationResult x;
    x.where.line = Int(r, e, at, "line");
    x.where.column = Int(r, e, at, "column");
    x.text = r.String(e, at, "text");
    x.ok = r.Bool(e, at, "ok");
    x.observed = r.String(e, at, "observed");
    x.observed_value = r.OptionalNumber(e, at, "observed_value");
    out.expectations.push_back(std::move(x));
  }
  if (ok != out.AllExpectationsOk()) r.Fail("ok", "disagrees with the expectations' ok");

  const Json& pairs = r.Array(doc, "", "pairs");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string at = Reader::Index("pairs", i);
    const Json& p = r.Object(pairs[i], at);
    PairSummary s;
    s.a = r.String(p, at, "a");
    s.b = r.String(p, at, "b");
    const auto optional_time = [&](const char* key) -> std::optional<Duration> {
      if (auto t = r.OptionalNumber(p, at, key)) return r.Time(*t, 1e9, at, key);
      return std::nullopt;
    };
    s.first_send = optional_time("first_send_s");
    s.direct_at = optional_time("direct_at_s");
    s.time_to_direct = optional_time("time_to_direct_s");
    s.final_path = r.Path(r.Key(p, at, "final_path"), Reader::Join(at, "final_path"));
    s.probes_sent = r.Unsigned(p, at, "probes_sent");
    s.probes_lost = r.Unsigned(p, at, "probes_lost");
    const std::string rtt_at = Reader::Join(at, "rtt");
    for (const auto& [kind, v] : r.Object(r.Key(p, at, "rtt"), rtt_at).items()) {
      const std::string k_at = Reader::Join(rtt_at, kind);
      const Json& o = r.Object(v, k_at);
      RttPercentiles pct;
      pct.samples = r.Unsigned(o, k_at, "samples");
      pct.min = r.Time(o, k_at, "min_ms", 1e6);
      pct.p50 = r.Time(o, k_at, "p50_ms", 1e6);
      pct.p90 = r.Time(o, k_at, "p90_ms", 1e6);
      pct.p99 = r.Time(o, k_at, "p99_ms", 1e6);
      pct.max = r.Time(o, k_at, "max_ms", 1e6);
      s.rtt[r.Trip(kind, k_at)] = pct;
    }
    out.pairs.push_back(std::move(s));
  }

  const Json& timeline = r.Array(doc, "", "timeline");
  for (size_t i = 0; i < timeline.size(); ++i) {
    const std::string at = Reader::Index("timeline", i);
    const Json& c = r.Object(timeline[i], at);
    PathChange x;
    x.at = r.Time(c, at, "t_s", 1e9);
    x.node = r.String(c, at, "node");
    x.peer = r.String(c, at, "peer");
    x.path = r.Path(r.Key(c, at, "path"), Reader::Join(at, "path"));
    x.detail = r.String(c, at, "detail");
    x.reason = r.String(c, at, "reason");
    out.timeline.push_back(std::move(x));
  }

  // The disco log came after punchlab-results/2's first files: absent is empty.
  if (doc.contains("disco_log")) {
    const Json& disco = r.Array(doc, "", "disco_log");
    for (size_t i = 0; i < disco.size(); ++i) {
      const std::string at = Reader::Index("disco_log", i);
      const Json& d = r.Object(disco[i], at);
      DiscoStep x;
      x.at = r.Time(d, at, "t_s", 1e9);
      x.node = r.String(d, at, "node");
      x.peer = r.String(d, at, "peer");
      const std::string what = r.String(d, at, "what");
      const std::optional<DiscoStepKind> kind = ParseDiscoStepKind(what);
      if (!kind) r.Fail(Reader::Join(at, "what"), "'" + what + "' is not a disco step");
      x.what = *kind;
      x.via = r.String(d, at, "via");
      x.endpoint = r.String(d, at, "endpoint");
      x.txid = r.String(d, at, "txid");
      x.reason = r.String(d, at, "reason");
      out.disco_log.push_back(std::move(x));
    }
  }

  for (const auto& [group, values] : r.Object(r.Key(doc, "", "counters"), "counters").items()) {
    const std::string at = Reader::Join("counters", group);
    for (const auto& [key, value] : r.Object(values, at).items()) {
      out.counters[group][key] = r.Unsigned(value, Reader::Join(at, key));
    }
  }

  const Json& notes = r.Array(doc, "", "notes");
  for (size_t i = 0; i < notes.size(); ++i) {
    if (!notes[i].is_string()) r.Fail(Reader::Index("notes", i), "expected a string");
    out.notes.push_back(notes[i].get<std::string>());
  }
  if (doc.contains("wire")) {
    const Json& wire = r.Array(doc, "", "wire");
    for (size_t i = 0; i < wire.size(); ++i) {
      const std::string at = Reader::Index("wire", i);
      const Json& w = wire[i];
      if (!w.is_array() || w.size() != 6 || !w[0].is_number() || !w[1].is_string() ||
          !w[2].is_string()) {
        r.Fail(at, "expected [t_s, from, to, path, packets, bytes]");
      }
      WireSample x;
      x.at = r.Time(w[0].get<double>(), 1e9, at, "t_s");
      x.from = w[1].get<std::string>();
      x.to = w[2].get<std::string>();
      x.path = r.Path(w[3], at);
      x.packets = r.Unsigned(w[4], at);
      x.bytes = r.Unsigned(w[5], at);
      out.wire.push_back(std::move(x));
    }
  }
  if (doc.contains("programs")) {
    const Json& programs = r.Array(doc, "", "programs");
    for (size_t i = 0; i < programs.size(); ++i) {
      const std::string at = Reader::Index("programs", i);
      const Json& p = r.Object(programs[i], at);
      ProgramReport x;
      x.node = r.String(p, at, "node");
      x.command = r.String(p, at, "command");
      const std::string status = r.String(p, at, "status");
      bool known = false;
      for (auto s : {ProgramReport::Status::kRan, ProgramReport::Status::kExited,
                     ProgramReport::Status::kNeverStarted, ProgramReport::Status::kOutputFlood}) {
        if (status == ToString(s)) {
          x.status = s;
          known = true;
        }
      }
      if (!known) r.Fail(Reader::Join(at, "status"), "expected one of ran, exited, never-started, output-flood");
      x.started_at = r.Time(p, at, "started_s", 1e9);
      if (auto t = r.OptionalNumber(p, at, "exited_s")) x.exited_at = r.Time(*t, 1e9, at, "exited_s");
      if (auto c = r.OptionalNumber(p, at, "exit_code")) x.exit_code = static_cast<int>(*c);
      x.detail = r.String(p, at, "detail");
      x.output_bytes = r.Unsigned(p, at, "output_bytes");
      for (const Json& m : r.Array(p, at, "output_matches")) {
        if (m.is_null()) {
          x.output_matches.emplace_back();
        } else if (m.is_string()) {
          x.output_matches.emplace_back(m.get<std::string>());
        } else {
          r.Fail(Reader::Join(at, "output_matches"), "expected strings or null");
        }
      }
      x.peak_packet_rate = r.Unsigned(p, at, "peak_packet_rate");
      if (auto t = r.OptionalNumber(p, at, "peak_at_s")) x.peak_at = r.Time(*t, 1e9, at, "peak_at_s");
      const std::string reported_at = Reader::Join(at, "reported_paths");
      for (const Json& rp : r.Array(p, at, "reported_paths")) {
        if (!rp.is_array() || rp.size() != 3 || !rp[0].is_number() || !rp[1].is_string()) {
          r.Fail(reported_at, "expected [t_s, peer, path]");
        }
        x.reported_paths.push_back({r.Time(rp[0].get<double>(), 1e9, reported_at, "t_s"),
                                    rp[1].get<std::string>(), r.Path(rp[2], reported_at)});
      }
      out.programs.push_back(std::move(x));
    }
  }
  if (out.mode == Mode::kSimulation) out.events_executed = r.Unsigned(doc, "", "events_executed");
  return out;
}

Results ReadResultsJson(const std::string& path) {
  const std::optional<std::string> text = files::ReadWholeFile(path);
  if (!text) throw ResultsReadError(path + ": cannot read: " + std::strerror(errno));
  return ParseResultsJson(*text, path);
}

}  // namespace results
}  // namespace punchlab
