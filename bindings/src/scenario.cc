// Loading and validating scenarios (sim/scenario/loader.h) and the validated
// model (scenario.h), read-only: a Scenario object is always one the
// validator accepted, so Python cannot build an invalid one by assignment.
// A rejected file raises ScenarioError (a ValueError) whose text is every
// diagnostic as "file:line:col: message", one per line; `diagnostics`
// holds them as objects, and `file`, `line`, `column` are the first one's.
#include <pybind11/stl.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bind.h"
#include "punchlab/nat/port-mapping.h"
#include "punchlab/portmap/mapping-protocol.h"
#include "scenario/generate.h"
#include "scenario/loader.h"
#include "scenario/node-timers.h"
#include "scenario/scenario.h"

namespace punchlab::python {
namespace {

using namespace scenario;

struct ScenarioLoadFailure : std::runtime_error {
  explicit ScenarioLoadFailure(std::vector<Diagnostic> d)
      : std::runtime_error(Join(d)), errors(std::move(d)) {}
  static std::string Join(const std::vector<Diagnostic>& d) {
    std::string out;
    for (const Diagnostic& x : d) out += (out.empty() ? "" : "\n") + x.ToString();
    return out;
  }
  std::vector<Diagnostic> errors;
};

Scenario OrThrow(LoadResult r) {
  // The loader returns no scenario only with at least one error.
  if (!r.ok()) throw ScenarioLoadFailure(std::move(r.errors));
  return std::move(*r.scenario);
}

template <typename C>
auto SecondsOf(Duration C::*field) {
  return [field](const C& c) { return Seconds(c.*field); };
}
template <typename C>
auto OptionalSecondsOf(std::optional<Duration> C::*field) {
  return [field](const C& c) -> std::optional<double> {
    if (!(c.*field)) return std::nullopt;
    return Seconds(*(c.*field));
  };
}

// A NAT's `port_mapping` as the model holds it: the router's offer and
// where the file wrote it (NatDef keeps the two apart).
struct PortMappingDef {
  SourcePos where;
  nat::PortMappingConfig config;
};

// The protocols a router offers, by the file's words, in one order.
std::vector<std::string> Protocols(const nat::PortMappingConfig& c) {
  std::vector<std::string> out;
  for (auto protocol : {portmap::MappingProtocol::kPmp, portmap::MappingProtocol::kPcp,
                        portmap::MappingProtocol::kUpnp}) {
    if (c.offers(protocol)) out.push_back(portmap::ToString(protocol));
  }
  return out;
}

// NAME: value pairs in the file's order, as a dict (which keeps it).
py::dict PairsDict(const std::vector<std::pair<std::string, std::string>>& pairs) {
  py::dict out;
  for (const auto& [name, value] : pairs) out[py::str(name)] = py::str(value);
  return out;
}

// Enums whose str() is the word the scenario file (and results.json) uses.
template <typename E>
py::enum_<E> WordEnum(py::module_& m, const char* name,
                      const std::vector<std::pair<const char*, E>>& values) {
  py::enum_<E> e(m, name);
  for (const auto& [value_name, value] : values) e.value(value_name, value);
  SetEnumStr(e, [](E v) { return std::string(ToString(v)); });
  return e;
}

const char* CheckName(CheckKind k) {
  switch (k) {
    case CheckKind::kPath: return "path";
    case CheckKind::kTimeToDirect: return "time_to_direct";
    case CheckKind::kRtt: return "rtt";
    case CheckKind::kLoss: return "loss";
  }
  return "?";
}

void BindEnums(py::module_& m) {
  WordEnum<PathKind>(m, "PathKind",
                     {{"DIRECT", PathKind::kDirect}, {"DERP", PathKind::kDerp},
                      {"LOCAL", PathKind::kLocal}, {"NONE", PathKind::kNone},
                      {"ASYMMETRIC", PathKind::kAsymmetric}});
  WordEnum<TargetKind>(m, "TargetKind",
                       {{"NODE", TargetKind::kNode}, {"NAT", TargetKind::kNat},
                        {"FIREWALL", TargetKind::kFirewall},
                        {"DERP_REGION", TargetKind::kDerpRegion}});
  WordEnum<Action>(m, "Action",
                   {{"SET", Action::kSet}, {"RESTART", Action::kRestart},
                    {"REBOOT", Action::kReboot}, {"CHANGE_ADDRESS", Action::kChangeAddress},
                    {"LINK_DOWN", Action::kLinkDown}, {"LINK_UP", Action::kLinkUp},
                    {"DOWN", Action::kDown}, {"UP", Action::kUp}});
  py::enum_<CheckKind> check(m, "CheckKind");
  check.value("PATH", CheckKind::kPath)
      .value("TIME_TO_DIRECT", CheckKind::kTimeToDirect)
      .value("RTT", CheckKind::kRtt)
      .value("LOSS", CheckKind::kLoss);
  SetEnumStr(check, [](CheckKind k) { return std::string(CheckName(k)); });
  py::enum_<Hop::Kind>(m, "HopKind").value("NAT", Hop::Kind::kNat).value("FIREWALL", Hop::Kind::kFirewall);
}

void BindDiagnostics(py::module_& m) {
  py::class_<Diagnostic>(m, "Diagnostic", "One problem in a scenario file, with its position.")
      .def_readonly("file", &Diagnostic::file)
      .def_readonly("line", &Diagnostic::line, "1-based; 0 when the file could not be read")
      .def_readonly("column", &Diagnostic::column)
      .def_readonly("message", &Diagnostic::message)
      .def("__str__", &Diagnostic::ToString)
      .def("__repr__", [](const Diagnostic& d) { return "<Diagnostic " + d.ToString() + ">"; });

  py::class_<SourcePos>(m, "SourcePos", "1-based line and column in the scenario file.")
      .def_readonly("line", &SourcePos::line)
      .def_readonly("column", &SourcePos::column)
      .def("__repr__", [](const SourcePos& p) {
        return "SourcePos(" + std::to_string(p.line) + ", " + std::to_string(p.column) + ")";
      });

  // The exception type lives as long as the interpreter: a leaked handle, so
  // no Python object is released after Python has shut down.
  static py::object* error_type =
      new py::object(py::exception<ScenarioLoadFailure>(m, "ScenarioError", PyExc_ValueError));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ScenarioLoadFailure& e) {
      py::object err = (*error_type)(e.what());
      err.attr("diagnostics") = py::cast(e.errors);
      // The first problem's position, for scripts that point at one place.
      const Diagnostic& first = e.errors.front();
      err.attr("file") = first.file;
      err.attr("line") = first.line;
      err.attr("column") = first.column;
      PyErr_SetObject(error_type->ptr(), err.ptr());
    }
  });
}

void BindParts(py::module_& m) {
  py::class_<Link>(m, "Link", "One link's properties (both directions alike).")
      .def_property_readonly("latency_s", SecondsOf(&Link::latency))
      .def_property_readonly("jitter_s", SecondsOf(&Link::jitter))
      .def_readonly("loss", &Link::loss, "fraction 0..1")
      .def_readonly("bandwidth_bps", &Link::bandwidth_bps, "0 = unlimited");

  py::class_<DerpRegion>(m, "DerpRegion")
      .def_readonly("where", &DerpRegion::where)
      .def_readonly("id", &DerpRegion::id)
      .def_readonly("name", &DerpRegion::name)
      .def_property_readonly("latency_s", SecondsOf(&DerpRegion::latency))
      .def("__repr__", [](const DerpRegion& r) {
        return "<DerpRegion " + std::to_string(r.id) + " " + r.name + ">";
      });

  py::class_<AccessRuleDef>(m, "AccessRule",
                            "One control.acls entry: the nodes in src may reach those in dst "
                            "(so each sees the other); '*' is every node of the domain.")
      .def_readonly("where", &AccessRuleDef::where)
      .def_readonly("domain", &AccessRuleDef::domain,
                    "as written, or (unwritten) the domain of the nodes it names")
      .def_readonly("src", &AccessRuleDef::src)
      .def_readonly("dst", &AccessRuleDef::dst)
      .def("__repr__", [](const AccessRuleDef& a) {
        auto list = [](const std::vector<std::string>& v) {
          std::string out;
          for (const std::string& x : v) out += (out.empty() ? "" : ", ") + x;
          return "[" + out + "]";
        };
        return "<AccessRule " + a.domain + ": " + list(a.src) + " -> " + list(a.dst) + ">";
      });

  py::class_<ControlServer>(m, "ControlServer")
      .def_property_readonly("latency_s", SecondsOf(&ControlServer::latency))
      .def_readonly("domains", &ControlServer::domains)
      .def_property_readonly("batch_delay_s", SecondsOf(&ControlServer::batch_delay),
                             "how long a domain's changes wait to go out together (0: at once)")
      .def_readonly("acls", &ControlServer::acls,
                    "the access rules; a domain with none: everyone sees everyone");

  py::class_<Hop>(m, "Hop", "One box between a host and the internet.")
      .def_readonly("kind", &Hop::kind)
      .def_readonly("name", &Hop::name)
      .def("__repr__", [](const Hop& h) {
        return std::string("<Hop ") + (h.kind == Hop::Kind::kNat ? "nat " : "firewall ") + h.name + ">";
      });

  py::class_<PortMappingDef>(m, "PortMapping",
                             "A NAT's `port_mapping`: what its router offers (NAT-PMP, PCP, UPnP "
                             "IGD) and how it answers; the words are the file's.")
      .def_readonly("where", &PortMappingDef::where, "its `port_mapping:` key")
      .def_property_readonly(
          "protocols", [](const PortMappingDef& p) { return Protocols(p.config); },
          "what it offers, of 'pmp', 'pcp', 'upnp' (in that order)")
      .def_property_readonly(
          "lease_limit_s",
          [](const PortMappingDef& p) -> std::optional<double> {
            if (!p.config.lease_limit) return std::nullopt;
            return Seconds(*p.config.lease_limit);
          },
          "the longest lease it grants; None: what the client asks")
      .def_property_readonly(
          "error", [](const PortMappingDef& p) { return std::string(nat::ToString(p.config.error)); },
          "'none', or the answer it refuses every mapping with")
      .def_property_readonly(
          "answer_from",
          [](const PortMappingDef& p) { return std::string(nat::ToString(p.config.answer_from)); },
          "'gateway' or 'lan-address'")
      .def_property_readonly("keep_on_reboot",
                             [](const PortMappingDef& p) { return p.config.keep_on_reboot; })
      .def_property_readonly(
          "upnp_lease_error",
          [](const PortMappingDef& p) { return std::string(nat::ToString(p.config.upnp_lease_error)); },
          "'none', 'invalid-args' or 'only-permanent-leases'")
      .def_property_readonly("multicast_only",
                             [](const PortMappingDef& p) { return p.config.multicast_only; })
      .def("__repr__", [](const PortMappingDef& p) {
        std::string protocols;
        for (const std::string& name : Protocols(p.config)) {
          protocols += (protocols.empty() ? "" : ", ") + name;
        }
        return "<PortMapping [" + protocols + "]>";
      });

  py::class_<NatDef>(m, "NatDef")
      .def_readonly("where", &NatDef::where)
      .def_readonly("name", &NatDef::name)
      .def_readonly("preset", &NatDef::preset)
      .def_readonly("config", &NatDef::config, "preset + knobs (a copy)")
      .def_readonly("external_ips", &NatDef::external_ips)
      .def_readonly("behind", &NatDef::behind, "'' = the internet")
      .def_readonly("chain", &NatDef::chain, "the boxes above this one, nearest first")
      .def_readonly("link", &NatDef::link)
      .def_property_readonly(
          "port_mapping",
          [](const NatDef& n) -> std::optional<PortMappingDef> {
            if (!n.port_mapping.any()) return std::nullopt;
            return PortMappingDef{n.port_mapping_where, n.port_mapping};
          },
          "None: the router answers no port-mapping request")
      .def("__repr__", [](const NatDef& n) { return "<NatDef " + n.name + ": " + n.config.ToString() + ">"; });

  py::class_<FirewallDef>(m, "FirewallDef")
      .def_readonly("where", &FirewallDef::where)
      .def_readonly("name", &FirewallDef::name)
      .def_readonly("config", &FirewallDef::config)
      .def_readonly("behind", &FirewallDef::behind)
      .def_readonly("chain", &FirewallDef::chain)
      .def_readonly("link", &FirewallDef::link)
      .def("__repr__", [](const FirewallDef& f) { return "<FirewallDef " + f.name + ">"; });

  py::class_<Program>(m, "Program",
                      "A node's `run` (real lab only): the program that is the node instead of "
                      "punchlab's client. command, env and files are as written, their "
                      "{{facts}} filled in only when the lab starts it.")
      .def_readonly("where", &Program::where, "its `run:` entry's value")
      .def_readonly("command", &Program::command, "argv; the first looked up in PATH")
      .def_property_readonly("env", [](const Program& p) { return PairsDict(p.env); },
                             "{NAME: value}, in the file's order")
      .def_property_readonly("files", [](const Program& p) { return PairsDict(p.files); },
                             "{relative path: contents}, in the file's order")
      .def_readonly("relay", &Program::relay)
      .def_readonly("service", &Program::service)
      .def_property_readonly("path_window_s", SecondsOf(&Program::path_window))
      .def_property_readonly("stop_grace_s", SecondsOf(&Program::stop_grace))
      .def_readonly("expect_exit", &Program::expect_exit, "None: it must run until stop_time")
      .def_readonly("expect_output", &Program::expect_output)
      .def_readonly("max_output_bytes", &Program::max_output_bytes)
      .def_readonly("max_packet_rate", &Program::max_packet_rate)
      .def("__repr__", [](const Program& p) {
        return "<Program " + (p.command.empty() ? std::string() : p.command.front()) + ">";
      });

  py::class_<NodeDef>(m, "NodeDef")
      .def_readonly("where", &NodeDef::where)
      .def_readonly("name", &NodeDef::name)
      .def_readonly("behind", &NodeDef::behind, "'' = public, on the internet")
      .def_readonly("chain", &NodeDef::chain, "every box to the internet, nearest first")
      .def_readonly("link", &NodeDef::link)
      .def_readonly("domain", &NodeDef::domain)
      .def_property_readonly("start_s", SecondsOf(&NodeDef::start))
      .def_property_readonly("start_skew_s", SecondsOf(&NodeDef::start_skew),
                             "its flows start its turn k of n times this / n late")
      .def_property_readonly(
          "data_plane", [](const NodeDef& n) { return std::string(node::DataPlaneName(n.data_plane)); },
          "what carries its data: 'wireguard' or 'sealed-frame', as the file writes it")
      .def_property_readonly(
          "timers",
          [](const NodeDef& n) {
            std::map<std::string, double> out;
            for (const std::string& arg : NodeTimerArgs(n.timers)) {
              const size_t eq = arg.find('=');
              out[arg.substr(0, eq)] = Duration::Parse(arg.substr(eq + 1))->seconds();
            }
            return out;
          },
          "the protocol timers the scenario sets for this node, {name: seconds}; the rest "
          "are the core's defaults")
      .def_readonly("run", &NodeDef::run, "the program that is this node; None: punchlab's client")
      .def("__repr__", [](const NodeDef& n) {
        return "<NodeDef " + n.name + (n.behind.empty() ? "" : " behind " + n.behind) + ">";
      });

  py::class_<Flow>(m, "Flow", "Probes of size_bytes every every_s from src to dst in [start_s, stop_s).")
      .def_readonly("where", &Flow::where)
      .def_readonly("src", &Flow::from)
      .def_readonly("dst", &Flow::to)
      .def_property_readonly("start_s", SecondsOf(&Flow::start))
      .def_property_readonly("stop_s", SecondsOf(&Flow::stop))
      .def_property_readonly("every_s", SecondsOf(&Flow::every))
      .def_readonly("size_bytes", &Flow::size_bytes)
      .def_readonly("rate_bps", &Flow::rate_bps)
      .def_property_readonly("idle",
                             [](const Flow& f) {
                               std::vector<std::pair<double, double>> out;
                               for (const Interval& i : f.idle) out.emplace_back(Seconds(i.from), Seconds(i.until));
                               return out;
                             },
                             "[(from_s, until_s), ...]: the gaps without traffic")
      .def("__repr__", [](const Flow& f) { return "<Flow " + f.from + " -> " + f.to + ">"; });

  py::class_<Settings>(m, "Settings", "What a `set` event changes; None = unchanged.")
      .def_property_readonly("latency_s", OptionalSecondsOf(&Settings::latency))
      .def_property_readonly("jitter_s", OptionalSecondsOf(&Settings::jitter))
      .def_readonly("loss", &Settings::loss)
      .def_readonly("bandwidth_bps", &Settings::bandwidth_bps)
      .def_readonly("mapping", &Settings::mapping)
      .def_readonly("block_udp", &Settings::block_udp);

  py::class_<Event>(m, "Event")
      .def_readonly("where", &Event::where)
      .def_property_readonly("at_s", SecondsOf(&Event::at))
      .def_readonly("target_kind", &Event::target_kind)
      .def_readonly("target", &Event::target)
      .def_readonly("action", &Event::action)
      .def_readonly("settings", &Event::settings)
      .def_property_readonly("duration_s", OptionalSecondsOf(&Event::duration), "undone after this long")
      .def("__repr__", [](const Event& e) {
        return "<Event at " + e.at.ToString() + " " + ToString(e.target_kind) + " " + e.target + " " +
               ToString(e.action) + ">";
      });

  py::class_<Expectation>(m, "Expectation", "One `expect` entry, between nodes a and b.")
      .def_readonly("where", &Expectation::where)
      .def_readonly("check", &Expectation::check)
      .def_readonly("a", &Expectation::a)
      .def_readonly("b", &Expectation::b)
      .def_readonly("path", &Expectation::path)
      .def_property_readonly("by_s", OptionalSecondsOf(&Expectation::by))
      .def_property_readonly("from_s", SecondsOf(&Expectation::from))
      .def_property_readonly("until_s", SecondsOf(&Expectation::until))
      .def_readonly("over", &Expectation::over)
      .def_property_readonly("time_to_direct_max_s", SecondsOf(&Expectation::time_to_direct_max))
      .def_property_readonly("rtt_min_s", OptionalSecondsOf(&Expectation::rtt_min))
      .def_property_readonly("rtt_max_s", OptionalSecondsOf(&Expectation::rtt_max))
      .def_readonly("loss_min", &Expectation::loss_min)
      .def_readonly("loss_max", &Expectation::loss_max)
      .def("__repr__", [](const Expectation& e) {
        return std::string("<Expectation ") + CheckName(e.check) + " " + e.a + "-" + e.b + " at line " +
               std::to_string(e.where.line) + ">";
      });
}

template <typename T>
auto Finder(const T* (Scenario::*find)(std::string_view) const) {
  return [find](const Scenario& s, const std::string& name) -> std::optional<T> {
    if (const T* found = (s.*find)(name)) return *found;
    return std::nullopt;
  };
}

void BindScenarioClass(py::module_& m) {
  py::class_<Scenario>(m, "Scenario", "A validated scenario: every default applied, every name checked.")
      .def_readonly("file", &Scenario::file)
      .def_readonly("name", &Scenario::name)
      .def_readonly("description", &Scenario::description)
      .def_property_readonly("stop_time_s", SecondsOf(&Scenario::stop_time))
      .def_readonly("seed", &Scenario::seed)
      .def_readonly("disco_log", &Scenario::disco_log, "record the disco log in the results")
      .def_readonly("internet", &Scenario::internet)
      .def_readonly("derp_regions", &Scenario::derp_regions)
      .def_readonly("control", &Scenario::control)
      .def_readonly("nats", &Scenario::nats)
      .def_readonly("firewalls", &Scenario::firewalls)
      .def_readonly("nodes", &Scenario::nodes)
      .def_readonly("traffic", &Scenario::traffic)
      .def_readonly("events", &Scenario::events)
      .def_readonly("expectations", &Scenario::expectations)
      .def(
          "with_node_timers",
          [](const Scenario& s, std::optional<std::string> node, const py::kwargs& timers) {
            Scenario out = s;
            if (node && out.FindNode(*node) == nullptr) {
              throw py::value_error("with_node_timers: no node '" + *node + "'");
            }
            for (NodeDef& n : out.nodes) {
              if (node && n.name != *node) continue;
              for (const auto& [key, value] : timers) {
                // Seconds as a number, or a duration as the YAML writes it ("1.5s").
                const std::string text =
                    py::isinstance<py::str>(value)
                        ? value.cast<std::string>()
                        : Duration::Nanos(static_cast<int64_t>(
                                              std::llround(value.cast<double>() * 1e9)))
                              .ToString();
                if (auto error = SetNodeTimer(n.timers, key.cast<std::string>() + "=" + text)) {
                  throw py::value_error("with_node_timers: " + *error);
                }
              }
            }
            return out;
          },
          py::arg("node") = py::none(),
          "A copy with node timers set, as the YAML keys of the same names do: for `node`, or "
          "every node. with_node_timers(heartbeat=1.0, trust_window='10s'); values are seconds "
          "or duration text. Raises ValueError for an unknown timer or a duration <= 0.")
      .def("find_node", Finder<NodeDef>(&Scenario::FindNode), py::arg("name"))
      .def("find_nat", Finder<NatDef>(&Scenario::FindNat), py::arg("name"))
      .def("find_firewall", Finder<FirewallDef>(&Scenario::FindFirewall), py::arg("name"))
      .def("find_derp_region", Finder<DerpRegion>(&Scenario::FindDerpRegion), py::arg("name"))
      .def("__repr__", [](const Scenario& s) {
        return "<Scenario " + s.name + ": " + std::to_string(s.nodes.size()) + " nodes, " +
               std::to_string(s.nats.size()) + " NATs, stop " + s.stop_time.ToString() + ">";
      });
}

void BindLoading(py::module_& m) {
  m.def(
      "load_scenario", [](const std::string& path) { return OrThrow(LoadScenarioFile(path)); },
      py::arg("path"), "Loads and validates a scenario file; raises ScenarioError (file:line:col).");
  m.def(
      "load_scenario_text",
      [](const std::string& text, const std::string& file_name) {
        return OrThrow(LoadScenarioText(text, file_name));
      },
      py::arg("text"), py::arg("file_name") = "<text>",
      "The same for YAML text; file_name names it in errors and is the default scenario name.");
  m.def(
      "validate_scenario", [](const std::string& path) { return LoadScenarioFile(path).errors; },
      py::arg("path"), "Every problem in the file, sorted by position; [] when it is valid.");
  m.def(
      "validate_scenario_text",
      [](const std::string& text, const std::string& file_name) {
        return LoadScenarioText(text, file_name).errors;
      },
      py::arg("text"), py::arg("file_name") = "<text>");
  m.def(
      "pair_scenario_yaml",
      [](const std::string& nat_a, const std::string& nat_b, double duration_s,
         uint32_t packets_per_second, uint64_t seed) {
        PairScenarioSpec spec;
        spec.nat_a = nat_a;
        spec.nat_b = nat_b;
        spec.duration = FromSeconds(duration_s, "duration_s");
        spec.packets_per_second = packets_per_second;
        spec.seed = seed;
        return PairScenarioYaml(spec);
      },
      py::arg("nat_a"), py::arg("nat_b"), py::arg("duration_s") = 60.0,
      py::arg("packets_per_second") = 10, py::arg("seed") = 1,
      "The YAML of one NAT-matrix cell (what `punchlab matrix` runs): alice behind nat_a, bob "
      "behind nat_b (preset names), one DERP region, probes both ways.");
}

}  // namespace

void BindScenario(py::module_& m) {
  BindEnums(m);
  BindDiagnostics(m);
  BindParts(m);
  BindScenarioClass(m);
  BindLoading(m);
}

}  // namespace punchlab::python
