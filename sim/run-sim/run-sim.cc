#include "run-sim/run-sim.h"

#include <cassert>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "ns3/config.h"
#include "ns3/object-factory.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/rng-stream.h"
#include "ns3/simulator.h"
#include "model/machine-host.h"
#include "ns3/uinteger.h"
#include "results/evaluate.h"
#include "results/probe.h"
#include "results/write-directory.h"
#include "results/format.h"
#include "results/key-log.h"
#include "run-sim/control-key-log.h"
#include "run-sim/counters.h"
#include "run-sim/disco-recorder.h"
#include "run-sim/fault-driver.h"
#include "run-sim/path-recorder.h"
#include "run-sim/pcap-capture.h"
#include "run-sim/scenario-world.h"
#include "run-sim/traffic-driver.h"

namespace punchlab {
namespace runsim {
namespace {

// ns-3 keeps global state (the simulator, the node list, attribute
// defaults): every run starts from the same place, so runs in one process
// (compare, the Python bindings) are as deterministic as runs in fresh ones.
void ResetSimulator(uint64_t seed) {
  ns3::Simulator::Destroy();
  // The event queue: a binary heap in a vector (std::priority_queue) instead
  // of ns-3's default std::map, which allocates a tree node per event (the
  // map's insert was 6 % of a crowd of 1,000). Every ns-3 scheduler orders
  // events by (time, insertion number), so the order, and every result, is
  // the same.
  ns3::ObjectFactory scheduler;
  scheduler.SetTypeId("ns3::PriorityQueueScheduler");
  ns3::Simulator::SetScheduler(scheduler);
  ns3::RngSeedManager::SetSeed(static_cast<uint32_t>(seed % 0xfffffffeu) + 1);
  ns3::RngSeedManager::SetRun(1);
  // Full-size TCP segments for control and DERP (ns-3's default is 536 bytes).
  ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize",
                          ns3::UintegerValue(ns3::MachineHost::kTcpSegmentBytes));
}

void NoteSmallFlows(const scenario::Scenario& scenario, results::Results& r) {
  for (const scenario::Flow& f : scenario.traffic) {
    if (f.size_bytes < results::kProbeHeaderSize) {
      r.notes.push_back(scenario.file + ":" + std::to_string(f.where.line) + ":" +
                        std::to_string(f.where.column) + ": packets of " +
                        std::to_string(f.size_bytes) + " B carry the " +
                        std::to_string(results::kProbeHeaderSize) +
                        "-byte probe header, so they are sent as " +
                        std::to_string(results::kProbeHeaderSize) + " B");
    }
  }
}

// RunOptions::process_ends_after: the world stays allocated until the process
// ends. Held here, so leak checkers (LeakSanitizer, valgrind) see it as
// reachable, not lost; one at a time (a second would lose the first: that
// caller broke the option's promise, refused before it runs: RunInSimulation).
ScenarioWorld* g_left_for_exit = nullptr;

void LeaveForExit(std::unique_ptr<ScenarioWorld> world) {
  assert(g_left_for_exit == nullptr);
  g_left_for_exit = world.release();
}

}  // namespace

namespace {
bool g_fast_paths = true;
}  // namespace

ScopedIpv4FastPaths::ScopedIpv4FastPaths(bool on) : before_(g_fast_paths) { g_fast_paths = on; }
ScopedIpv4FastPaths::~ScopedIpv4FastPaths() { g_fast_paths = before_; }
bool Ipv4FastPaths() { return g_fast_paths; }

void WarmUpForForkedRuns() {
  // A stream made directly: no random variable, so no stream index drawn.
  [[maybe_unused]] ns3::RngStream first(1, 0, 0);
}

results::Results RunInSimulation(const scenario::Scenario& scenario,
                                 const results::RunOptions& options) {
  if (options.process_ends_after && g_left_for_exit != nullptr) {
    // Not an assert: a release build would run on and lose the first world.
    throw std::logic_error("RunOptions::process_ends_after for a second run of the process (" +
                           scenario.name + "): the first run's world was left for its end");
  }
  results::Results r;
  r.scenario = scenario.name;
  r.file = scenario.file;
  r.description = scenario.description;
  r.seed = options.seed.value_or(scenario.seed);
  r.mode = results::Mode::kSimulation;
  r.stop_time = scenario.stop_time;
  for (const scenario::NodeDef& n : scenario.nodes) {
    if (n.run) {
      throw results::RunError(scenario.file + ":" + std::to_string(n.run->where.line) + ":" +
                              std::to_string(n.run->where.column) + ": node " + n.name +
                              " runs a program (run:), which only the real lab can: punchlab "
                              "run --real");
    }
  }
  NoteSmallFlows(scenario, r);

  ResetSimulator(r.seed);
  {
    auto owned = std::make_unique<ScenarioWorld>(scenario, r.seed);
    ScenarioWorld& world = *owned;
    PathRecorder paths(world, r);
    std::optional<DiscoRecorder> disco;
    if (scenario.disco_log) disco.emplace(world, r);
    TrafficDriver traffic(world, r);
    FaultDriver faults(world, paths, r);
    std::optional<ControlKeyLog> control_keys;
    std::vector<ns3::Ptr<ns3::PcapFileWrapper>> captures;
    if (options.pcap) {
      captures = EnablePcapCapture(world, options.out_dir + "/pcap");
      control_keys.emplace(world);
    }

    ns3::Simulator::Stop(ns3::NanoSeconds(scenario.stop_time.nanos()));
    ns3::Simulator::Run();

    // The key log beside the captures, so a reader can open the sealed
    // disco packets in them (analysis/wireshark/punchlab.lua).
    if (options.pcap && disco) {
      results::WriteTextFile(options.out_dir + "/pcap/" + results::kDiscoKeyLogFile, disco->KeyLog());
    }
    if (control_keys) {
      results::WriteTextFile(options.out_dir + "/pcap/" + results::kControlKeyLogFile,
                             control_keys->Text());
    }
    r.counters = CollectCounters(world);
    r.counters["traffic"] = traffic.Counters();
    if (auto timeline = paths.Counters(); !timeline.empty()) r.counters["timeline"] = timeline;
    r.events_executed = ns3::Simulator::GetEventCount();
    ns3::Simulator::Destroy();
    for (const ns3::Ptr<ns3::PcapFileWrapper>& file : captures) file->Close();
    if (options.process_ends_after) LeaveForExit(std::move(owned));
  }
  results::EvaluateExpectations(scenario, r);
  return r;
}

}  // namespace runsim
}  // namespace punchlab
