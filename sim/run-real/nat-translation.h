// A scenario NAT (RFC 4787 knobs) as the lab can build it: one of the
// nftables NATs of lab/nat-ruleset.h plus conntrack timeouts, and a sentence
// for every knob the lab cannot honour as written. The lab's NATs are Linux
// masquerade (keeps the inside port while free: endpoint-independent in
// practice, address-and-port-dependent filtering), masquerade fully-random
// (a random port per destination: symmetric), and the two cone rulesets built
// on top of it. Pure, unit-tested.
#pragma once

#include <string>
#include <vector>

#include "lab/nat-ruleset.h"
#include "nat-core/nat-config.h"
#include "punchlab/time.h"

namespace punchlab::runreal {

struct LabNat {
  lab::NatRulesetConfig ruleset;  // wan_if "wan"
  // conntrack timeouts in whole seconds (the sysctls count seconds).
  int64_t udp_timeout_s = 30;
  int64_t tcp_established_timeout_s = 7440;
  int64_t tcp_transitory_timeout_s = 240;
  // What differs from the configuration, one sentence each, without position.
  std::vector<std::string> deviations;
};

// `external_ips` is the NAT's number of external addresses (the lab uses one).
LabNat TranslateNat(const nat::NatConfig& config, uint32_t external_ips);

// Seconds for a conntrack sysctl: rounded up to a whole second, at least 1.
int64_t ConntrackSeconds(Duration d);

}  // namespace punchlab::runreal
