// STUN client transaction machine: binding requests with retransmission, any
// number of concurrent transactions, each reported once as success, error
// response or timeout.
//
// Schedule (RFC 5389 7.2.1, Tailscale's 100 ms start): first send at start,
// retransmit after an RTO that starts at `initial_rto` and doubles up to
// `max_rto`: with the defaults sends go out at 0, 100, 300, 700, 1500 ms, and
// 3100 ms would be past the 3 s deadline, so the transaction times out at 3 s.
// No send is made at or after the deadline.
//
// Lenient reading, as Tailscale's client: bytes after the length the header
// declares are trimmed, and an IPv4-mapped IPv6 mapped address is reported
// as the IPv4 address it is.
//
// Matching: a response is matched by transaction id only, not by source,
// because a CHANGE-REQUEST makes the server answer from another address; the
// 96 (classic: 128) random bits of the id are what keep forged answers out.
// Anything that does not match a pending transaction is dropped and counted.
//
// RTT: retransmissions carry the same transaction id (RFC 5389), so a response
// does not say which send it answers. `rtt` is measured from the FIRST send
// (an upper bound) and `rtt_since_last_send` from the most recent one (a lower
// bound); they are equal when `retransmits` is 0. Callers that feed an RTT
// estimator should use only samples with retransmits == 0 (Karn's rule).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/random.h"
#include "punchlab/stun/message.h"

namespace punchlab {
namespace stun {

struct BindingOptions {
  // CHANGE-REQUEST (RFC 5780 / 3489): ask the server to answer from its other
  // IP and/or port. The attribute is sent only when one flag is set.
  bool change_ip = false;
  bool change_port = false;
  // SOFTWARE attribute; empty: none. Tailscale's DERP servers (derper)
  // answer only binding requests whose SOFTWARE is "tailnode", what
  // Tailscale's own client sends, so that is the default.
  std::string software = "tailnode";
  bool fingerprint = true;
  // Send an RFC 3489 request (16-byte id, no cookie) for classic servers; the
  // response is then expected in kind. Classic requests carry neither
  // SOFTWARE nor FINGERPRINT (classic servers know neither, and stund drops a
  // request whose string attribute is not a multiple of 4 bytes long).
  bool classic = false;
  // Give up this long after the first send (PROTOCOL.md: 3 s per probe).
  Duration deadline = Duration::Seconds(3);
  Duration initial_rto = Duration::Millis(100);
  Duration max_rto = Duration::Millis(1600);
};

// Events (see protocol/README.md, "Events"): each transaction ends in
// exactly one of StunSuccess, StunErrorResponse or StunTimeout.
//
// What every ending reports (Exchange() reads it from any of them).
struct StunExchange {
  TransactionId transaction_id;
  Endpoint local;   // where the request went out of
  Endpoint server;  // where the request was sent
  BindingOptions options;        // what was asked
  uint32_t retransmits = 0;      // sends after the first
  Duration rtt;                  // from the first send (see file comment)
  Duration rtt_since_last_send;  // from the most recent send
};
// What every response reports.
struct StunAnswer : StunExchange {
  // Where the response came from (differs from `server` when a change was
  // requested or an on-path NAT rewrote it).
  Endpoint response_source;
  // RESPONSE-ORIGIN / OTHER-ADDRESS, or classic SOURCE-ADDRESS /
  // CHANGED-ADDRESS, when the server sent them.
  std::optional<Endpoint> response_origin;
  std::optional<Endpoint> other_address;
  std::optional<std::string> server_software;
};
struct StunSuccess : StunAnswer {
  Endpoint mapped;  // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS (what stund sends)
};
struct StunErrorResponse : StunAnswer {
  std::optional<ErrorCode> error;
  std::vector<uint16_t> unknown_attributes;  // error 420
};
struct StunTimeout : StunExchange {};  // no matching response before the deadline
using StunClientEvent = std::variant<StunSuccess, StunErrorResponse, StunTimeout>;

const StunExchange& Exchange(const StunClientEvent& ev);

struct StunClientStats {
  uint64_t transactions_started = 0;
  uint64_t requests_sent = 0;  // every send, first and retransmissions
  uint64_t retransmits = 0;
  uint64_t successes = 0;
  uint64_t error_responses = 0;
  uint64_t timeouts = 0;
  uint64_t cancelled = 0;
  uint64_t dropped_malformed = 0;     // DecodeMessage failed
  uint64_t dropped_not_response = 0;  // a request/indication, or a non-binding method
  uint64_t dropped_unmatched = 0;     // no pending transaction has this id (late, duplicate, forged)
  uint64_t dropped_no_address = 0;    // success response without any mapped address
  uint64_t trimmed_trailing_bytes = 0;  // datagrams longer than their STUN length (trimmed, kept)
  // Decode failures by cause, indexed by DecodeError.
  uint64_t malformed_by_reason[static_cast<size_t>(DecodeError::kFingerprintMismatch) + 1] = {};
};

class StunClient final : public DatagramMachine {
 public:
  // Transaction ids are drawn from `rng`, which must outlive the client.
  explicit StunClient(RandomSource& rng);

  // Starts a binding transaction: the first request is queued for
  // PollTransmit() at once. `local` is the source endpoint to send from.
  TransactionId StartBinding(Timestamp now, const Endpoint& local, const Endpoint& server,
                             const BindingOptions& options = {});
  // Forgets a pending transaction without an event; late responses to it are
  // then counted as unmatched. Returns false if it was not pending.
  bool Cancel(const TransactionId& id);
  bool IsPending(const TransactionId& id) const;
  size_t PendingCount() const { return pending_.size(); }

  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;
  std::optional<StunClientEvent> PollEvent();

  const StunClientStats& stats() const { return stats_; }

 private:
  struct Pending {
    Endpoint local;
    Endpoint server;
    BindingOptions options;
    Bytes request;
    Timestamp first_send;
    Timestamp last_send;
    Timestamp next_send;
    Timestamp deadline;
    Duration rto;
    uint32_t retransmits = 0;
  };
  void Send(Pending& p, Timestamp now);
  // Fills in what every ending shares and queues the event.
  void Finish(const TransactionId& id, const Pending& p, Timestamp now, StunClientEvent ev);

  RandomSource& rng_;
  std::map<TransactionId, Pending> pending_;
  std::deque<Transmit> transmits_;
  std::deque<StunClientEvent> events_;
  StunClientStats stats_;
};

}  // namespace stun
}  // namespace punchlab
