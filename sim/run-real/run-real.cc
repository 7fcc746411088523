#include "run-real/run-real.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "lab/child-process.h"
#include "lab/command.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "realio/key-log-file.h"
#include "realio/monotonic-clock.h"
#include "realio/wall-clock.h"
#include "results/evaluate.h"
#include "results/key-log.h"
#include "results/probe.h"
#include "run-real/commands.h"
#include "run-real/event-actions.h"
#include "run-real/lab-plan.h"
#include "run-real/lab-processes.h"
#include "run-real/lab-world.h"
#include "run-real/merged-capture.h"
#include "run-real/nat-translation.h"
#include "run-real/node-log.h"
#include "run-real/schedule.h"
#include "run-real/wire-paths.h"

namespace punchlab::runreal {
namespace {

using results::RunError;

// How often the runner looks at its processes while it waits.
constexpr Duration kWatchInterval = Duration::Millis(100);
// A step this much later than its time gets a note.
constexpr Duration kLateNote = Duration::Millis(250);
// A punchlab-node node is launched this long before its start and waits for
// it (schedule.h): launching takes 15-60 ms at load 10 (bench/README.md,
// fidelity), so the nodes start within a millisecond of their instants, as
// in the simulation.
constexpr Duration kNodeLead = Duration::Millis(300);
constexpr Duration kCaptureStartTimeout = Duration::Seconds(10);
constexpr uintmax_t kPcapHeaderSize = 24;

std::string Position(const scenario::Scenario& s, const scenario::SourcePos& where) {
  return s.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

// Sleeps until run time `t` (bounded by it), waking to notice processes that
// died and signals (lab::Interrupted).
void WaitUntil(Timestamp epoch, Duration t, LabProcesses& processes) {
  while (true) {
    lab::ThrowIfInterrupted();
    const Duration now = realio::MonotonicNow() - epoch;
    processes.NoteExited(now);
    if (now >= t) return;
    const Duration nap = std::min(t - now, kWatchInterval);
    pollfd fd{lab::InterruptFd(), POLLIN, 0};
    poll(&fd, fd.fd >= 0 ? 1 : 0, static_cast<int>((nap.nanos() + 999999) / 1000000));
  }
}

void NoteScenarioLimits(const scenario::Scenario& s, std::vector<std::string>& notes) {
  for (const scenario::Flow& f : s.traffic) {
    if (f.size_bytes < results::kProbeHeaderSize) {
      notes.push_back(Position(s, f.where) + ": traffic " + f.from + " -> " + f.to + ": size " +
                      std::to_string(f.size_bytes) + "B is below the probe header; the lab " +
                      "sends " + std::to_string(results::kProbeHeaderSize) + "B probes");
    }
  }
}

std::string StepText(const scenario::Scenario& s, const Step& step) {
  if (step.kind == Step::Kind::kStartNode) return "the start of node " + s.nodes[step.index].name;
  if (step.kind == Step::Kind::kReleaseNode) {
    return "the release of node " + s.nodes[step.index].name;
  }
  const scenario::Event& e = s.events[step.index];
  return std::string(step.kind == Step::Kind::kUndo ? "the end of " : "") + "the event at " +
         Position(s, e.where);
}

// One link capture per uplink, for --pcap.
class Captures {
 public:
  Captures(LabWorld& world, const LabPlan& plan, const std::string& dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> files;
    for (const Uplink* u : plan.Uplinks()) {
      files.push_back(std::filesystem::absolute(dir + "/" + u->label + ".pcap").string());
      children_.push_back(&world.lab().Spawn(
          world.Ns(u->ns), {"dumpcap", "-q", "-P", "-i", u->ifname, "-w", files.back()}));
    }
    // dumpcap writes the file's header once it captures: wait for every one,
    // so the run's first packets are in the files.
    const Timestamp deadline = realio::MonotonicNow() + kCaptureStartTimeout;
    for (size_t i = 0; i < files.size(); ++i) {
      while (!Started(files[i])) {
        if (children_[i]->exited() || realio::MonotonicNow() > deadline) {
          throw lab::LabError("dumpcap did not start capturing into " + files[i] + " (" +
                              children_[i]->DescribeStatus() + "): " +
                              lab::TrimRight(children_[i]->Stderr()));
        }
        lab::ThrowIfInterrupted();
        poll(nullptr, 0, 20);
      }
    }
  }
  static bool Started(const std::string& file) {
    std::error_code error;
    return std::filesystem::file_size(file, error) >= kPcapHeaderSize && !error;
  }

  // dumpcap finishes its file on SIGTERM.
  void Stop() {
    for (lab::ChildProcess* c : children_) c->Stop();
  }

 private:
  std::vector<lab::ChildProcess*> children_;
};

// The key logs beside the captures (results/key-log.h), as the simulation
// writes them: made empty here, then appended to by every process that
// seals (the disco one only with the scenario's disco_log, whose events the
// sent messages are).
KeyLogFiles StartKeyLogs(const scenario::Scenario& s, const std::string& dir) {
  auto path = [&](const char* file) {
    const std::string p = std::filesystem::absolute(dir + "/" + file).string();
    try {
      realio::KeyLogFile::Empty(p);
    } catch (const std::runtime_error& e) {
      throw RunError(std::string("--pcap: ") + e.what());
    }
    return p;
  };
  KeyLogFiles files;
  files.tls = path(results::kTlsKeyLogFile);
  files.control = path(results::kControlKeyLogFile);
  if (s.disco_log) files.disco = path(results::kDiscoKeyLogFile);
  return files;
}

// The wire's view: what it delivered between nodes, program nodes' paths,
// their send rates.
void JudgeByWire(const scenario::Scenario& s, const LabPlan& plan, LabWorld& world,
                 Timestamp epoch, results::Results& results) {
  const bool programs = std::any_of(s.nodes.begin(), s.nodes.end(),
                                    [](const scenario::NodeDef& n) { return n.run.has_value(); });
  const std::optional<std::string> flows = world.WireFlows();
  if (!flows) {
    if (programs) {
      results.notes.push_back("PUNCHLAB_LAB_LINKS=kernel: there is no wire to count packets, so "
                              "program nodes' paths and send rates are not judged");
    }
    return;
  }
  // The wire counts on CLOCK_MONOTONIC itself; realio's clock starts with
  // this process.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t offset_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec -
                            realio::MonotonicNow().nanos();
  WireView view = ReadWireView(s, plan, *flows, (epoch.nanos() + offset_ns) / 1000000);
  results.wire = std::move(view.samples);
  for (results::PathChange& c : view.timeline) results.timeline.push_back(std::move(c));
  for (results::ProgramReport& p : results.programs) {
    const auto it = view.peak_send_rate.find(p.node);
    if (it == view.peak_send_rate.end()) continue;
    // Per node, not per process run: a restarted program shares its link.
    p.peak_packet_rate = it->second.first;
    if (it->second.first > 0) p.peak_at = it->second.second;
  }
  if (view.untracked > 0) {
    results.notes.push_back("the wire's accounting table was full: " +
                            std::to_string(view.untracked) + " packets were not counted by address");
  }
}

void Run(const scenario::Scenario& s, const results::RunOptions& options,
         results::Results& results) {
  CheckNatsBuildable(s);  // before anything is built
  const std::string node_bin = FindNodeBinary();
  const LabPlan plan = PlanLab(s);
  LinkOptions links;
  links.wire = WireFromEnvironment();
  links.node_bin = node_bin;
  links.seed = results.seed;
  LabWorld world(s, plan, results.notes, links);
  world.Build();
  std::unique_ptr<Captures> captures;
  if (options.pcap) {
    if (options.out_dir.empty()) throw RunError("--pcap needs a results directory (--out)");
    captures = std::make_unique<Captures>(world, plan, options.out_dir + "/pcap");
  }
  LabProcesses processes(world, s, plan, node_bin, results.seed, results.notes);
  if (captures) processes.LogKeysTo(StartKeyLogs(s, options.out_dir + "/pcap"));
  processes.StartServers();
  EventActions actions(s, world, processes);

  // The run's t = 0 lies kNodeLead ahead: the nodes due then are launched now.
  const Timestamp epoch = realio::MonotonicNow() + kNodeLead;
  processes.SetEpoch((epoch + realio::UnixEpochOffset()).nanos());
  for (const Step& step : BuildSchedule(s, kNodeLead)) {
    WaitUntil(epoch, step.due, processes);
    const Duration late = realio::MonotonicNow() - epoch - step.due;
    if (late > kLateNote) {
      results.notes.push_back(StepText(s, step) + " ran " + late.ToString() + " late");
    }
    switch (step.kind) {
      case Step::Kind::kStartNode:
        processes.StartNode(step.index, step.at, step.gated);
        break;
      case Step::Kind::kReleaseNode:
        processes.ReleaseNode(step.index);
        break;
      case Step::Kind::kEvent:
        actions.Apply(step.index, step.at);
        break;
      case Step::Kind::kUndo:
        actions.Undo(step.index);
        break;
    }
  }
  WaitUntil(epoch, s.stop_time, processes);

  const std::vector<std::vector<ProcessRun>> runs = processes.StopAll();
  if (captures) {
    captures->Stop();
    const std::string why = MergeCaptures(plan, options.out_dir + "/pcap");
    if (!why.empty()) {
      results.notes.push_back(std::string("--pcap: no merged capture (pcap/") +
                              kMergedCaptureFile + "): " + why);
    }
  }
  for (auto& [group, counters] : world.Counters()) results.counters[group] = counters;
  for (auto& [group, counters] : processes.Counters()) results.counters[group] = counters;
  const NodeDirectory directory = processes.Directory();
  const scenario::PathClassifier paths = LabPathClassifier(s, plan);
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (!s.nodes[i].run) CollectNodeLog(s, directory, paths, s.nodes[i].name, runs[i], results);
  }
  results.programs = processes.ProgramReports();
  JudgeByWire(s, plan, world, epoch, results);
  if (!options.out_dir.empty()) {
    const std::string logs = options.out_dir + "/lab-logs";
    std::filesystem::create_directories(logs);
    processes.SaveLogs(logs);
    world.SaveLogs(logs);
  }
  world.Teardown();
  if (!world.Leftovers().empty()) {
    throw RunError("the lab left namespaces behind: " + world.Leftovers().front());
  }
}

}  // namespace

results::Results RunInLab(const scenario::Scenario& s, const results::RunOptions& options) {
  results::Results results;
  results.scenario = s.name;
  results.file = s.file;
  results.description = s.description;
  results.seed = options.seed ? *options.seed : s.seed;
  results.mode = results::Mode::kReal;
  results.stop_time = s.stop_time;
  NoteScenarioLimits(s, results.notes);
  try {
    Run(s, options, results);
  } catch (const lab::Interrupted&) {
    // The lab is gone (LabWorld unwound); end the way the signal asked.
    lab::ReraiseCaughtSignal();
    throw RunError("interrupted");
  } catch (const lab::LabError& e) {
    throw RunError(std::string("the real lab failed: ") + e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    throw RunError(e.what());
  }
  // A signal that arrived while nothing was waiting (the last teardown steps
  // do not poll for it) still ends the program, now that the lab is gone.
  if (lab::CaughtSignal() != 0) {
    lab::ReraiseCaughtSignal();
    throw RunError("interrupted");
  }
  FinishObservations(s, results);
  results::EvaluateExpectations(s, results);
  return results;
}

}  // namespace punchlab::runreal
