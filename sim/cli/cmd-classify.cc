// punchlab classify: builds a NAT from a SPEC with a client behind it and an
// RFC 5780 STUN server with two addresses outside, runs punchlab's NAT
// behaviour discovery from the client, and prints what it found next to what
// was configured. In ns-3 (run-sim/ns3-tools.h) by default; with
// --real in a lab of network namespaces and nftables (sim/lab/classify-real.h),
// where Debian's `stun` client judges the same NAT as well; --hold keeps that
// lab up for inspection after the verdict is printed.
//
// The verdict compares the findings with what the configuration shows to an
// outside observer (punchlab/nat/nat-observability.h): a port-preserving
// NAT's destination-dependent mapping, for one, cannot be seen by anyone.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/cmd-classify-real.h"
#include "lab/classify-real.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-observability.h"
#include "run-sim/ns3-tools.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using nat::NatFindings;

const Duration kDefaultSimLatency = Duration::Millis(20);
// Between the router and the STUN server: longer than 10s is a typo.
constexpr DurationRange kLatencyRange{true, Duration::Seconds(10), false};

// What one discovery run found, simulated or real.
struct Outcome {
  std::string mode;  // "sim" or "real"
  NatFindings found;
  bool udp_blocked = false;
  std::optional<std::string> mapped;
  std::string report;  // the discovery's one-line report
  std::optional<lab::RealClassification> real;
  std::optional<nlohmann::json> lab;  // real: LabJson
};

std::string PresetNames() {
  std::string out;
  for (const nat::NatPreset& p : nat::NatPresets()) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

Outcome RunSimulated(const nat::NatConfig& config, uint64_t seed, Duration latency) {
  const stun::NatReport r = runsim::ClassifyInSimulation(config, seed, latency);
  Outcome o;
  o.mode = "sim";
  o.found = nat::ReportedFindings(r);
  o.udp_blocked = r.udp_blocked;
  if (r.mapped) o.mapped = r.mapped->ToString();
  o.report = r.ToString();
  return o;
}

Outcome RealOutcome(const lab::RealClassification& c, const lab::NatLab& nat, bool hold) {
  Outcome o;
  o.mode = "real";
  o.found = {c.ours.mapping, c.ours.filtering, c.ours.port_assignment, c.ours.hairpin};
  o.udp_blocked = c.ours.udp_blocked;
  if (!c.ours.mapped.empty()) o.mapped = c.ours.mapped;
  o.report = c.ours.line;
  o.real = c;
  o.lab = LabJson(c, nat, hold);
  return o;
}

nlohmann::json FindingsJson(const NatFindings& f) {
  return {{"mapping", f.mapping},
          {"filtering", f.filtering},
          {"port_assignment", f.port_assignment},
          {"hairpin", f.hairpin}};
}

nlohmann::json ToJson(const nat::NatConfig& config, const nat::NatExpectation& expected,
                      const Outcome& o, const std::vector<nat::FindingDifference>& diffs,
                      uint64_t seed) {
  nlohmann::json configured = FindingsJson(nat::ConfiguredFindings(config));
  configured["spec"] = config.ToString();
  nlohmann::json j = FindingsJson(o.found);
  j["mode"] = o.mode;
  j["configured"] = configured;
  j["expected"] = FindingsJson(expected.findings);
  j["notes"] = expected.notes;
  j["mapped"] = o.mapped ? nlohmann::json(*o.mapped) : nlohmann::json(nullptr);
  j["udp_blocked"] = o.udp_blocked;
  j["report"] = o.report;
  j["match"] = diffs.empty();
  j["differences"] = nlohmann::json::array();
  for (const auto& d : diffs) {
    j["differences"].push_back({{"knob", d.knob}, {"expected", d.expected}, {"found", d.found}});
  }
  if (o.real) {
    j["stun_client"] = o.real->stun_client_verdict;
    j["stun_client_exit_code"] = o.real->stun_client_exit_code;
    j["lab"] = *o.lab;
  } else {
    j["seed"] = seed;
  }
  return j;
}

void PrintText(const nat::NatConfig& config, const nat::NatExpectation& expected,
               const Outcome& o, const std::vector<nat::FindingDifference>& diffs,
               uint64_t seed) {
  const NatFindings configured = nat::ConfiguredFindings(config);
  auto row = [](const std::string& label, const std::string& a, const std::string& b) {
    std::cout << std::left << std::setw(17) << label << std::setw(28) << a << b << "\n";
  };
  std::cout << std::left << std::setw(17) << "nat" << config.ToString() << "\n";
  std::cout << std::setw(17) << "mode"
            << (o.real ? std::string("real (network namespaces and nftables)")
                       : "sim (ns-3, seed " + std::to_string(seed) + ")")
            << "\n";
  row("", "configured", "found");
  row("mapping", configured.mapping, o.found.mapping);
  row("filtering", configured.filtering, o.found.filtering);
  row("port_assignment", configured.port_assignment, o.found.port_assignment);
  row("hairpin", configured.hairpin, o.found.hairpin);
  std::cout << std::setw(17) << "mapped" << (o.mapped ? *o.mapped : "none")
            << (o.udp_blocked ? " (UDP blocked)" : "") << "\n";
  for (const std::string& note : expected.notes) std::cout << std::setw(17) << "note" << note << "\n";
  if (o.real) {
    std::cout << std::setw(17) << "stun_client" << o.real->stun_client_verdict << "\n";
    for (const auto& d : (*o.lab)["linux_differences"]) {
      std::cout << std::setw(17) << "lab" << d.get<std::string>() << "\n";
    }
    if (o.lab->contains("namespaces")) {
      std::cout << std::setw(17) << "held" << (*o.lab)["namespaces"].dump()
                << " (until stdin closes)\n";
    }
  }
  std::cout << std::setw(17) << "result";
  if (diffs.empty()) {
    std::cout << (expected.notes.empty() ? "found what was configured"
                                         : "found what the configuration shows from outside")
              << "\n";
  } else {
    std::cout << "differs in";
    for (const auto& d : diffs) std::cout << " " << d.knob;
    std::cout << "\n";
  }
}

std::string DescribeDifferences(const std::vector<nat::FindingDifference>& diffs) {
  std::string out;
  for (const auto& d : diffs) {
    out += (out.empty() ? "" : "; ") + d.knob + " should show as " + d.expected + " but was found " +
           d.found;
  }
  return out;
}

int Run(const std::vector<std::string>& argv) {
  CommandSpec spec{
      "classify", "classify --nat SPEC [--real [--hold]] [--json] [--seed N]",
      "Builds a NAT from SPEC with a client behind it and an RFC 5780 STUN server\n"
      "with two addresses outside, runs punchlab's NAT behaviour discovery from the\n"
      "client (RFC 5780 tests: two server addresses, CHANGE-REQUEST) and prints the\n"
      "mapping, filtering, port assignment and hairpinning it found next to the\n"
      "configured ones. Simulated in ns-3 unless --real, which builds the NAT\n"
      "from network namespaces and nftables (as root) and runs Debian's `stun`\n"
      "client behind it too.\n\n"
      "SPEC: a preset and/or knobs key=value, comma-separated, knobs overriding\n"
      "the preset. Presets: " + PresetNames() + ".\n"
      "Knobs:\n"
      "  mapping, filtering  endpoint-independent | address-dependent |\n"
      "                      address-and-port-dependent\n"
      "  ports               preserve | sequential | random\n"
      "  hairpin             on | off\n"
      "  also port_range, pooling, refresh, udp_timeout, tcp_established_timeout,\n"
      "  tcp_transitory_timeout\n"
      "e.g. mapping=address-dependent,filtering=endpoint-independent,ports=preserve,hairpin=on\n\n"
      "Some configurations cannot show as configured to anyone outside the NAT (a\n"
      "port-preserving NAT's per-destination mapping looks endpoint-independent); the\n"
      "output says so in a note and judges against what the NAT shows.\n\n"
      "Exit 0 when discovery found what the NAT shows; 1 when something differs (named\n"
      "on stderr); 2 on bad flags or SPEC; 4 when the lab cannot be built.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("nat", po::value<std::string>()->value_name("SPEC"),
       "the NAT to build: a preset and/or knobs key=value, comma-separated")
      ("real", po::bool_switch(),
       "build it in a lab of network namespaces and nftables instead (root; "
       "every knob value Linux can build: not address-dependent mapping, sequential "
       "ports, a port_range, fractional timeouts) and let Debian's stun client judge "
       "it too")
      ("external-ips", po::value<size_t>()->value_name("N"),
       "with --real: the router's external addresses, a pool with paired pooling "
       "(default 1, at most 16)")
      ("hold", po::bool_switch(),
       "with --real: after printing, keep the lab up (its namespaces are in the "
       "output) until stdin closes or SIGINT/SIGTERM/SIGHUP arrives")
      ("json", po::bool_switch(), "print one JSON object instead of text")
      ("seed", po::value<uint64_t>()->default_value(1),
       "run seed of the simulation (random ports, transaction ids)")
      ("latency", po::value<std::string>()->value_name("DURATION"),
       "one-way delay between the internet router and the STUN server "
       "(default 20ms in ns-3, none in the lab)")
      ("node-bin", po::value<std::string>()->value_name("PATH"),
       "with --real: the punchlab-node to run (default: the one next to this binary)");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  if (!vm.count("nat")) throw UsageError("missing --nat SPEC");
  const std::string nat_spec = vm["nat"].as<std::string>();
  nat::NatSpecResult parsed = nat::ParseNatSpec(nat_spec);
  if (!parsed) throw UsageError("--nat: " + parsed.error);
  const nat::NatConfig config = *parsed.config;
  const bool real = vm["real"].as<bool>();
  const bool json = vm["json"].as<bool>();
  const uint64_t seed = vm["seed"].as<uint64_t>();
  std::optional<Duration> latency;
  if (vm.count("latency")) {
    latency = ParseDurationFlag("--latency", vm["latency"].as<std::string>(), kLatencyRange);
  }
  if (vm.count("node-bin") && !real) throw UsageError("--node-bin: only with --real");
  if (vm["hold"].as<bool>() && !real) throw UsageError("--hold: only with --real");
  if (vm.count("external-ips") && !real) throw UsageError("--external-ips: only with --real");
  RealClassifyOptions realOptions;
  if (real) {
    lab::RealNatSpec& realSpec = realOptions.spec;
    realSpec.nat = config;
    if (vm.count("external-ips")) realSpec.external_ips = vm["external-ips"].as<size_t>();
    realSpec.latency = latency.value_or(Duration::Zero());
    try {
      lab::CheckSpec(realSpec);
    } catch (const lab::LabError& e) {  // a knob, address count or latency the lab cannot do
      throw UsageError(std::string("--real: ") + e.what() + "; classify it without --real");
    }
    realOptions.binaries.punchlab_node =
        vm.count("node-bin") ? vm["node-bin"].as<std::string>() : DefaultNodeBinary();
    realOptions.hold = vm["hold"].as<bool>();
  }

  const nat::NatExpectation expected = nat::ExpectedFindings(config);
  // Prints the verdict; returns the exit code.
  auto report = [&](const Outcome& outcome) {
    const std::vector<nat::FindingDifference> diffs =
        nat::CompareFindings(expected.findings, outcome.found);
    if (json) {
      std::cout << ToJson(config, expected, outcome, diffs, seed).dump() << std::endl;
    } else {
      PrintText(config, expected, outcome, diffs, seed);
      std::cout << std::flush;
    }
    if (!diffs.empty()) {
      std::cerr << "punchlab classify: discovery did not find what the NAT shows: "
                << DescribeDifferences(diffs) << "\n";
      return kExitExpectationFailed;
    }
    return kExitOk;
  };

  if (!real) return report(RunSimulated(config, seed, latency.value_or(kDefaultSimLatency)));
  int exit_code = kExitOk;
  try {
    RunRealClassification(realOptions, [&](const lab::RealClassification& c,
                                            const lab::NatLab& nat) {
      exit_code = report(RealOutcome(c, nat, realOptions.hold));
    });
  } catch (const lab::Interrupted& e) {
    // The lab is gone by now (its destructor ran while this unwound).
    std::cerr << "punchlab classify: " << e.what() << "; lab removed\n";
    lab::ReraiseCaughtSignal();
    return 128 + e.signal();
  } catch (const lab::LabError& e) {
    std::cerr << "punchlab classify: " << e.what() << "\n";
    return kExitRuntime;
  }
  // A signal that came while the teardown ran (which it cannot cut short).
  lab::ReraiseCaughtSignal();
  return exit_code;
}

const SubcommandRegistration kRegistration(
    "classify",
    "build a NAT from a SPEC, run NAT behaviour discovery behind it, compare (ns-3 or --real)",
    Run);

}  // namespace
}  // namespace punchlab::cli
