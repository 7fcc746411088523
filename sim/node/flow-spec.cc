#include "node/flow-spec.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace punchlab::cli {
namespace {

constexpr Duration kMinEvery = Duration::Millis(1);
// One UDP datagram with the node's framing (node::kMaxDataPayload); the node
// checks the exact limit when it sends.
constexpr size_t kMaxSize = 65535;

std::optional<Duration> ParseTime(const std::string& key, const std::string& value,
                                  std::string& error) {
  const std::optional<Duration> d = Duration::Parse(value);
  if (!d) error = key + "='" + value + "' is not a duration (write e.g. 100ms or 1.5s)";
  return d;
}

std::optional<uint64_t> ParseUnsigned(const std::string& key, const std::string& value,
                                      uint64_t max, std::string& error) {
  const bool digits = !value.empty() && value.size() <= 10 &&
                      std::all_of(value.begin(), value.end(),
                                  [](unsigned char c) { return std::isdigit(c) != 0; });
  const uint64_t n = digits ? std::stoull(value) : 0;
  if (!digits || n > max) {
    error = key + "='" + value + "' must be a whole number from 0 to " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string FormatFlowSpec(const FlowSpec& f) {
  std::ostringstream out;
  const scenario::ProbeSchedule& t = f.schedule;
  out << "id=" << f.id << ",to=" << f.to.ToString() << ",start=" << t.start.ToString()
      << ",stop=" << t.stop.ToString() << ",every=" << t.every.ToString() << ",size=" << f.size;
  if (t.turn != Duration::Zero()) out << ",turn=" << t.turn.ToString();
  for (const scenario::Interval& gap : t.idle) {
    out << ",idle=" << gap.from.ToString() << "+" << (gap.until - gap.from).ToString();
  }
  return out.str();
}

std::optional<FlowSpec> ParseFlowSpec(const std::string& text, std::string& error) {
  FlowSpec f;
  scenario::ProbeSchedule& t = f.schedule;
  std::map<std::string, int> seen;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      error = "'" + item + "' is not key=value";
      return std::nullopt;
    }
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    if (key != "idle" && seen[key]++ > 0) {
      error = "'" + key + "' given twice";
      return std::nullopt;
    }
    if (key == "id") {
      const auto id = ParseUnsigned(key, value, UINT32_MAX, error);
      if (!id) return std::nullopt;
      f.id = static_cast<uint32_t>(*id);
    } else if (key == "to") {
      const auto to = NodePublicKey::Parse(value);
      if (!to || to->IsZero()) {
        error = "to='" + value + "' is not a node public key (write nodekey:<64 hex>)";
        return std::nullopt;
      }
      f.to = *to;
    } else if (key == "start" || key == "stop" || key == "every") {
      const auto d = ParseTime(key, value, error);
      if (!d) return std::nullopt;
      (key == "start" ? t.start : key == "stop" ? t.stop : t.every) = *d;
    } else if (key == "turn") {
      const auto d = ParseTime(key, value, error);
      if (!d) return std::nullopt;
      t.turn = *d;
    } else if (key == "size") {
      const auto size = ParseUnsigned(key, value, kMaxSize, error);
      if (!size) return std::nullopt;
      if (*size == 0) {
        error = "size=0: a probe needs at least 1 byte";
        return std::nullopt;
      }
      f.size = static_cast<size_t>(*size);
    } else if (key == "idle") {
      const size_t plus = value.find('+');
      if (plus == std::string::npos) {
        error = "idle='" + value + "' is not AT+FOR (e.g. 20s+1m)";
        return std::nullopt;
      }
      const auto at = ParseTime("idle", value.substr(0, plus), error);
      if (!at) return std::nullopt;
      const auto length = ParseTime("idle", value.substr(plus + 1), error);
      if (!length) return std::nullopt;
      t.idle.push_back({*at, *at + *length});
    } else {
      error = "unknown key '" + key + "' (keys: id, to, start, stop, every, size, turn, idle)";
      return std::nullopt;
    }
  }
  for (const char* required : {"id", "to", "start", "stop", "every", "size"}) {
    if (!seen.count(required)) {
      error = std::string("'") + required + "' is missing";
      return std::nullopt;
    }
  }
  if (t.every < kMinEvery) {
    error = "every=" + t.every.ToString() + ": must be at least 1ms";
    return std::nullopt;
  }
  if (t.stop < t.start) {
    error = "stop=" + t.stop.ToString() + " is before start=" + t.start.ToString();
    return std::nullopt;
  }
  std::sort(t.idle.begin(), t.idle.end(), [](const scenario::Interval& a, const scenario::Interval& b) {
    return a.from != b.from ? a.from < b.from : a.until < b.until;
  });
  for (size_t i = 1; i < t.idle.size(); ++i) {
    if (t.idle[i].from < t.idle[i - 1].until) {
      error = "idle gaps at " + t.idle[i - 1].from.ToString() + " and " +
              t.idle[i].from.ToString() + " overlap";
      return std::nullopt;
    }
  }
  return f;
}

}  // namespace punchlab::cli
