// The one shape every UDP-speaking machine has (after quinn-proto / str0m).
//
// Inputs:  HandleDatagram(now, local, remote, bytes), HandleTimeout(now), plus
//          commands of the concrete machine.
// Outputs: PollTransmit() for datagrams, PollTimeout() for the next wake-up, and
//          the concrete machine's PollEvent().
// Drain rule for hosts: after every input, PollTransmit() until empty, drain
// events, then arm one timer at PollTimeout().
//
// The host is written once against this interface (hosts/: the host core,
// with ns-3 and POSIX adapters), which is what lets the same code run in both
// worlds.
#pragma once

#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"

namespace punchlab {

class DatagramMachine {
 public:
  virtual ~DatagramMachine() = default;
  // `local` is the address the datagram arrived on, `remote` the sender as seen
  // by this host (i.e. after any NAT on the path).
  virtual void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                              ByteView payload) = 0;
  virtual void HandleTimeout(Timestamp now) = 0;
  virtual std::optional<Transmit> PollTransmit() = 0;
  // Earliest instant the machine wants HandleTimeout; nullopt when it waits for
  // nothing.
  virtual std::optional<Timestamp> PollTimeout() const = 0;
};

}  // namespace punchlab
