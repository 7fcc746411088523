// STUN server machine: answers Binding requests, modern and classic, and with
// an alternate address behaves as an RFC 5780 behaviour-discovery server
// (RFC 3489's CHANGE-REQUEST semantics for classic clients).
//
// Addresses. With only a primary A1:P1 the server listens there alone. With an
// alternate A2:P2 it listens on all four combinations A1:P1, A1:P2, A2:P1,
// A2:P2 (LocalEndpoints(); the host binds each). A response leaves from the
// endpoint the request arrived on, with the IP and/or port swapped to the
// other one when CHANGE-REQUEST asks, and goes to the request's source, or
// to the source IP at the port a RESPONSE-PORT names (RFC 5780 7.5).
//
// Responses.
//   modern:  XOR-MAPPED-ADDRESS and MAPPED-ADDRESS (RFC 5780 6.1 asks for
//            both), RESPONSE-ORIGIN (the response's source), OTHER-ADDRESS
//            (with an alternate), SOFTWARE, FINGERPRINT; PADDING when the
//            request carried PADDING (RFC 5780 6.1: "MUST be included").
//            Its length is the MTU (padding_mtu, rounded up to a multiple of
//            4) as 6.1 recommends, but never more than the request's own
//            PADDING: a response never much larger than its request makes
//            the server useless as an amplifier towards a spoofed source.
//            RESPONSE-PORT honoured with or without an alternate (RFC 5780 5
//            allows RESPONSE-PORT and PADDING on single-address servers).
//   classic: MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS (with an
//            alternate); the 16-byte id echoed. No FINGERPRINT (RFC 3489 has
//            none) and no SOFTWARE: the Vovida client rejects a whole message
//            whose string attribute length is not a multiple of 4.
// OTHER-ADDRESS / CHANGED-ADDRESS name "where a response would come from if
// change-ip and change-port were both set" (RFC 5780 6.1 table 1 "Ca:Cp",
// RFC 3489 11.2.3), i.e. relative to the endpoint the request arrived on:
// A2:P2 for A1:P1, A1:P1 for A2:P2, A2:P1 for A1:P2.
//
// Errors (modern requests).
//   420 Unknown Attribute + UNKNOWN-ATTRIBUTES for comprehension-required
//       attributes it does not understand (RFC 5389 7.3.1);
//   420 + UNKNOWN-ATTRIBUTES(CHANGE-REQUEST) when the request carries
//       CHANGE-REQUEST (even with no flag set) and there is no alternate:
//       RFC 5780 6.1 says "the server MUST generate an error response of type
//       420", which tells the client "this server cannot do behaviour
//       discovery" rather than "your request was malformed" (400);
//   400 Bad Request when the request carries both RESPONSE-PORT and PADDING
//       (RFC 5780 6.1 "MUST return an error response of type 400", 7.5 "MUST
//       NOT process"; 10: this "prevents an amplification attack that is
//       targeted at the originating address"), or RESPONSE-PORT 0 (no
//       datagram can be sent to port 0);
//   400 Bad Request when a change is requested but the request arrived on an
//       endpoint that is none of LocalEndpoints() (e.g. a wildcard bind the
//       host could not resolve), so the server cannot tell which one to swap.
//   An error response always leaves from the endpoint the request arrived on
//   for the request's source port, even when the request has RESPONSE-PORT:
//   the request was not processed, and a client must expect errors there
//   anyway (RFC 5780 5: it "MUST be prepared to receive a 420" to requests
//   with RESPONSE-PORT, which servers need not support).
// Classic requests never get an error response: the Vovida client counts ANY
// message carrying its test's id as "the server answered this test" (it does
// not look at the type), so an error would make it report a wrong NAT type.
// Like stund, the server answers a classic CHANGE-REQUEST with no flags
// normally, and silently drops (and counts) what it cannot honour: a change
// without an alternate, unknown comprehension-required attributes, and the
// RFC 5780 RESPONSE-PORT / PADDING, which RFC 3489 does not have.
// Everything else (undecodable datagrams, responses, indications, methods
// other than Binding) is dropped and counted. A response only ever goes to the
// request's source IP (RFC 3489's RESPONSE-ADDRESS, which could name any
// host, is ignored): no reflection towards third parties.
//
// Rate limit (rate_limit set; off by default, as a lab needs none): requests
// from a source IP beyond its token bucket (rate-limit.h) are dropped before
// they are decoded and counted in dropped_rate_limited, so one spoofed victim
// receives at most the configured rate of responses (RFC 5389 16.1.1).
//
// Timer-free: PollTimeout() is always nullopt; stateless but for the rate
// limit's buckets. A DERP server
// that "also answers STUN" hosts one of these on its UDP port.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/stun/message.h"
#include "punchlab/stun/rate-limit.h"

namespace punchlab {
namespace stun {

struct StunServerConfig {
  Endpoint primary;  // A1:P1
  // A2:P2: same family as primary, different IP and different port. The
  // constructor throws std::invalid_argument otherwise (a configuration
  // error, not network input).
  std::optional<Endpoint> alternate;
  std::string software = "punchlab";  // empty: no SOFTWARE attribute
  bool fingerprint = true;             // FINGERPRINT on modern responses
  // MTU of the outgoing interface, for PADDING in responses (see above); the
  // host sets it when it knows better than Ethernet's 1500. At most
  // kMaxPaddingMtu, else the constructor throws std::invalid_argument.
  uint16_t padding_mtu = 1500;
  // Per source IP (see above); nullopt: every request is answered.
  std::optional<RateLimitConfig> rate_limit;
};

// RFC 5780 7.6: PADDING must not take the IP datagram past 64 KiB. 64000
// leaves room for the IP, UDP and STUN headers and every other attribute a
// response carries (the longest, SOFTWARE, is at most 767 bytes).
constexpr uint16_t kMaxPaddingMtu = 64000;

struct StunServerStats {
  uint64_t requests = 0;          // well-formed binding requests received
  uint64_t classic_requests = 0;  // of which RFC 3489
  uint64_t success_responses = 0;
  uint64_t error_responses = 0;
  uint64_t changed_responses = 0;  // answered from a swapped IP and/or port
  uint64_t redirected_responses = 0;  // sent to a RESPONSE-PORT, not the source port
  uint64_t padded_responses = 0;      // carrying PADDING
  uint64_t dropped_malformed = 0;
  uint64_t dropped_not_request = 0;  // responses, indications, other methods
  // Classic requests the server cannot honour (see "Errors" above).
  uint64_t dropped_classic_unsupported = 0;
  uint64_t dropped_rate_limited = 0;  // over the source's rate, or the source table full
  uint64_t malformed_by_reason[static_cast<size_t>(DecodeError::kFingerprintMismatch) + 1] = {};
};

class StunServer final : public DatagramMachine {
 public:
  explicit StunServer(StunServerConfig config);

  // Endpoints the host must listen on: {A1:P1}, or with an alternate
  // {A1:P1, A1:P2, A2:P1, A2:P2} in this order.
  std::vector<Endpoint> LocalEndpoints() const;
  const StunServerConfig& config() const { return config_; }

  // `local` must be the endpoint the request arrived on (one of
  // LocalEndpoints() when a change is to be honoured).
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;

  const StunServerStats& stats() const { return stats_; }

 private:
  void Answer(const Endpoint& local, const Endpoint& remote, const Message& request);
  void SendError(const Endpoint& local, const Endpoint& remote, const Message& request,
                 uint16_t code, const std::string& reason, std::vector<uint16_t> unknown);
  void Emit(const Endpoint& source, const Endpoint& destination, Message response);
  // The endpoint that differs from `local` in IP (if change_ip) and port (if
  // change_port); nullopt when `local` is not one of LocalEndpoints().
  std::optional<Endpoint> Swap(const Endpoint& local, bool change_ip, bool change_port) const;

  StunServerConfig config_;
  std::deque<Transmit> transmits_;
  StunServerStats stats_;
  std::optional<SourceRateLimiter> rate_limiter_;
};

}  // namespace stun
}  // namespace punchlab
