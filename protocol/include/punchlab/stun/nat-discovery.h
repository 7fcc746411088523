// NAT behaviour discovery (RFC 5780 section 4, RFC 4787 vocabulary) as a
// machine built on StunClient: one run against an RFC 5780 server (or an
// RFC 3489 one with `binding.classic`) yields a NatReport.
//
// Steps, each started when the previous one has finished, all from the main
// socket `local` unless said otherwise (S = server A1:P1, O = its
// OTHER-ADDRESS A2:P2 learned in step 1):
//   1. Test I: local -> S. No answer by the deadline: UDP is blocked; stop.
//   2. Filtering (4.4), before anything is sent to O, because sending there
//      would open the NAT's filter for O and fake endpoint-independence:
//      local -> S with CHANGE-REQUEST ip+port, and local -> S with change-port,
//      together. Answer to ip+port: endpoint-independent; else answer to
//      port only: address-dependent; neither: address-and-port-dependent.
//   3. Mapping (4.3): local -> A2:P1, then local -> A2:P2. Mapped address as in
//      test I: endpoint-independent; else test III's equal to test II's:
//      address-dependent; else address-and-port-dependent.
//   4. Hairpinning (4.5): local -> its own mapped address from test I. The
//      request arriving back on one of our sockets means "on"; a timeout
//      means "off".
//   5. Port assignment: each of `extra_locals` -> S, one after the other, so
//      the NAT allocates in a known order. Every socket's first mapping kept
//      its local port: "preserve"; else, with at least 3 distinct mappings in
//      creation order, every step between successive mapped ports in
//      1..kSequentialMaxStep: "sequential" (the NAT may have served other
//      hosts, or this run's hairpin probe, in between); else "random".
//      Fewer than 3 mappings and no preservation: unknown. Give 3 or more
//      extra sockets for a verdict on endpoint-independent NATs.
// Without OTHER-ADDRESS (a server with no alternate), or when the server
// rejects CHANGE-REQUEST, steps 2 and 3 are skipped and mapping and filtering
// stay unknown; steps 4 and 5 still run.
//
// The machine is a DatagramMachine: the host binds LocalEndpoints(), feeds
// every datagram arriving on them, and drains as usual. PollEvent() yields the
// report once, when the run is over.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/random.h"
#include "punchlab/stun/client.h"

namespace punchlab {
namespace stun {

// RFC 4787 behaviours for mapping (section 4.1) and filtering (section 5).
enum class NatBehavior : uint8_t {
  kUnknown,
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent,
};
enum class PortAssignment : uint8_t { kUnknown, kPreserve, kSequential, kRandom };
enum class Hairpinning : uint8_t { kUnknown, kOn, kOff };

// "endpoint-independent", "address-dependent", "address-and-port-dependent", "unknown".
const char* ToString(NatBehavior b);
// "preserve", "sequential", "random", "unknown".
const char* ToString(PortAssignment p);
// "on", "off", "unknown".
const char* ToString(Hairpinning h);

constexpr int kSequentialMaxStep = 16;

struct NatReport {
  bool udp_blocked = false;
  Endpoint local;                         // the main socket
  std::optional<Endpoint> mapped;         // test I's mapped address
  std::optional<Endpoint> other_address;  // the server's alternate, if it has one
  NatBehavior mapping = NatBehavior::kUnknown;
  NatBehavior filtering = NatBehavior::kUnknown;
  PortAssignment ports = PortAssignment::kUnknown;
  Hairpinning hairpin = Hairpinning::kUnknown;
  // Distinct (local, mapped) pairs in the order the NAT created them: the
  // evidence for `ports`.
  std::vector<std::pair<Endpoint, Endpoint>> mappings;

  bool behind_nat() const { return mapped && *mapped != local; }
  // "udp=blocked", or e.g. "mapped=203.0.113.1:4000 mapping=endpoint-independent
  // filtering=address-and-port-dependent ports=preserve hairpin=off".
  std::string ToString() const;
};

struct NatDiscoveryConfig {
  Endpoint local;                     // main socket: steps 1-4
  std::vector<Endpoint> extra_locals;  // further sockets: step 5
  Endpoint server;                    // A1:P1 of an RFC 5780 / RFC 3489 server
  // Deadline, retransmission, SOFTWARE, classic mode for every probe; the
  // change flags are set per probe and ignored here.
  BindingOptions binding;
};

class NatDiscovery final : public DatagramMachine {
 public:
  // `rng` feeds the transaction ids and must outlive the machine.
  NatDiscovery(RandomSource& rng, NatDiscoveryConfig config);

  // Sockets the host must bind: local, then extra_locals.
  std::vector<Endpoint> LocalEndpoints() const;
  // Begins the run (once). Transmits are ready at once.
  void Start(Timestamp now);
  bool finished() const { return step_ == Step::kDone; }

  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;
  // The report, once, when finished.
  std::optional<NatReport> PollEvent();

  // Counters of the underlying client (requests, retransmits, drops...).
  const StunClientStats& client_stats() const { return client_.stats(); }

 private:
  enum class Step : uint8_t { kIdle, kTestI, kFiltering, kMappingII, kMappingIII, kHairpin, kPorts, kDone };
  enum class Probe : uint8_t { kTestI, kFilterIpPort, kFilterPort, kMappingII, kMappingIII, kHairpin, kPort };

  void Begin(Timestamp now, Probe probe, const Endpoint& from, const Endpoint& to, bool change_ip,
             bool change_port);
  void ProcessEvents(Timestamp now);
  void Advance(Timestamp now);
  void NoteMapping(const Endpoint& local, const Endpoint& mapped);
  void Finish();

  NatDiscoveryConfig config_;
  StunClient client_;
  Step step_ = Step::kIdle;
  std::map<TransactionId, Probe> probes_;  // outstanding ones
  std::map<Probe, StunClientEvent> results_;
  std::optional<TransactionId> hairpin_id_;
  size_t next_port_probe_ = 0;
  NatReport report_;
  std::deque<NatReport> events_;
};

}  // namespace stun
}  // namespace punchlab
