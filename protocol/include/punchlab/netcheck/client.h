// The netcheck machine: measures the network from the node's own UDP socket
// (the one disco uses, so the mapped endpoints it learns are the ones peers
// must reach), after Tailscale's net/netcheck. Sans-IO: it wraps a StunClient
// and the node's demultiplexer hands it every STUN datagram that arrives.
//
// A report:
// * At start, one binding transaction per (local endpoint, STUN server of
//   every region) pair of the same address family, all at once. Each
//   retransmits on the STUN client's schedule (100 ms, then doubling) and
//   gives up after `probe_deadline` (3 s). All of them keep running after a
//   region's first answer: more answers from more servers are what reveals a
//   NAT whose mapping varies by destination.
// * It closes when every probe has finished, or at `report_deadline` (5 s)
//   after the start, or early: once `enough_regions` (3) regions answered
//   and the home region has answered (or given up), it waits twice the
//   slowest latency seen so far and cancels the rest (Tailscale's
//   "enough regions" shortcut, minus cutting off the home region, whose slow
//   answer is exactly what keeps the home from flapping).
// * If no probe succeeded by the time round 1 is over (all timed out at 3 s),
//   the timed-out probes are sent again with their deadline cut to the report
//   deadline: a node only concludes "UDP blocked" after trying for the whole
//   5 s, and that report closes at exactly 5 s.
// * Then the home region is chosen (home-region.h) and the events (the
//   Report and, if the home moved, a HomeRegionChange) are queued in that
//   order.
//
// Scheduling: while active (SetActive(now, true)), a new report starts a
// random 20-26 s (drawn from the injected RandomSource) after the previous
// one started, which keeps NAT mappings with the typical 30 s timeout alive
// and endpoints fresh. Becoming active with no report in that window starts
// one at once. StartReport() runs one now (startup, link change, DERP map
// change); asked while one runs, it starts when the running one closes.
// Region map and local endpoints are read when a report starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/netcheck/home-region.h"
#include "punchlab/netcheck/report.h"
#include "punchlab/random.h"
#include "punchlab/stun/client.h"

namespace punchlab {
namespace netcheck {

struct NetcheckConfig {
  Duration probe_deadline = Duration::Seconds(3);
  Duration initial_rto = Duration::Millis(100);
  Duration max_rto = Duration::Millis(1600);
  Duration report_deadline = Duration::Seconds(5);
  // 0: never close a report early.
  size_t enough_regions = 3;
  Duration restun_min = Duration::Seconds(20);
  Duration restun_max = Duration::Seconds(26);
  HomeRegionConfig home;
  // SOFTWARE attribute of the probes: derper drops binding requests without
  // Tailscale's "tailnode", so a node pointed at a real DERP server would
  // learn no public endpoint with anything else.
  std::string software = "tailnode";
};

// Events (see protocol/README.md, "Events"): a finished report, and a
// change of home region (which follows the report that caused it).
using NetcheckEvent = std::variant<Report, HomeRegionChange>;

struct NetcheckStats {
  uint64_t reports_started = 0;
  // Indexed by ReportTrigger.
  uint64_t reports_by_trigger[static_cast<size_t>(ReportTrigger::kActivated) + 1] = {};
  uint64_t reports_finished = 0;
  uint64_t reports_udp_blocked = 0;
  uint64_t reports_closed_early = 0;      // the enough-regions shortcut
  uint64_t reports_deferred = 0;          // asked for while one was running
  uint64_t reports_skipped_no_probe = 0;  // no (local, server) pair of one family
  uint64_t retry_rounds = 0;
  uint64_t probes_started = 0;
  uint64_t probes_succeeded = 0;
  uint64_t probes_error_response = 0;
  uint64_t probes_timed_out = 0;
  uint64_t probes_cancelled = 0;
  uint64_t home_changes = 0;
  // SetRegions input that cannot be used (e.g. from a broken DERP map):
  uint64_t regions_ignored = 0;         // id <= 0 or a duplicate id
  uint64_t stun_endpoints_ignored = 0;  // port 0 or unspecified address
};

class NetcheckClient final : public DatagramMachine {
 public:
  // STUN transaction ids and re-STUN intervals are drawn from `rng`, which
  // must outlive the client. Throws std::invalid_argument for a config with
  // non-positive durations or restun_max < restun_min.
  explicit NetcheckClient(RandomSource& rng, NetcheckConfig config = {});

  // Commands.
  void SetRegions(std::vector<Region> regions);
  void SetLocalEndpoints(std::vector<Endpoint> locals);
  // Starts a report now, or after the running one. False when there is
  // nothing to probe (no regions, or no local endpoint of a server's family).
  bool StartReport(Timestamp now);
  void SetActive(Timestamp now, bool active);

  // DatagramMachine: STUN responses to our probes come in here; anything
  // else is dropped and counted in stun_stats().
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;
  std::optional<NetcheckEvent> PollEvent();

  bool active() const { return active_; }
  bool report_in_progress() const { return running_.has_value(); }
  RegionId home_region() const { return home_.home(); }
  const std::optional<Report>& last_report() const { return last_report_; }
  // When the periodic timer fires next (nullopt while inactive).
  std::optional<Timestamp> next_periodic_report() const { return next_restun_; }
  const std::vector<Region>& regions() const { return regions_; }
  const NetcheckStats& stats() const { return stats_; }
  const stun::StunClientStats& stun_stats() const { return stun_.stats(); }

 private:
  struct Probe {
    RegionId region = kNoRegion;
    Endpoint local;
    Endpoint server;
    uint32_t round = 1;
    Timestamp started;
  };
  struct Running {
    Report report;
    std::vector<Region> regions;  // the map the report probes
    std::map<stun::TransactionId, Probe> in_flight;
    std::map<RegionId, Duration> latency;  // answered so far
    bool any_success = false;
    uint32_t round = 1;
    Timestamp deadline;
    std::optional<Timestamp> early_close;
  };

  bool Begin(Timestamp now, ReportTrigger trigger);
  void StartProbe(Timestamp now, RegionId region, const Endpoint& local, const Endpoint& server,
                  uint32_t round, Duration deadline);
  void DrainStun();
  // Runs after every input: closes, retries or starts reports as due.
  void Step(Timestamp now);
  bool StartRetryRound(Timestamp now);
  void MaybeScheduleEarlyClose(Timestamp now);
  void Finish(Timestamp now);
  Duration DrawRestun();

  RandomSource& rng_;
  NetcheckConfig config_;
  stun::StunClient stun_;
  HomeRegionSelector home_;
  std::vector<Region> regions_;
  std::vector<Endpoint> locals_;
  bool active_ = false;
  std::optional<Timestamp> next_restun_;
  std::optional<Timestamp> last_start_;
  std::optional<ReportTrigger> deferred_;
  std::optional<Running> running_;
  std::optional<Report> last_report_;
  uint64_t sequence_ = 0;
  std::deque<NetcheckEvent> events_;
  NetcheckStats stats_;
};

}  // namespace netcheck
}  // namespace punchlab
