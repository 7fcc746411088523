#include "lab/link-shaper.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "lab/command.h"
#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

// Loss is drawn as numgen random mod kLossScale < loss * kLossScale.
constexpr uint32_t kLossScale = 1000000;
// tbf needs a bucket of at least one packet; a veth's MTU is 1500.
constexpr uint64_t kMinBurstBytes = 3000;
// How long tbf queues a packet before dropping it.
constexpr const char* kTbfLatency = "200ms";

std::string Micros(Duration d) { return std::to_string(d.nanos() / 1000) + "us"; }

bool NeedsQdisc(const LinkShape& s) {
  return s.delay > Duration::Zero() || s.jitter > Duration::Zero() || s.rate_bps > 0;
}

bool NeedsIngress(const LinkShape& s) { return s.down || s.loss > 0; }

}  // namespace

std::string IngressTable(const std::string& ifname) {
  std::string table = "punchlab_in_";
  for (const char c : ifname) table += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return table;
}

std::vector<std::string> EgressCommand(const std::string& ns_full, const std::string& ifname,
                                       const LinkShape& shape, bool netem, bool installed) {
  std::vector<std::string> argv = {"tc", "-n", ns_full, "qdisc"};
  const bool delay = netem && (shape.delay > Duration::Zero() || shape.jitter > Duration::Zero());
  if (!delay && shape.rate_bps == 0) {
    if (!installed) return {};
    argv.insert(argv.end(), {"del", "dev", ifname, "root"});
    return argv;
  }
  argv.insert(argv.end(), {"replace", "dev", ifname, "root"});
  if (netem) {
    argv.insert(argv.end(), {"netem", "delay", Micros(shape.delay)});
    if (shape.jitter > Duration::Zero()) argv.push_back(Micros(shape.jitter));
    if (shape.rate_bps > 0) argv.insert(argv.end(), {"rate", std::to_string(shape.rate_bps) + "bit"});
    return argv;
  }
  const uint64_t burst = std::max(shape.rate_bps / 8 / 100, kMinBurstBytes);
  argv.insert(argv.end(), {"tbf", "rate", std::to_string(shape.rate_bps) + "bit", "burst",
                           std::to_string(burst) + "b", "latency", kTbfLatency});
  return argv;
}

std::string IngressRuleset(const std::string& ifname, const LinkShape& shape, bool installed) {
  const std::string table = IngressTable(ifname);
  const bool needed = NeedsIngress(shape);
  if (!needed && !installed) return {};
  // Declaring the table first makes the delete valid whether or not it
  // exists; the whole input is one transaction.
  std::string r = "table netdev " + table + "\ndelete table netdev " + table + "\n";
  if (!needed) return r;
  r += "table netdev " + table + " {\n"
       "  chain ingress {\n"
       "    type filter hook ingress device \"" + ifname + "\" priority 0; policy accept;\n";
  if (shape.down || shape.loss >= 1) {
    r += "    drop\n";
  } else {
    const auto threshold = static_cast<uint32_t>(std::llround(shape.loss * kLossScale));
    r += "    numgen random mod " + std::to_string(kLossScale) + " < " +
         std::to_string(std::max<uint32_t>(threshold, 1)) + " drop\n";
  }
  r += "  }\n}\n";
  return r;
}

bool NetemAvailable(const Namespace& ns) {
  CommandOptions o;
  o.check = false;
  const CommandResult r =
      RunCommand({"tc", "-n", ns.full_name, "qdisc", "add", "dev", "lo", "root", "netem", "delay",
                  "1ms"},
                 o);
  if (r.exit_code == 0) {
    RunCommand({"tc", "-n", ns.full_name, "qdisc", "del", "dev", "lo", "root"});
    return true;
  }
  if (r.err.find("qdisc kind is unknown") != std::string::npos) return false;
  throw LabError("cannot tell whether this kernel has netem: tc answered (exit " +
                 std::to_string(r.exit_code) + "): " + TrimRight(r.err));
}

ShapeResult ShapedLink::Set(const LinkShape& a_to_b, const LinkShape& b_to_a, bool netem) {
  ShapeResult result;
  if (a_to_b != a_to_b_) {
    result.delay_skipped |= ApplyDirection(a_, a_state_, b_, b_state_, a_to_b, netem).delay_skipped;
    a_to_b_ = a_to_b;
  }
  if (b_to_a != b_to_a_) {
    result.delay_skipped |= ApplyDirection(b_, b_state_, a_, a_state_, b_to_a, netem).delay_skipped;
    b_to_a_ = b_to_a;
  }
  return result;
}

ShapeResult ShapedLink::ApplyDirection(const LinkEnd& from, EndState& from_state,
                                       const LinkEnd& to, EndState& to_state,
                                       const LinkShape& shape, bool netem) {
  ShapeResult result;
  result.delay_skipped = !netem && (shape.delay > Duration::Zero() || shape.jitter > Duration::Zero());
  const std::vector<std::string> tc =
      EgressCommand(from.ns.full_name, from.ifname, shape, netem, from_state.qdisc);
  if (!tc.empty()) {
    RunCommand(tc);
    from_state.qdisc = netem ? NeedsQdisc(shape) : shape.rate_bps > 0;
  }
  const std::string nft = IngressRuleset(to.ifname, shape, to_state.table);
  if (!nft.empty()) {
    CommandOptions o;
    o.input = nft;
    RunCommand(InNamespace(to.ns, {"nft", "-f", "-"}), o);
    to_state.table = NeedsIngress(shape);
  }
  return result;
}

}  // namespace punchlab::lab
