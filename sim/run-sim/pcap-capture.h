// `--pcap`: one capture per link, <dir>/<link name>.pcap, of bare IPv4
// packets (LINKTYPE_RAW): Wireshark and tshark read it and decode the STUN on
// port 3478. Each link is captured at its lower end (node, box
// uplink or server), which sees both directions: a NAT's uplink capture
// shows the translated packets.
#pragma once

#include <string>
#include <vector>

#include "ns3/pcap-file-wrapper.h"
#include "ns3/ptr.h"

#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

// Creates `dir` as needed; throws results::RunError when it cannot. The
// files, for the run to close when it ends (they are written to the end
// then, whether or not the world is ever freed: RunOptions::process_ends_after).
std::vector<ns3::Ptr<ns3::PcapFileWrapper>> EnablePcapCapture(const ScenarioWorld& world,
                                                              const std::string& dir);

}  // namespace runsim
}  // namespace punchlab
