// What a run produced (sim/results/results.h) as Python objects: verdicts,
// pair summaries, the path timeline and the latency samples (probes), plus
// the results.json reader and the results-directory writer. Times are float
// seconds (*_s) and RTTs float milliseconds (*_ms), as in results.json; a
// pair's `rtt` is keyed by the path word ("direct", "derp", ...) as there.
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>

#include "bind.h"
#include "results/format.h"
#include "results/read-json.h"
#include "results/results.h"
#include "results/summary.h"
#include "results/write-csv.h"
#include "results/write-directory.h"
#include "results/write-json.h"
#include "results/write-junit.h"

namespace punchlab::python {
namespace {

using namespace results;

void BindObservations(py::module_& m) {
  py::enum_<Mode> mode(m, "Mode");
  mode.value("SIMULATION", Mode::kSimulation).value("REAL", Mode::kReal);
  SetEnumStr(mode, [](Mode v) { return std::string(ToString(v)); });

  py::class_<PathChange>(m, "PathChange", "From t_s on, node's data to peer takes `path`.")
      .def_property_readonly("t_s", [](const PathChange& c) { return Seconds(c.at); })
      .def_readonly("node", &PathChange::node)
      .def_readonly("peer", &PathChange::peer)
      .def_readonly("path", &PathChange::path)
      .def_readonly("detail", &PathChange::detail)
      .def_readonly("reason", &PathChange::reason)
      .def("__repr__", [](const PathChange& c) {
        return "<PathChange " + FormatSeconds(c.at) + " " + c.node + "->" + c.peer + " " +
               scenario::ToString(c.path) + " (" + c.reason + ")>";
      });

  py::class_<DiscoStep>(m, "DiscoStep",
                        "One step of the disco log: what node did or saw toward peer, and why.")
      .def_property_readonly("t_s", [](const DiscoStep& d) { return Seconds(d.at); })
      .def_readonly("node", &DiscoStep::node)
      .def_readonly("peer", &DiscoStep::peer)
      .def_property_readonly("what", [](const DiscoStep& d) { return std::string(ToString(d.what)); },
                             "ping-sent, ping-received, pong-sent, pong-received, "
                             "call-me-maybe-sent, call-me-maybe-received, candidate, trust, path, handshake, "
                             "portmap (the node's own port mapping: peer is empty)")
      .def_readonly("via", &DiscoStep::via)
      .def_readonly("endpoint", &DiscoStep::endpoint)
      .def_readonly("txid", &DiscoStep::txid)
      .def_readonly("reason", &DiscoStep::reason)
      .def("__repr__", [](const DiscoStep& d) {
        return "<DiscoStep " + FormatSeconds(d.at) + " " + d.node + "->" + d.peer + " " +
               ToString(d.what) + " (" + d.reason + ")>";
      });

  py::class_<Probe>(m, "Probe", "One latency sample: a probe src sent to dst and its echo.")
      .def_property_readonly("sent_s", [](const Probe& p) { return Seconds(p.sent_at); })
      .def_readonly("src", &Probe::src)
      .def_readonly("dst", &Probe::dst)
      .def_readonly("seq", &Probe::seq)
      .def_readonly("path", &Probe::path, "the probe's leg: the path src sent it on")
      .def_readonly("echo_path", &Probe::echo_path,
                    "the echo's leg: the path it arrived on back at src (none while unechoed)")
      .def_property_readonly(
          "round_trip",
          [](const Probe& p) -> std::optional<std::string> {
            const std::optional<RoundTripPath> trip = p.RoundTrip();
            if (!trip) return std::nullopt;
            return std::string(ToString(*trip));
          },
          "both legs: 'direct', 'local', 'derp' or 'mixed'; None while unechoed")
      .def_property_readonly("echoed_s",
                             [](const Probe& p) -> std::optional<double> {
                               if (!p.echoed_at) return std::nullopt;
                               return Seconds(*p.echoed_at);
                             })
      .def_property_readonly(
          "rtt_ms",
          [](const Probe& p) -> std::optional<double> {
            if (!p.echoed_at) return std::nullopt;
            return p.Rtt().millis();
          },
          "None when the echo never came back (lost, or in flight at stop)")
      .def("__repr__", [](const Probe& p) {
        return "<Probe " + p.src + "->" + p.dst + " #" + std::to_string(p.seq) + " " +
               scenario::ToString(p.path) + ">";
      });

  py::class_<ExpectationResult>(m, "ExpectationResult", "The verdict on one `expect` entry.")
      .def_property_readonly("line", [](const ExpectationResult& e) { return e.where.line; })
      .def_property_readonly("column", [](const ExpectationResult& e) { return e.where.column; })
      .def_readonly("text", &ExpectationResult::text)
      .def_readonly("ok", &ExpectationResult::ok)
      .def_readonly("observed", &ExpectationResult::observed)
      .def_readonly("observed_value", &ExpectationResult::observed_value,
                    "seconds for times and RTTs, a fraction for loss; None if not measured")
      .def("__repr__", [](const ExpectationResult& e) {
        return std::string("<ExpectationResult ") + (e.ok ? "ok " : "FAILED ") + e.text + ": " +
               e.observed + ">";
      });

  py::class_<RttPercentiles>(m, "RttPercentiles", "Nearest-rank percentiles, in milliseconds.")
      .def_readonly("samples", &RttPercentiles::samples)
      .def_property_readonly("min_ms", [](const RttPercentiles& r) { return r.min.millis(); })
      .def_property_readonly("p50_ms", [](const RttPercentiles& r) { return r.p50.millis(); })
      .def_property_readonly("p90_ms", [](const RttPercentiles& r) { return r.p90.millis(); })
      .def_property_readonly("p99_ms", [](const RttPercentiles& r) { return r.p99.millis(); })
      .def_property_readonly("max_ms", [](const RttPercentiles& r) { return r.max.millis(); })
      .def("__repr__", [](const RttPercentiles& r) {
        return "<RttPercentiles " + std::to_string(r.samples) + " samples, p50 " +
               std::to_string(r.p50.millis()) + "ms>";
      });

  py::class_<PairSummary>(m, "PairSummary", "Per unordered pair of nodes (a < b).")
      .def_readonly("a", &PairSummary::a)
      .def_readonly("b", &PairSummary::b)
      .def_property_readonly("first_send_s",
                             [](const PairSummary& p) -> std::optional<double> {
                               if (!p.first_send) return std::nullopt;
                               return Seconds(*p.first_send);
                             },
                             "when the pair's first probe was sent (either way)")
      .def_property_readonly("direct_at_s",
                             [](const PairSummary& p) -> std::optional<double> {
                               if (!p.direct_at) return std::nullopt;
                               return Seconds(*p.direct_at);
                             },
                             "when the first probe that crossed the direct path both ways was sent")
      .def_property_readonly("time_to_direct_s",
                             [](const PairSummary& p) -> std::optional<double> {
                               if (!p.time_to_direct) return std::nullopt;
                               return Seconds(*p.time_to_direct);
                             },
                             "direct_at_s - first_send_s; None if never direct")
      .def_readonly("final_path", &PairSummary::final_path)
      .def_property_readonly(
          "rtt",
          [](const PairSummary& p) {
            std::map<std::string, RttPercentiles> out;
            for (const auto& [kind, r] : p.rtt) out[ToString(kind)] = r;
            return out;
          },
          "{'direct': RttPercentiles, 'derp': ..., 'mixed': ...}: per round-trip path (both "
          "legs; 'derp' only round trips relayed both ways)")
      .def_readonly("probes_sent", &PairSummary::probes_sent)
      .def_readonly("probes_lost", &PairSummary::probes_lost)
      .def("__repr__", [](const PairSummary& p) {
        return "<PairSummary " + p.a + "-" + p.b + " final " + scenario::ToString(p.final_path) + ">";
      });
}

void BindResultsClass(py::module_& m) {
  py::class_<Results>(m, "Results", "What one scenario run produced (sim/results/README.md).")
      .def_readonly("scenario", &Results::scenario)
      .def_readonly("file", &Results::file)
      .def_readonly("description", &Results::description)
      .def_readonly("seed", &Results::seed)
      .def_readonly("mode", &Results::mode)
      .def_property_readonly("stop_time_s", [](const Results& r) { return Seconds(r.stop_time); })
      .def_property_readonly("ok", &Results::AllExpectationsOk, "every expectation held")
      .def_readonly("expectations", &Results::expectations)
      .def_readonly("pairs", &Results::pairs)
      .def_readonly("timeline", &Results::timeline)
      .def_readonly("disco_log", &Results::disco_log)
      .def_readonly("probes", &Results::probes,
                    "every probe in send order (empty when read back from results.json); each "
                    "access builds a new list, so keep it in a variable")
      .def_readonly("counters", &Results::counters)
      .def_readonly("notes", &Results::notes)
      .def_readonly("events_executed", &Results::events_executed)
      .def("find_pair",
           [](const Results& r, const std::string& x, const std::string& y) -> std::optional<PairSummary> {
             for (const PairSummary& p : r.pairs) {
               if ((p.a == x && p.b == y) || (p.a == y && p.b == x)) return p;
             }
             return std::nullopt;
           },
           py::arg("a"), py::arg("b"), "The summary of the pair in either order, or None.")
      .def("summary", &FormatSummary, "The text `punchlab run` prints.")
      .def("to_json", &ResultsJsonText, "results.json's text")
      .def("latency_csv", &LatencyCsvText, "latency.csv's text")
      .def("junit_xml", &JunitXmlText, "junit.xml's text")
      .def("write", [](const Results& r, const std::string& dir) { WriteResultsDirectory(dir, r); },
           py::arg("dir"),
           "Writes results.json, latency.csv, disco.csv and junit.xml into dir (created as needed).")
      .def("__repr__", [](const Results& r) {
        return "<Results " + r.scenario + (r.AllExpectationsOk() ? " ok" : " FAILED") + ", " +
               std::to_string(r.expectations.size()) + " expectations, " +
               std::to_string(r.timeline.size()) + " path changes, " +
               std::to_string(r.probes.size()) + " probes>";
      });
}

}  // namespace

void BindResults(py::module_& m) {
  py::register_exception<ResultsReadError>(m, "ResultsError", PyExc_ValueError);
  BindObservations(m);
  BindResultsClass(m);
  m.def("read_results_json", &ReadResultsJson, py::arg("path"),
        "Reads a results.json strictly; raises ResultsError naming the file and the key. "
        "Probes are not in results.json: `probes` comes back empty.");
  m.def("parse_results_json", &ParseResultsJson, py::arg("text"), py::arg("name") = "<text>");
}

}  // namespace punchlab::python
