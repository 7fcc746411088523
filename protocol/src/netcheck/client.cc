#include "punchlab/netcheck/client.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <stdexcept>
#include <utility>

namespace punchlab {
namespace netcheck {

NetcheckClient::NetcheckClient(RandomSource& rng, NetcheckConfig config)
    : rng_(rng), config_(std::move(config)), stun_(rng), home_(config_.home) {
  const Duration zero = Duration::Zero();
  if (config_.probe_deadline <= zero || config_.report_deadline <= zero ||
      config_.initial_rto <= zero || config_.max_rto < config_.initial_rto ||
      config_.restun_min <= zero || config_.restun_max < config_.restun_min) {
    throw std::invalid_argument(
        "NetcheckConfig: durations must be positive, max_rto >= initial_rto, "
        "restun_max >= restun_min");
  }
}

void NetcheckClient::SetRegions(std::vector<Region> regions) {
  regions_.clear();
  std::set<RegionId> seen;
  for (Region& r : regions) {
    if (r.id <= kNoRegion || !seen.insert(r.id).second) {
      ++stats_.regions_ignored;
      continue;
    }
    std::vector<Endpoint> usable;
    for (const Endpoint& e : r.stun) {
      if (e.port == 0 || e.ip.IsUnspecified()) {
        ++stats_.stun_endpoints_ignored;
        continue;
      }
      usable.push_back(e);
    }
    r.stun = std::move(usable);
    regions_.push_back(std::move(r));
  }
}

void NetcheckClient::SetLocalEndpoints(std::vector<Endpoint> locals) { locals_ = std::move(locals); }

bool NetcheckClient::StartReport(Timestamp now) {
  if (running_) {
    ++stats_.reports_deferred;
    deferred_ = ReportTrigger::kCommand;
    return true;
  }
  return Begin(now, ReportTrigger::kCommand);
}

void NetcheckClient::SetActive(Timestamp now, bool active) {
  if (active == active_) return;
  active_ = active;
  if (!active_) {
    next_restun_.reset();
    return;
  }
  // Resume the schedule from the last report's start; a node that was idle
  // longer than that re-STUNs at once, since its mappings may have expired.
  if (last_start_) next_restun_ = *last_start_ + DrawRestun();
  if (!last_start_ || *next_restun_ <= now) {
    if (running_) {
      // Only possible with a report_deadline longer than restun_min.
      deferred_ = ReportTrigger::kActivated;
    } else {
      Begin(now, ReportTrigger::kActivated);
    }
  }
}

Duration NetcheckClient::DrawRestun() {
  return rng_.UniformDuration(config_.restun_min, config_.restun_max);
}

bool NetcheckClient::Begin(Timestamp now, ReportTrigger trigger) {
  // Start-to-start: the next periodic report is timed from this one.
  if (active_) next_restun_ = now + DrawRestun();

  struct Planned {
    RegionId region;
    Endpoint local;
    Endpoint server;
  };
  std::vector<Planned> plan;
  for (const Region& r : regions_) {
    for (const Endpoint& server : r.stun) {
      for (const Endpoint& local : locals_) {
        if (local.ip.family() == server.ip.family()) plan.push_back({r.id, local, server});
      }
    }
  }
  if (plan.empty()) {
    ++stats_.reports_skipped_no_probe;
    return false;
  }

  Running run;
  run.report.sequence = ++sequence_;
  run.report.trigger = trigger;
  run.report.started = now;
  run.regions = regions_;
  run.deadline = now + config_.report_deadline;
  running_ = std::move(run);
  last_start_ = now;
  ++stats_.reports_started;
  ++stats_.reports_by_trigger[static_cast<size_t>(trigger)];
  const Duration probe_deadline = std::min(config_.probe_deadline, config_.report_deadline);
  for (const Planned& p : plan) StartProbe(now, p.region, p.local, p.server, 1, probe_deadline);
  return true;
}

void NetcheckClient::StartProbe(Timestamp now, RegionId region, const Endpoint& local,
                                const Endpoint& server, uint32_t round, Duration deadline) {
  stun::BindingOptions o;
  o.software = config_.software;
  o.deadline = deadline;
  o.initial_rto = config_.initial_rto;
  o.max_rto = config_.max_rto;
  const stun::TransactionId id = stun_.StartBinding(now, local, server, o);
  running_->in_flight.emplace(id, Probe{region, local, server, round, now});
  ++stats_.probes_started;
}

void NetcheckClient::DrainStun() {
  while (auto ev = stun_.PollEvent()) {
    // Every transaction belongs to the running report: Finish() cancels
    // whatever is still pending, and the STUN client is ours alone.
    assert(running_);
    const stun::StunExchange& exchange = stun::Exchange(*ev);
    auto it = running_->in_flight.find(exchange.transaction_id);
    assert(it != running_->in_flight.end());
    const Probe& probe = it->second;
    ProbeResult r;
    r.region = probe.region;
    r.local = probe.local;
    r.server = probe.server;
    r.round = probe.round;
    r.started = probe.started;
    r.retransmits = exchange.retransmits;
    if (const auto* ok = std::get_if<stun::StunSuccess>(&*ev)) {
      r.outcome = ProbeOutcome::kSuccess;
      r.rtt = ok->rtt;
      r.mapped = ok->mapped;
      running_->any_success = true;
      auto [lat, inserted] = running_->latency.emplace(probe.region, ok->rtt);
      if (!inserted && ok->rtt < lat->second) lat->second = ok->rtt;
      ++stats_.probes_succeeded;
    } else if (std::holds_alternative<stun::StunErrorResponse>(*ev)) {
      r.outcome = ProbeOutcome::kErrorResponse;
      r.rtt = exchange.rtt;
      ++stats_.probes_error_response;
    } else {
      r.outcome = ProbeOutcome::kTimeout;
      ++stats_.probes_timed_out;
    }
    running_->report.probes.push_back(std::move(r));
    running_->in_flight.erase(it);
  }
}

void NetcheckClient::HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                                    ByteView payload) {
  stun_.HandleDatagram(now, local, remote, payload);
  Step(now);
}

void NetcheckClient::HandleTimeout(Timestamp now) {
  stun_.HandleTimeout(now);
  Step(now);
}

void NetcheckClient::Step(Timestamp now) {
  DrainStun();
  if (running_) {
    Running& run = *running_;
    if (run.in_flight.empty()) {
      if (run.any_success || run.round != 1 || !StartRetryRound(now)) Finish(now);
    } else if (now >= run.deadline || (run.early_close && now >= *run.early_close)) {
      Finish(now);
    } else {
      MaybeScheduleEarlyClose(now);
    }
  }
  if (active_ && next_restun_ && now >= *next_restun_) {
    if (running_) {
      // Only possible with a report_deadline longer than restun_min.
      ++stats_.reports_deferred;
      deferred_ = ReportTrigger::kPeriodic;
      next_restun_ = now + DrawRestun();
    } else {
      Begin(now, ReportTrigger::kPeriodic);
    }
  }
  if (!running_ && deferred_) {
    const ReportTrigger trigger = *deferred_;
    deferred_.reset();
    Begin(now, trigger);
  }
}

bool NetcheckClient::StartRetryRound(Timestamp now) {
  Running& run = *running_;
  const Duration left = run.deadline - now;
  if (left <= Duration::Zero()) return false;
  std::vector<ProbeResult> again;
  for (const ProbeResult& p : run.report.probes) {
    if (p.round == 1 && p.outcome == ProbeOutcome::kTimeout) again.push_back(p);
  }
  if (again.empty()) return false;
  run.round = 2;
  ++stats_.retry_rounds;
  const Duration deadline = std::min(config_.probe_deadline, left);
  for (const ProbeResult& p : again) StartProbe(now, p.region, p.local, p.server, 2, deadline);
  return true;
}

void NetcheckClient::MaybeScheduleEarlyClose(Timestamp now) {
  Running& run = *running_;
  if (run.early_close || config_.enough_regions == 0 ||
      run.latency.size() < config_.enough_regions) {
    return;
  }
  const RegionId home = home_.home();
  if (home != kNoRegion && run.latency.count(home) == 0) {
    for (const auto& [id, probe] : run.in_flight) {
      if (probe.region == home) return;  // wait for the home region
    }
  }
  Duration slowest;
  for (const auto& [id, d] : run.latency) slowest = std::max(slowest, d);
  run.early_close = std::min(run.deadline, now + slowest * 2);
}

void NetcheckClient::Finish(Timestamp now) {
  Running run = std::move(*running_);
  running_.reset();
  if (!run.in_flight.empty() && now < run.deadline) ++stats_.reports_closed_early;
  for (const auto& [id, probe] : run.in_flight) {
    stun_.Cancel(id);
    ProbeResult r;
    r.region = probe.region;
    r.local = probe.local;
    r.server = probe.server;
    r.round = probe.round;
    r.started = probe.started;
    r.outcome = ProbeOutcome::kCancelled;
    run.report.probes.push_back(std::move(r));
    ++stats_.probes_cancelled;
  }

  Report& report = run.report;
  report.finished = now;
  Summarize(run.regions, report);
  std::set<RegionId> known;
  for (const Region& r : run.regions) known.insert(r.id);
  std::optional<HomeRegionChange> change = home_.Update(now, report.region_latency, known);
  report.home_region = home_.home();

  ++stats_.reports_finished;
  if (report.udp_blocked) ++stats_.reports_udp_blocked;
  last_report_ = report;
  events_.push_back(std::move(report));
  if (change) {
    ++stats_.home_changes;
    events_.push_back(std::move(*change));
  }
}

std::optional<Transmit> NetcheckClient::PollTransmit() { return stun_.PollTransmit(); }

std::optional<Timestamp> NetcheckClient::PollTimeout() const {
  std::optional<Timestamp> t = stun_.PollTimeout();
  auto earliest = [&t](Timestamp c) {
    if (!t || c < *t) t = c;
  };
  if (running_) {
    earliest(running_->deadline);
    if (running_->early_close) earliest(*running_->early_close);
  }
  if (active_ && next_restun_) earliest(*next_restun_);
  return t;
}

std::optional<NetcheckEvent> NetcheckClient::PollEvent() {
  if (events_.empty()) return std::nullopt;
  NetcheckEvent ev = std::move(events_.front());
  events_.pop_front();
  return ev;
}

}  // namespace netcheck
}  // namespace punchlab
