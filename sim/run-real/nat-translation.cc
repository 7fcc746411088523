#include "run-real/nat-translation.h"

#include "results/run-options.h"
#include "run-real/portmap-translation.h"

namespace punchlab::runreal {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

std::string Joined(const std::vector<std::string>& sentences) {
  std::string out;
  for (const std::string& s : sentences) out += (out.empty() ? "" : "; ") + s;
  return out;
}

std::string Where(const scenario::Scenario& s, const scenario::SourcePos& where) {
  return s.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

}  // namespace

int64_t ConntrackSeconds(Duration d) {
  const int64_t s = (d.nanos() + kNanosPerSecond - 1) / kNanosPerSecond;
  return s < 1 ? 1 : s;
}

LabNat TranslateNat(const nat::NatConfig& c, const std::vector<std::string>& external_addresses) {
  const std::vector<std::string> refused = lab::UnbuildableKnobs(c, external_addresses.size());
  if (!refused.empty()) {
    throw results::RunError("the lab cannot build the NAT " + c.ToString() + ": " +
                            Joined(refused));
  }
  LabNat out;
  out.linux_differences = lab::LinuxDifferences(c);
  out.udp_timeout_s = ConntrackSeconds(c.timeouts.udp);
  out.tcp_established_timeout_s = ConntrackSeconds(c.timeouts.tcp_established);
  out.tcp_transitory_timeout_s = ConntrackSeconds(c.timeouts.tcp_transitory);
  out.ruleset.nat = c;
  out.ruleset.wan_if = "wan";
  out.ruleset.lan_if = "lan";
  // Hairpinned datagrams leave by the LAN, whose address masquerade would
  // pick; a pool needs its addresses named. Otherwise masquerade follows
  // whatever address wan has (a change of address needs no new rules).
  if (c.hairpin || external_addresses.size() > 1) out.ruleset.wan_addresses = external_addresses;
  return out;
}

void CheckNatsBuildable(const scenario::Scenario& s) {
  std::string errors;
  auto check = [&](const scenario::SourcePos& where, const std::string& what,
                   const nat::NatConfig& config, size_t external_ips) {
    for (const std::string& why : lab::UnbuildableKnobs(config, external_ips)) {
      errors += (errors.empty() ? "" : "\n") + Where(s, where) + ": " + what + ": " + why;
    }
  };
  for (const scenario::NatDef& n : s.nats) {
    check(n.where, "nat " + n.name, n.config, n.external_ips);
    for (const std::string& why : UnbuildablePortMapping(s, n)) {
      errors += (errors.empty() ? "" : "\n") + Where(s, n.port_mapping_where) + ": nat " +
                n.name + ": " + why;
    }
  }
  for (const scenario::Event& e : s.events) {
    if (e.target_kind != scenario::TargetKind::kNat || !e.settings.mapping) continue;
    const scenario::NatDef* n = s.FindNat(e.target);
    if (n == nullptr) continue;  // the loader names unknown targets
    nat::NatConfig config = n->config;
    config.mapping = *e.settings.mapping;
    check(e.where, "nat " + n->name + " after this event", config, n->external_ips);
  }
  if (!errors.empty()) {
    throw results::RunError("the real lab cannot build these NATs as written (the simulator "
                            "can: run without --real):\n" + errors);
  }
}

}  // namespace punchlab::runreal
