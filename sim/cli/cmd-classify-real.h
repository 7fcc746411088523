// The real half of `punchlab classify --real`: build the lab NAT, classify it
// with our discovery client and Debian's `stun` (sim/lab/classify-real.h),
// let the caller print the verdict while the lab is still up, optionally keep
// the lab up for inspection (--hold), and remove it.
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "lab/classify-real.h"

namespace punchlab::cli {

struct RealClassifyOptions {
  lab::RealNatSpec spec;
  lab::LabBinaries binaries;
  // After printing, keep the lab up until stdin closes or SIGINT/SIGTERM/SIGHUP.
  bool hold = false;
};

// `print` runs once, after the classification, with the lab still up.
// Throws lab::LabError when the lab cannot be built or a client gives no
// verdict, lab::Interrupted on a signal (the lab is removed either way).
void RunRealClassification(const RealClassifyOptions& options,
                           const std::function<void(const lab::RealClassification&,
                                                    const lab::NatLab&)>& print);

// The "lab" object of classify's JSON: what was built (type, knobs, external
// addresses, ruleset, how Linux differs from the model), and with `layout`
// the namespaces and addresses a held lab can be inspected with.
nlohmann::json LabJson(const lab::RealClassification& c, const lab::NatLab& nat, bool layout);

// The path of the punchlab-node next to this binary (build tree and install).
std::string DefaultNodeBinary();

}  // namespace punchlab::cli
