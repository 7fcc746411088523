#include "punchlab/nat/nat-config.h"

#include <functional>


namespace punchlab {
namespace nat {

const char* ToString(Dependence d) {
  switch (d) {
    case Dependence::kEndpointIndependent: return "endpoint-independent";
    case Dependence::kAddressDependent: return "address-dependent";
    case Dependence::kAddressAndPortDependent: return "address-and-port-dependent";
  }
  return "?";
}

const char* ToString(PortAssignment p) {
  switch (p) {
    case PortAssignment::kPreserve: return "preserve";
    case PortAssignment::kSequential: return "sequential";
    case PortAssignment::kRandom: return "random";
  }
  return "?";
}

const char* ToString(Pooling p) { return p == Pooling::kPaired ? "paired" : "arbitrary"; }
const char* ToString(Refresh r) { return r == Refresh::kOutbound ? "outbound" : "both"; }

bool NatConfig::operator==(const NatConfig& o) const {
  return mapping == o.mapping && filtering == o.filtering && ports == o.ports &&
         port_range == o.port_range && hairpin == o.hairpin && pooling == o.pooling &&
         refresh == o.refresh && timeouts == o.timeouts;
}

namespace {

NatConfig Preset(Dependence mapping, Dependence filtering, PortAssignment ports) {
  NatConfig c;
  c.mapping = mapping;
  c.filtering = filtering;
  c.ports = ports;
  return c;
}

NatConfig CgnatPreset() {
  NatConfig c = Preset(Dependence::kEndpointIndependent, Dependence::kAddressAndPortDependent,
                       PortAssignment::kRandom);
  c.hairpin = true;
  c.pooling = Pooling::kPaired;
  c.timeouts.udp = Duration::Seconds(30);
  return c;
}

// One knob: its SPEC key, the valid values as a sentence fragment, and how to
// parse a value into a config and print it back.
struct Knob {
  const char* key;
  const char* valid;
  std::function<bool(std::string_view, NatConfig&)> parse;
  std::function<std::string(const NatConfig&)> print;
};

// An enum knob from its value names (index = enumerator value).
template <typename E, size_t N>
bool ParseEnum(std::string_view text, const char* const (&names)[N], E& out) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

constexpr const char* kDependenceNames[] = {"endpoint-independent", "address-dependent",
                                            "address-and-port-dependent"};
constexpr const char* kPortNames[] = {"preserve", "sequential", "random"};
constexpr const char* kPoolingNames[] = {"paired", "arbitrary"};
constexpr const char* kRefreshNames[] = {"outbound", "both"};
constexpr const char* kOnOffNames[] = {"off", "on"};

bool ParsePort(std::string_view text, uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (n == 0 || n > 65535) return false;
  out = static_cast<uint16_t>(n);
  return true;
}

bool ParsePortRange(std::string_view text, PortRange& out) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return false;
  PortRange r;
  if (!ParsePort(text.substr(0, dash), r.first) || !ParsePort(text.substr(dash + 1), r.last) ||
      r.first > r.last) {
    return false;
  }
  out = r;
  return true;
}

bool ParseTimeout(std::string_view text, Duration& out) {
  auto d = Duration::Parse(text);
  if (!d || *d <= Duration::Zero()) return false;
  out = *d;
  return true;
}

const std::vector<Knob>& Knobs() {
  static const std::vector<Knob> knobs = {
      {"mapping", "endpoint-independent, address-dependent, address-and-port-dependent",
       [](std::string_view v, NatConfig& c) { return ParseEnum(v, kDependenceNames, c.mapping); },
       [](const NatConfig& c) { return std::string(ToString(c.mapping)); }},
      {"filtering", "endpoint-independent, address-dependent, address-and-port-dependent",
       [](std::string_view v, NatConfig& c) {
         return ParseEnum(v, kDependenceNames, c.filtering);
       },
       [](const NatConfig& c) { return std::string(ToString(c.filtering)); }},
      {"ports", "preserve, sequential, random",
       [](std::string_view v, NatConfig& c) { return ParseEnum(v, kPortNames, c.ports); },
       [](const NatConfig& c) { return std::string(ToString(c.ports)); }},
      {"port_range", "FIRST-LAST with 1 <= FIRST <= LAST <= 65535, e.g. 1024-65535",
       [](std::string_view v, NatConfig& c) { return ParsePortRange(v, c.port_range); },
       [](const NatConfig& c) {
         return std::to_string(c.port_range.first) + "-" + std::to_string(c.port_range.last);
       }},
      {"hairpin", "on, off",
       [](std::string_view v, NatConfig& c) { return ParseEnum(v, kOnOffNames, c.hairpin); },
       [](const NatConfig& c) { return std::string(c.hairpin ? "on" : "off"); }},
      {"pooling", "paired, arbitrary",
       [](std::string_view v, NatConfig& c) { return ParseEnum(v, kPoolingNames, c.pooling); },
       [](const NatConfig& c) { return std::string(ToString(c.pooling)); }},
      {"refresh", "outbound, both",
       [](std::string_view v, NatConfig& c) { return ParseEnum(v, kRefreshNames, c.refresh); },
       [](const NatConfig& c) { return std::string(ToString(c.refresh)); }},
      {"udp_timeout", "a positive duration such as 30s, 500ms, 4m or 2h",
       [](std::string_view v, NatConfig& c) { return ParseTimeout(v, c.timeouts.udp); },
       [](const NatConfig& c) { return c.timeouts.udp.ToString(); }},
      {"tcp_established_timeout", "a positive duration such as 30s, 500ms, 4m or 2h",
       [](std::string_view v, NatConfig& c) {
         return ParseTimeout(v, c.timeouts.tcp_established);
       },
       [](const NatConfig& c) { return c.timeouts.tcp_established.ToString(); }},
      {"tcp_transitory_timeout", "a positive duration such as 30s, 500ms, 4m or 2h",
       [](std::string_view v, NatConfig& c) {
         return ParseTimeout(v, c.timeouts.tcp_transitory);
       },
       [](const NatConfig& c) { return c.timeouts.tcp_transitory.ToString(); }},
  };
  return knobs;
}

std::string KnobList() {
  std::string out;
  for (const Knob& k : Knobs()) out += (out.empty() ? "" : ", ") + std::string(k.key);
  return out;
}

std::string PresetList() {
  std::string out;
  for (const NatPreset& p : NatPresets()) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

NatSpecResult Error(std::string text) { return NatSpecResult{std::nullopt, std::move(text)}; }

// The knobs of `c` that differ from `base`, as "key=value,..." in knob order.
std::string Overrides(const NatConfig& c, const NatConfig& base, size_t* count) {
  std::string out;
  *count = 0;
  for (const Knob& k : Knobs()) {
    const std::string value = k.print(c);
    if (value == k.print(base)) continue;
    out += "," + std::string(k.key) + "=" + value;
    ++*count;
  }
  return out;
}

}  // namespace

const std::vector<NatPreset>& NatPresets() {
  static const std::vector<NatPreset> presets = {
      {"full-cone", "endpoint-independent mapping and filtering, ports preserved",
       Preset(Dependence::kEndpointIndependent, Dependence::kEndpointIndependent,
              PortAssignment::kPreserve)},
      {"restricted-cone", "endpoint-independent mapping, address-dependent filtering",
       Preset(Dependence::kEndpointIndependent, Dependence::kAddressDependent,
              PortAssignment::kPreserve)},
      {"port-restricted-cone",
       "endpoint-independent mapping, address-and-port-dependent filtering (the defaults)",
       Preset(Dependence::kEndpointIndependent, Dependence::kAddressAndPortDependent,
              PortAssignment::kPreserve)},
      {"symmetric", "a new random external port per destination endpoint",
       Preset(Dependence::kAddressAndPortDependent, Dependence::kAddressAndPortDependent,
              PortAssignment::kRandom)},
      {"symmetric-port-preserving",
       "a mapping per destination endpoint that keeps the inside port when it can "
       "(Linux masquerade)",
       Preset(Dependence::kAddressAndPortDependent, Dependence::kAddressAndPortDependent,
              PortAssignment::kPreserve)},
      // RFC 6888 asks carrier NATs for endpoint-independent mapping, paired
      // pooling and hairpinning; many subscribers share the pool, so ports
      // are not preserved; 30 s is the UDP timeout the field often shows.
      {"cgnat", "carrier-grade NAT: random ports, paired pooling, hairpinning, 30 s UDP timeout",
       CgnatPreset()},
  };
  return presets;
}

const NatPreset* FindNatPreset(std::string_view name) {
  for (const NatPreset& p : NatPresets()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string NatConfig::ToString() const {
  const NatPreset* best = nullptr;
  std::string best_overrides;
  size_t best_count = 0;
  for (const NatPreset& p : NatPresets()) {
    size_t count = 0;
    std::string overrides = Overrides(*this, p.config, &count);
    if (best == nullptr || count < best_count) {
      best = &p;
      best_overrides = std::move(overrides);
      best_count = count;
    }
  }
  return best->name + best_overrides;
}

NatSpecResult ParseNatSpec(std::string_view spec) {
  const std::string whole(spec);
  if (Trim(spec).empty()) {
    return Error("empty NAT spec: give a preset (" + PresetList() + ") and/or knobs as key=value (" +
                 KnobList() + ")");
  }
  const NatPreset* preset = nullptr;
  std::vector<std::pair<const Knob*, std::string_view>> settings;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view item = Trim(spec.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) return Error("empty item in NAT spec '" + whole + "'");

    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      const NatPreset* p = FindNatPreset(item);
      if (p == nullptr) {
        return Error("unknown NAT preset '" + std::string(item) + "': valid presets are " +
                     PresetList() + "; knobs are written key=value (" + KnobList() + ")");
      }
      if (preset != nullptr) {
        return Error("two NAT presets given ('" + std::string(preset->name) + "' and '" +
                     std::string(item) + "'): give at most one");
      }
      preset = p;
      continue;
    }
    const std::string_view key = Trim(item.substr(0, eq));
    const std::string_view value = Trim(item.substr(eq + 1));
    const Knob* knob = nullptr;
    for (const Knob& k : Knobs()) {
      if (key == k.key) knob = &k;
    }
    if (knob == nullptr) {
      return Error("unknown NAT knob '" + std::string(key) + "': valid knobs are " + KnobList());
    }
    for (const auto& s : settings) {
      if (s.first == knob) return Error("NAT knob '" + std::string(key) + "' is given twice");
    }
    settings.emplace_back(knob, value);
  }

  NatConfig config = preset != nullptr ? preset->config : NatConfig{};
  for (const auto& [knob, value] : settings) {
    if (!knob->parse(value, config)) {
      return Error("bad value '" + std::string(value) + "' for NAT knob '" + knob->key +
                   "': valid values are " + knob->valid);
    }
  }
  return NatSpecResult{config, ""};
}

}  // namespace nat
}  // namespace punchlab
