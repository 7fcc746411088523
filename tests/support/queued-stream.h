// What every test StreamMachine repeats: the actions it decided on (or a
// test queued for it), handed to its host one at a time by PollStreamAction,
// and no timer of its own. Derive from it and write only the Handle* a test
// cares about.
#pragma once

#include <deque>
#include <optional>
#include <utility>

#include "punchlab/stream-machine.h"

namespace punchlab {
namespace testsupport {

class QueuedStreamMachine : public StreamMachine {
 public:
  // Queues an action for the host's next drain.
  void Queue(StreamAction action) { actions_.push_back(std::move(action)); }

  void HandleTimeout(Timestamp) override {}
  std::optional<StreamAction> PollStreamAction() override {
    if (actions_.empty()) return std::nullopt;
    StreamAction a = std::move(actions_.front());
    actions_.pop_front();
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override { return std::nullopt; }

 private:
  std::deque<StreamAction> actions_;
};

}  // namespace testsupport
}  // namespace punchlab
