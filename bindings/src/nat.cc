// NAT behaviour as RFC 4787 knobs (nat/include/punchlab/nat/nat-config.h), the named
// presets, and stateful firewall settings (punchlab/nat/firewall.h). Knobs are
// enums whose `spec` is the word a NAT SPEC or scenario file uses; NatConfig
// and FirewallConfig are dataclass-like: keyword construction with the C++
// defaults, equality, copy, replace(**changes), to_dict(), and a repr that
// evaluates back (NatConfig.parse('<canonical spec>')).
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bind.h"
#include "punchlab/nat/firewall.h"
#include "punchlab/nat/nat-config.h"

namespace punchlab::python {
namespace {

class NatSpecFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An enum whose values carry the SPEC word nat::ToString gives them.
template <typename E>
void BindSpecEnum(py::module_& m, const char* name, const char* doc,
                  const std::vector<std::pair<const char*, E>>& values) {
  py::enum_<E> e(m, name, doc);
  for (const auto& [value_name, value] : values) e.value(value_name, value);
  e.def_property_readonly(
      "spec", [](E v) { return std::string(nat::ToString(v)); },
      "The word a NAT SPEC or scenario file uses for this value (also its str()).");
  SetEnumStr(e, [](E v) { return std::string(nat::ToString(v)); });
  e.def_static(
      "from_spec",
      [values, type_name = std::string(name)](const std::string& word) {
        std::string valid;
        for (const auto& entry : values) {
          if (word == nat::ToString(entry.second)) return entry.second;
          valid += (valid.empty() ? "" : ", ") + std::string(nat::ToString(entry.second));
        }
        throw py::value_error("not a " + type_name + ": '" + word + "' (valid: " + valid + ")");
      },
      py::arg("word"));
}

std::pair<uint16_t, uint16_t> RangeTuple(const nat::PortRange& r) { return {r.first, r.last}; }

nat::PortRange RangeFrom(const std::pair<int, int>& t) {
  if (t.first < 1 || t.second > 65535 || t.first > t.second) {
    throw py::value_error("port_range: expected (first, last) with 1 <= first <= last <= 65535");
  }
  return nat::PortRange{static_cast<uint16_t>(t.first), static_cast<uint16_t>(t.second)};
}

Duration PositiveSeconds(double s, const char* what) {
  const Duration d = FromSeconds(s, what);
  if (d <= Duration::Zero()) throw py::value_error(std::string(what) + ": must be positive");
  return d;
}

bool SameRules(const std::vector<nat::PortRule>& a, const std::vector<nat::PortRule>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].protocol != b[i].protocol || a[i].first != b[i].first || a[i].last != b[i].last) {
      return false;
    }
  }
  return true;
}

// nat/ gives FirewallConfig no operator== (nothing in C++ compares them).
bool operator==(const nat::FirewallConfig& a, const nat::FirewallConfig& b) {
  return a.timeouts == b.timeouts && a.block_udp == b.block_udp &&
         SameRules(a.inbound_allow, b.inbound_allow) && SameRules(a.outbound_allow, b.outbound_allow);
}

// Dataclass-like extras shared by NatConfig and FirewallConfig: the field
// names, to_dict(), replace(**changes) (unknown names are a TypeError, as
// with dataclasses.replace) and copy support.
template <typename T>
void AddDataclassMethods(py::class_<T>& c, std::vector<std::string> fields) {
  py::tuple names(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) names[i] = py::str(fields[i]);
  c.attr("_fields") = names;
  c.def("to_dict", [fields](py::object self) {
    py::dict out;
    for (const std::string& f : fields) out[py::str(f)] = self.attr(f.c_str());
    return out;
  });
  c.def("replace", [fields](const T& self, py::kwargs changes) {
    py::object copy = py::cast(T(self));
    for (const auto& [key, value] : changes) {
      const std::string k = py::str(key);
      bool known = false;
      for (const std::string& f : fields) known = known || f == k;
      if (!known) throw py::type_error("replace(): unknown field '" + k + "'");
      py::setattr(copy, key, value);
    }
    return copy;
  });
  c.def("__copy__", [](const T& self) { return T(self); });
  c.def("__deepcopy__", [](const T& self, py::dict) { return T(self); }, py::arg("memo"));
  c.def("__eq__", [](const T& a, const T& b) { return a == b; });
}

void BindNatConfig(py::module_& n) {
  const nat::NatConfig def;
  py::class_<nat::NatConfig> c(n, "NatConfig",
                               "One NAT's behaviour, RFC 4787 knob by knob. str() is its "
                               "canonical SPEC: the closest preset plus overrides.");
  c.def(py::init([](nat::Dependence mapping, nat::Dependence filtering, nat::PortAssignment ports,
                    std::pair<int, int> port_range, bool hairpin, nat::Pooling pooling,
                    nat::Refresh refresh, double udp_timeout_s, double tcp_established_timeout_s,
                    double tcp_transitory_timeout_s) {
          nat::NatConfig cfg;
          cfg.mapping = mapping;
          cfg.filtering = filtering;
          cfg.ports = ports;
          cfg.port_range = RangeFrom(port_range);
          cfg.hairpin = hairpin;
          cfg.pooling = pooling;
          cfg.refresh = refresh;
          cfg.timeouts.udp = PositiveSeconds(udp_timeout_s, "udp_timeout_s");
          cfg.timeouts.tcp_established =
              PositiveSeconds(tcp_established_timeout_s, "tcp_established_timeout_s");
          cfg.timeouts.tcp_transitory =
              PositiveSeconds(tcp_transitory_timeout_s, "tcp_transitory_timeout_s");
          return cfg;
        }),
        py::kw_only(), py::arg("mapping") = def.mapping, py::arg("filtering") = def.filtering,
        py::arg("ports") = def.ports,
        py::arg("port_range") = std::pair<int, int>(def.port_range.first, def.port_range.last),
        py::arg("hairpin") = def.hairpin, py::arg("pooling") = def.pooling,
        py::arg("refresh") = def.refresh, py::arg("udp_timeout_s") = def.timeouts.udp.seconds(),
        py::arg("tcp_established_timeout_s") = def.timeouts.tcp_established.seconds(),
        py::arg("tcp_transitory_timeout_s") = def.timeouts.tcp_transitory.seconds());
  c.def_static(
      "parse",
      [](const std::string& spec) {
        nat::NatSpecResult r = nat::ParseNatSpec(spec);
        if (!r) throw NatSpecFailure(r.error);
        return *r.config;
      },
      py::arg("spec"), "A SPEC as `punchlab classify --nat` takes it: 'symmetric,hairpin=on'.");
  c.def_readwrite("mapping", &nat::NatConfig::mapping);
  c.def_readwrite("filtering", &nat::NatConfig::filtering);
  c.def_readwrite("ports", &nat::NatConfig::ports);
  c.def_property(
      "port_range", [](const nat::NatConfig& cfg) { return RangeTuple(cfg.port_range); },
      [](nat::NatConfig& cfg, std::pair<int, int> t) { cfg.port_range = RangeFrom(t); });
  c.def_readwrite("hairpin", &nat::NatConfig::hairpin);
  c.def_readwrite("pooling", &nat::NatConfig::pooling);
  c.def_readwrite("refresh", &nat::NatConfig::refresh);
  c.def_property(
      "udp_timeout_s", [](const nat::NatConfig& cfg) { return Seconds(cfg.timeouts.udp); },
      [](nat::NatConfig& cfg, double s) { cfg.timeouts.udp = PositiveSeconds(s, "udp_timeout_s"); });
  c.def_property(
      "tcp_established_timeout_s",
      [](const nat::NatConfig& cfg) { return Seconds(cfg.timeouts.tcp_established); },
      [](nat::NatConfig& cfg, double s) {
        cfg.timeouts.tcp_established = PositiveSeconds(s, "tcp_established_timeout_s");
      });
  c.def_property(
      "tcp_transitory_timeout_s",
      [](const nat::NatConfig& cfg) { return Seconds(cfg.timeouts.tcp_transitory); },
      [](nat::NatConfig& cfg, double s) {
        cfg.timeouts.tcp_transitory = PositiveSeconds(s, "tcp_transitory_timeout_s");
      });
  c.def_property_readonly("spec", &nat::NatConfig::ToString);
  c.def("__str__", &nat::NatConfig::ToString);
  c.def("__repr__",
        [](const nat::NatConfig& cfg) { return "NatConfig.parse('" + cfg.ToString() + "')"; });
  AddDataclassMethods(c, {"mapping", "filtering", "ports", "port_range", "hairpin", "pooling",
                          "refresh", "udp_timeout_s", "tcp_established_timeout_s",
                          "tcp_transitory_timeout_s"});
}

void BindPresets(py::module_& n) {
  py::class_<nat::NatPreset>(n, "NatPreset", "A named NAT behaviour: full-cone, symmetric, ...")
      .def_property_readonly("name", [](const nat::NatPreset& p) { return std::string(p.name); })
      .def_property_readonly("description",
                             [](const nat::NatPreset& p) { return std::string(p.description); })
      .def_property_readonly("config", [](const nat::NatPreset& p) { return p.config; },
                             "A copy: changing it does not change the preset.")
      .def("__repr__",
           [](const nat::NatPreset& p) { return "<NatPreset " + std::string(p.name) + ">"; });

  n.def(
      "presets", [] { return nat::NatPresets(); },
      "Every preset, in the order SPEC canonicalisation prefers them.");
  n.def(
      "preset",
      [](const std::string& name) {
        if (const nat::NatPreset* p = nat::FindNatPreset(name)) return *p;
        std::string valid;
        for (const nat::NatPreset& p : nat::NatPresets()) {
          valid += (valid.empty() ? "" : ", ") + std::string(p.name);
        }
        throw py::value_error("no NAT preset named '" + name + "' (presets: " + valid + ")");
      },
      py::arg("name"));
}

void BindFirewall(py::module_& n) {
  py::class_<nat::PortRule> rule(n, "PortRule", "`protocol` traffic to ports first..last.");
  rule.def(py::init([](nat::Protocol protocol, int first, int last) {
             if (first < 0 || last > 65535 || first > last) {
               throw py::value_error("PortRule: expected 0 <= first <= last <= 65535");
             }
             return nat::PortRule{protocol, static_cast<uint16_t>(first),
                                  static_cast<uint16_t>(last)};
           }),
           py::arg("protocol") = nat::Protocol::kUdp, py::arg("first") = 0,
           py::arg("last") = 65535)
      .def_readonly("protocol", &nat::PortRule::protocol)
      .def_readonly("first", &nat::PortRule::first)
      .def_readonly("last", &nat::PortRule::last)
      .def("matches", &nat::PortRule::Matches, py::arg("protocol"), py::arg("port"))
      .def("__eq__",
           [](const nat::PortRule& a, const nat::PortRule& b) { return SameRules({a}, {b}); })
      .def("__repr__", [](const nat::PortRule& r) {
        return "PortRule(Protocol." + std::string(r.protocol == nat::Protocol::kTcp ? "TCP" : "UDP") +
               ", " + std::to_string(r.first) + ", " + std::to_string(r.last) + ")";
      });

  const nat::FirewallConfig def;
  py::class_<nat::FirewallConfig> c(n, "FirewallConfig",
                                    "A stateful firewall: outbound opens flows, inbound needs one.");
  c.def(py::init([](double udp_timeout_s, double tcp_established_timeout_s,
                    double tcp_transitory_timeout_s, bool block_udp,
                    std::vector<nat::PortRule> inbound_allow,
                    std::vector<nat::PortRule> outbound_allow) {
          nat::FirewallConfig cfg;
          cfg.timeouts.udp = PositiveSeconds(udp_timeout_s, "udp_timeout_s");
          cfg.timeouts.tcp_established =
              PositiveSeconds(tcp_established_timeout_s, "tcp_established_timeout_s");
          cfg.timeouts.tcp_transitory =
              PositiveSeconds(tcp_transitory_timeout_s, "tcp_transitory_timeout_s");
          cfg.block_udp = block_udp;
          cfg.inbound_allow = std::move(inbound_allow);
          cfg.outbound_allow = std::move(outbound_allow);
          return cfg;
        }),
        py::kw_only(), py::arg("udp_timeout_s") = def.timeouts.udp.seconds(),
        py::arg("tcp_established_timeout_s") = def.timeouts.tcp_established.seconds(),
        py::arg("tcp_transitory_timeout_s") = def.timeouts.tcp_transitory.seconds(),
        py::arg("block_udp") = def.block_udp,
        py::arg("inbound_allow") = std::vector<nat::PortRule>{},
        py::arg("outbound_allow") = std::vector<nat::PortRule>{});
  c.def_property(
      "udp_timeout_s", [](const nat::FirewallConfig& cfg) { return Seconds(cfg.timeouts.udp); },
      [](nat::FirewallConfig& cfg, double s) {
        cfg.timeouts.udp = PositiveSeconds(s, "udp_timeout_s");
      });
  c.def_property(
      "tcp_established_timeout_s",
      [](const nat::FirewallConfig& cfg) { return Seconds(cfg.timeouts.tcp_established); },
      [](nat::FirewallConfig& cfg, double s) {
        cfg.timeouts.tcp_established = PositiveSeconds(s, "tcp_established_timeout_s");
      });
  c.def_property(
      "tcp_transitory_timeout_s",
      [](const nat::FirewallConfig& cfg) { return Seconds(cfg.timeouts.tcp_transitory); },
      [](nat::FirewallConfig& cfg, double s) {
        cfg.timeouts.tcp_transitory = PositiveSeconds(s, "tcp_transitory_timeout_s");
      });
  c.def_readwrite("block_udp", &nat::FirewallConfig::block_udp);
  c.def_readwrite("inbound_allow", &nat::FirewallConfig::inbound_allow);
  c.def_readwrite("outbound_allow", &nat::FirewallConfig::outbound_allow);
  c.def("__repr__", [](const nat::FirewallConfig& cfg) {
    return "FirewallConfig(udp_timeout_s=" + cfg.timeouts.udp.ToString() +
           ", block_udp=" + (cfg.block_udp ? "True" : "False") +
           ", inbound_allow=" + std::to_string(cfg.inbound_allow.size()) +
           " rules, outbound_allow=" + std::to_string(cfg.outbound_allow.size()) + " rules)";
  });
  AddDataclassMethods(c, {"udp_timeout_s", "tcp_established_timeout_s", "tcp_transitory_timeout_s",
                          "block_udp", "inbound_allow", "outbound_allow"});
}

}  // namespace

void BindNat(py::module_& m) {
  py::module_ n = m.def_submodule("nat", "NAT behaviour (RFC 4787 knobs), presets, firewalls.");
  py::register_exception<NatSpecFailure>(n, "NatSpecError", PyExc_ValueError);

  BindSpecEnum<nat::Dependence>(
      n, "Dependence", "What a mapping or a filter depends on besides the inside endpoint.",
      {{"ENDPOINT_INDEPENDENT", nat::Dependence::kEndpointIndependent},
       {"ADDRESS_DEPENDENT", nat::Dependence::kAddressDependent},
       {"ADDRESS_AND_PORT_DEPENDENT", nat::Dependence::kAddressAndPortDependent}});
  BindSpecEnum<nat::PortAssignment>(n, "PortAssignment", "How a new mapping picks its external port.",
                                    {{"PRESERVE", nat::PortAssignment::kPreserve},
                                     {"SEQUENTIAL", nat::PortAssignment::kSequential},
                                     {"RANDOM", nat::PortAssignment::kRandom}});
  BindSpecEnum<nat::Pooling>(n, "Pooling", "Which external IP new mappings of one inside IP use.",
                             {{"PAIRED", nat::Pooling::kPaired},
                              {"ARBITRARY", nat::Pooling::kArbitrary}});
  BindSpecEnum<nat::Refresh>(n, "Refresh", "Which packets reset a flow's idle timer.",
                             {{"OUTBOUND", nat::Refresh::kOutbound}, {"BOTH", nat::Refresh::kBoth}});
  BindSpecEnum<nat::Protocol>(n, "Protocol", "IP protocol of a flow.",
                              {{"TCP", nat::Protocol::kTcp}, {"UDP", nat::Protocol::kUdp}});

  BindNatConfig(n);
  BindPresets(n);
  BindFirewall(n);
}

}  // namespace punchlab::python
