// `--pcap` in the lab: beside the per-link captures (<dir>/<link>.pcap, one
// dumpcap per uplink), one merged pcapng of the whole run, <dir>/all.pcapng,
// whose interfaces carry the link's name ("node-alice", "nat-home") and a
// description saying which side of which box it is, and which holds the DERP
// servers' TLS key log (a Decryption Secrets Block), so tshark decrypts
// DERP over TLS from that one file with no options.
//
// Wireshark's own tools do the writing (nothing here writes pcapng): each
// pcap goes through `dumpcap -i - --ifname --ifdescr` (dumpcap names only
// interfaces it reads from a pipe), `mergecap` interleaves them by time and
// `editcap --inject-secrets tls,FILE` adds the key log.
#pragma once

#include <string>
#include <vector>

#include "run-real/lab-plan.h"

namespace punchlab::runreal {

constexpr const char* kMergedCaptureFile = "all.pcapng";

// The capture interface description of `link`: what it is and what is on its
// other side, e.g. "node alice (eth0 10.1.0.2), inside nat home" or
// "nat home's outside (wan 203.0.113.5), on the internet".
std::string CaptureDescription(const LabPlan& plan, const Uplink& link);

// Writes <dir>/all.pcapng from <dir>/<label>.pcap of every uplink, with the
// TLS key log <dir>/tls-keys.log (results/key-log.h) injected when it holds
// any line (editcap injects TLS secrets; the disco and control key logs stay
// beside it, for the dissector's options). Returns why it
// could not (a tool missing or failing), or "" when it did.
std::string MergeCaptures(const LabPlan& plan, const std::string& dir);

}  // namespace punchlab::runreal
