// A scenario NAT (nat/'s knobs) as the lab builds it: the nftables ruleset
// of those knobs (lab/nat-ruleset.h), conntrack timeouts, and Linux's
// differences from the model of the same knobs (lab::LinuxDifferences).
// A knob the lab cannot build is refused before anything is built
// (CheckNatsBuildable), never approximated. Pure, unit-tested.
#pragma once

#include <string>
#include <vector>

#include "lab/nat-ruleset.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct LabNat {
  lab::NatRulesetConfig ruleset;  // wan_if "wan", lan_if "lan"
  // conntrack timeouts in whole seconds (the sysctls count seconds).
  int64_t udp_timeout_s = 30;
  int64_t tcp_established_timeout_s = 7440;
  int64_t tcp_transitory_timeout_s = 240;
  // Where Linux differs from the model, one sentence each, without position.
  std::vector<std::string> linux_differences;
};

// `external_addresses`: the NAT's external addresses now (one per
// external_ips, the main one first). The ruleset names them when it must
// (hairpinning, a pool); otherwise it masquerades behind wan's address.
// Throws results::RunError naming the knobs the lab cannot build
// (lab::UnbuildableKnobs); CheckNatsBuildable finds them all up front.
LabNat TranslateNat(const nat::NatConfig& config,
                    const std::vector<std::string>& external_addresses);

// Throws results::RunError ("FILE:LINE:COL: nat NAME: KNOB=VALUE: why", one
// line per NAT or event) when a NAT of the scenario, or one as a
// set-mapping event leaves it, has a knob the lab cannot build, its
// port_mapping included (run-real/portmap-translation.h).
void CheckNatsBuildable(const scenario::Scenario& scenario);

// Seconds for a conntrack sysctl: a whole-second duration in seconds, at least 1.
int64_t ConntrackSeconds(Duration d);

}  // namespace punchlab::runreal
