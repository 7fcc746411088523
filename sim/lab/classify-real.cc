#include "lab/classify-real.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <regex>

#include "lab/lab-error.h"
#include "realio/monotonic-clock.h"

namespace punchlab::lab {
namespace {

constexpr Duration kServerReadyTimeout = Duration::Seconds(10);
constexpr Duration kClientTimeout = Duration::Seconds(40);
constexpr Duration kStundPollTimeout = Duration::Millis(300);
// Per-probe deadline of our discovery client: the lab's round trip is well
// under a millisecond plus the configured latency, so 1.5 s leaves room for
// retransmissions without dragging out every filtered (timed-out) probe.
constexpr Duration kProbeBase = Duration::Millis(1500);

std::string HostPort(const char* ip, uint16_t port) { return std::string(ip) + ":" + std::to_string(port); }

std::string Seconds(Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(d.nanos()) / 1e9);
  return text;
}

// stund prints nothing when it is ready: ask it from its own namespace
// (not through the NAT, which must see only the clients' traffic).
void WaitForStund(NatLab& nat, const LabBinaries& bins, ChildProcess& stund) {
  const std::string target = HostPort(kServerIp, kStundPort);
  const Timestamp deadline = realio::MonotonicNow() + kServerReadyTimeout;
  CommandOptions o;
  o.check = false;
  while (realio::MonotonicNow() < deadline) {
    if (stund.exited()) break;
    const CommandResult r = nat.lab().Exec(
        nat.server(), {bins.punchlab_node, "stun-probe", target, "--timeout", Seconds(kStundPollTimeout)},
        o);
    if (r.exit_code == 0) return;
  }
  throw LabError("'" + stund.command() + "' did not answer STUN on " + target + " within " +
                 kServerReadyTimeout.ToString() + " (" + stund.DescribeStatus() + "): " +
                 stund.Stderr());
}

void WaitForExit(ChildProcess& client, Duration timeout) {
  if (!client.WaitExit(timeout)) {
    throw LabError("'" + client.command() + "' is still running after " + timeout.ToString() +
                   "; stdout: " + client.Stdout() + " stderr: " + client.Stderr());
  }
}

OurNatReport ParseOurReport(const ChildProcess& client, const std::string& out) {
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("report")) {
    throw LabError("'" + client.command() + "' gave no report (" + client.DescribeStatus() +
                   "); stdout: " + out + " stderr: " + client.Stderr());
  }
  OurNatReport r;
  r.udp_blocked = j.at("udp_blocked").get<bool>();
  r.mapped = j.at("mapped").is_string() ? j.at("mapped").get<std::string>() : "";
  r.mapping = j.at("mapping").get<std::string>();
  r.filtering = j.at("filtering").get<std::string>();
  r.port_assignment = j.at("port_assignment").get<std::string>();
  r.hairpin = j.at("hairpin").get<std::string>();
  r.line = j.at("report").get<std::string>();
  return r;
}

std::string VerdictLine(const ChildProcess& client, const std::string& out) {
  static const std::regex kVerdict(R"((^|\n)(Primary: [^\n]*?)[ \t\r]*(\n|$))");
  std::smatch m;
  if (!std::regex_search(out, m, kVerdict)) {
    throw LabError("'" + client.command() + "' printed no 'Primary:' verdict (" +
                   client.DescribeStatus() + "); stdout: " + out + " stderr: " + client.Stderr());
  }
  return m[2].str();
}

}  // namespace

RealClassification Classify(NatLab& nat, const LabBinaries& bins) {
  Lab& lab = nat.lab();
  ChildProcess& ours = lab.Spawn(
      nat.server(), {bins.punchlab_node, "stun-server", "--listen", HostPort(kServerIp, kOurServerPort),
                     "--alternate", HostPort(kServerAltIp, kOurServerAltPort)});
  ChildProcess& stund =
      lab.Spawn(nat.server(), {bins.stund, "-h", kServerIp, "-a", kServerAltIp, "-p",
                               std::to_string(kStundPort), "-o", std::to_string(kStundAltPort)});
  ours.WaitForLine(std::regex("^stun-server listening on"), kServerReadyTimeout);
  WaitForStund(nat, bins, stund);

  const Duration probe = kProbeBase + nat.spec().latency * 4;
  ChildProcess& discover =
      lab.Spawn(nat.client(), {bins.punchlab_node, "nat-discover", HostPort(kServerIp, kOurServerPort),
                               "--json", "--timeout", Seconds(probe)});
  ChildProcess& debian = lab.Spawn(
      nat.client(), {bins.stun_client, kServerIp, "-p", std::to_string(kStunClientPort)});
  WaitForExit(discover, kClientTimeout);
  WaitForExit(debian, kClientTimeout);

  RealClassification c;
  c.spec = nat.spec();
  c.ruleset = nat.ruleset();
  c.nat_discover_output = discover.Stdout();
  // 0: a report; 1: a report saying UDP is blocked. Anything else is a failure.
  if (discover.exit_code() != 0 && discover.exit_code() != 1) {
    throw LabError("'" + discover.command() + "' failed (" + discover.DescribeStatus() +
                   "): " + discover.Stderr());
  }
  c.ours = ParseOurReport(discover, c.nat_discover_output);
  c.stun_client_output = debian.Stdout();
  c.stun_client_exit_code = debian.exit_code();
  c.stun_client_verdict = VerdictLine(debian, c.stun_client_output);
  return c;
}

RealClassification ClassifyReal(const RealNatSpec& spec, const LabBinaries& binaries) {
  NatLab nat(spec);
  RealClassification c = Classify(nat, binaries);
  nat.lab().Teardown();
  return c;
}

}  // namespace punchlab::lab
