// What every test DatagramMachine repeats: the datagrams it decided to send
// (or a test queued for it), handed to its host one at a time by
// PollTransmit, and no timer of its own. Derive from it and write only the
// Handle* a test cares about. The datagram twin of queued-stream.h.
#pragma once

#include <deque>
#include <optional>
#include <utility>

#include "punchlab/datagram-machine.h"

namespace punchlab {
namespace testsupport {

class QueuedDatagramMachine : public DatagramMachine {
 public:
  // Queues a datagram for the host's next drain.
  void Queue(Transmit transmit) { out_.push_back(std::move(transmit)); }

  void HandleTimeout(Timestamp) override {}
  std::optional<Transmit> PollTransmit() override {
    if (out_.empty()) return std::nullopt;
    Transmit t = std::move(out_.front());
    out_.pop_front();
    return t;
  }
  std::optional<Timestamp> PollTimeout() const override { return std::nullopt; }

 private:
  std::deque<Transmit> out_;
};

}  // namespace testsupport
}  // namespace punchlab
