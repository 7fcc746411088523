#include "lab/wire.h"

#include <poll.h>

#include "lab/command.h"
#include "lab/lab-error.h"
#include "realio/monotonic-clock.h"

namespace punchlab::lab {
namespace {

// The wire answers within microseconds; output in a memory file has no
// readiness signal, so look often.
constexpr int kReplyPollMillis = 1;

}  // namespace

uint64_t WireClient::Send(link::WireCommand command) {
  command.seq = next_seq_++;
  try {
    process_.WriteStdin(link::FormatWireCommand(command) + "\n");
  } catch (const LabError& e) {
    // A wire that is gone: say what it said.
    process_.WaitExit(Duration::Seconds(1), false);
    throw LabError("the wire ('" + process_.command() + "', " + process_.DescribeStatus() +
                   ") is gone: " + TrimRight(process_.Stderr()) + " (" + e.what() + ")");
  }
  return command.seq;
}

void WireClient::ReadReplies() {
  const std::string out = process_.Stdout();
  for (size_t end; (end = out.find('\n', scanned_)) != std::string::npos; scanned_ = end + 1) {
    const std::optional<link::WireReply> r = link::ParseWireReply(out.substr(scanned_, end - scanned_));
    if (r) replies_[r->seq] = *r;
  }
}

link::WireReply WireClient::WaitReply(uint64_t seq) {
  const Timestamp deadline = realio::MonotonicNow() + kWireReplyTimeout;
  while (true) {
    ReadReplies();
    const auto it = replies_.find(seq);
    if (it != replies_.end()) {
      link::WireReply r = it->second;
      replies_.erase(it);
      return r;
    }
    if (process_.exited() || realio::MonotonicNow() > deadline) {
      throw LabError("the wire ('" + process_.command() + "', " + process_.DescribeStatus() +
                     ") did not answer: " + TrimRight(process_.Stderr()));
    }
    poll(nullptr, 0, kReplyPollMillis);
  }
}

void WireClient::CheckReplies() {
  ReadReplies();
  for (auto it = unchecked_.begin(); it != unchecked_.end();) {
    const auto r = replies_.find(it->first);
    if (r == replies_.end()) {
      ++it;
      continue;
    }
    if (!r->second.ok) {
      throw LabError("the wire refused '" + it->second + "': " + r->second.text);
    }
    replies_.erase(r);
    it = unchecked_.erase(it);
  }
}

void WireClient::AddLink(const link::WireLinkCommand& command) {
  CheckReplies();
  const uint64_t seq = Send({0, command});
  const link::WireReply r = WaitReply(seq);
  if (!r.ok) throw LabError("the wire could not join " + command.if_a + " and " + command.if_b + ": " + r.text);
}

void WireClient::SetShape(const std::string& name, bool a_to_b, const link::Shape& shape) {
  CheckReplies();
  link::WireCommand c{0, link::WireShapeCommand{name, a_to_b, shape}};
  const uint64_t seq = Send(c);
  c.seq = seq;
  unchecked_[seq] = link::FormatWireCommand(c);
}

std::string WireClient::Stats() {
  const uint64_t seq = Send({0, link::WireStatsCommand{}});
  const link::WireReply r = WaitReply(seq);
  CheckReplies();
  if (!r.ok) throw LabError("the wire's stats: " + r.text);
  return r.text;
}

std::string WireClient::Flows() {
  const uint64_t seq = Send({0, link::WireFlowsCommand{}});
  const link::WireReply r = WaitReply(seq);
  CheckReplies();
  if (!r.ok) throw LabError("the wire's flows: " + r.text);
  return r.text;
}

}  // namespace punchlab::lab
