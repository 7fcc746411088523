// The lab's side of `punchlab-node wire` (sim/node/wire-engine.h): one wire
// process per lab, started by Lab::StartWire, joins each wired link's two
// TAP devices and applies its link::Shape per direction. Commands and
// replies are link/wire-protocol.h's lines on the wire's stdin and stdout.
//
// AddLink and Stats wait for their reply (bounded); SetShape does not, so an
// event changes a link within microseconds of its time: its reply is
// checked at the next waiting call, and a refused shape throws there.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lab/child-process.h"
#include "link/link-model.h"
#include "link/wire-protocol.h"
#include "punchlab/time.h"

namespace punchlab::lab {

inline constexpr Duration kWireReplyTimeout = Duration::Seconds(10);

class WireClient {
 public:
  explicit WireClient(ChildProcess& process) : process_(process) {}

  // Throws LabError quoting the wire's answer or its stderr.
  void AddLink(const link::WireLinkCommand& command);
  void SetShape(const std::string& link, bool a_to_b, const link::Shape& shape);
  // The wire's counters per link and direction, as JSON text.
  std::string Stats();
  // The wire's per-address accounting (link/wire-protocol.h `flows`), as JSON text.
  std::string Flows();
  // Throws LabError for a refused command whose reply has come.
  void CheckReplies();

  ChildProcess& process() { return process_; }

 private:
  uint64_t Send(link::WireCommand command);
  link::WireReply WaitReply(uint64_t seq);
  void ReadReplies();

  ChildProcess& process_;
  uint64_t next_seq_ = 1;
  size_t scanned_ = 0;  // stdout bytes already parsed
  std::map<uint64_t, link::WireReply> replies_;
  std::map<uint64_t, std::string> unchecked_;  // sent without waiting: seq -> command
};

}  // namespace punchlab::lab
