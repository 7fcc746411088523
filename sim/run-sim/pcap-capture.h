// `--pcap`: one capture per link, <dir>/<link name>.pcap, of bare IPv4
// packets (LINKTYPE_RAW): Wireshark and tshark read it and decode the STUN on
// port 3478. Each link is captured at its lower end (node, box
// uplink or server), which sees both directions: a NAT's uplink capture
// shows the translated packets.
#pragma once

#include <string>

#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

// Creates `dir` as needed; throws results::RunError when it cannot.
void EnablePcapCapture(const ScenarioWorld& world, const std::string& dir);

}  // namespace runsim
}  // namespace punchlab
