// A scenario NAT (RFC 4787 knobs) as the lab can build it: the nearest of the
// lab's nftables NATs (lab/nat-ruleset.h: one per preset of nat-config.h,
// hairpinning as a knob, a paired address pool), conntrack timeouts, and a
// sentence for every knob the lab cannot honour as written — its own (no
// address-dependent mapping, no port ranges, ...) and Linux's differences
// from the preset (lab::LinuxDifferences). Pure, unit-tested.
#pragma once

#include <string>
#include <vector>

#include "lab/nat-ruleset.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/time.h"

namespace punchlab::runreal {

struct LabNat {
  lab::NatRulesetConfig ruleset;  // wan_if "wan", lan_if "lan"
  // conntrack timeouts in whole seconds (the sysctls count seconds).
  int64_t udp_timeout_s = 30;
  int64_t tcp_established_timeout_s = 7440;
  int64_t tcp_transitory_timeout_s = 240;
  // What differs from the configuration, one sentence each, without position.
  std::vector<std::string> deviations;
};

// `external_addresses`: the NAT's external addresses now (one per
// external_ips, the main one first). The ruleset names them when it must
// (hairpinning, a pool); otherwise it masquerades behind wan's address.
LabNat TranslateNat(const nat::NatConfig& config,
                    const std::vector<std::string>& external_addresses);

// Seconds for a conntrack sysctl: rounded up to a whole second, at least 1.
int64_t ConntrackSeconds(Duration d);

}  // namespace punchlab::runreal
