#include "scenario/node-timers.h"

#include <utility>

namespace punchlab {
namespace scenario {
namespace {

// Each timer's name and field, in NodeTimerNames() order.
using Field = std::optional<Duration> NodeTimers::*;
const std::vector<std::pair<std::string, Field>>& Fields() {
  static const std::vector<std::pair<std::string, Field>> kFields = {
      {"heartbeat", &NodeTimers::heartbeat},
      {"trust_window", &NodeTimers::trust_window},
      {"idle_timeout", &NodeTimers::idle_timeout},
      {"restun_interval", &NodeTimers::restun_interval},
      {"upgrade_interval", &NodeTimers::upgrade_interval},
      {"ping_timeout", &NodeTimers::ping_timeout},
      {"persistent_keepalive", &NodeTimers::persistent_keepalive},
  };
  return kFields;
}

}  // namespace

const std::vector<std::string>& NodeTimerNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& [name, field] : Fields()) names.push_back(name);
    return names;
  }();
  return kNames;
}

void ApplyNodeTimers(const NodeTimers& t, node::NodeConfig& config) {
  if (t.heartbeat) config.paths.heartbeat_interval = *t.heartbeat;
  if (t.trust_window) config.paths.trust_duration = *t.trust_window;
  if (t.idle_timeout) config.paths.session_active_timeout = *t.idle_timeout;
  if (t.upgrade_interval) config.paths.upgrade_interval = *t.upgrade_interval;
  if (t.ping_timeout) config.paths.ping_timeout = *t.ping_timeout;
  if (t.persistent_keepalive) config.persistent_keepalive = *t.persistent_keepalive;
  if (t.restun_interval) {
    config.netcheck.restun_min = *t.restun_interval;
    config.netcheck.restun_max = Duration::Nanos(t.restun_interval->nanos() / 10 * 13);
  }
}

std::vector<std::string> NodeTimerArgs(const NodeTimers& timers) {
  std::vector<std::string> out;
  for (const auto& [name, field] : Fields()) {
    if (timers.*field) out.push_back(name + "=" + (timers.*field)->ToString());
  }
  return out;
}

std::optional<std::string> SetNodeTimer(NodeTimers& timers, const std::string& arg) {
  const size_t eq = arg.find('=');
  const std::string name = arg.substr(0, eq);
  std::string names;
  for (const auto& [known, field] : Fields()) {
    names += (names.empty() ? "" : ", ") + known;
    if (known != name) continue;
    const auto d = eq == std::string::npos ? std::nullopt : Duration::Parse(arg.substr(eq + 1));
    if (!d || *d <= Duration::Zero()) {
      return "'" + arg + "': expected " + name + "=DURATION longer than 0s (e.g. " + name +
             "=2s)";
    }
    timers.*field = *d;
    return std::nullopt;
  }
  return "'" + arg + "': unknown timer '" + name + "' (timers: " + names + ")";
}

}  // namespace scenario
}  // namespace punchlab
