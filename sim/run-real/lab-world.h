// The network half of a real run: builds a LabPlan out of network namespaces
// (lab::Lab, which always deletes them), bridges, veths, routes, nftables
// NATs and firewalls and shaped links, and changes them when events strike.
// Processes are lab-processes.h's.
//
// Everything it cannot do as the scenario says goes into `notes` as a
// sentence, with the scenario entry's file:line:col where there is one.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lab/link-shaper.h"
#include "lab/miniupnpd.h"
#include "lab/netns-lab.h"
#include "run-real/lab-plan.h"
#include "run-real/nat-translation.h"
#include "run-real/portmap-translation.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

// How the lab's links get their latency, jitter, loss, rate and down state.
struct LinkOptions {
  // true: every link is a TAP pair joined by `punchlab-node wire` (the link
  // model of link/link-model.h, the simulation's, on any kernel). false:
  // veths shaped by the kernel (netem or tbf, nftables; lab/link-shaper.h),
  // where latency and jitter need sch_netem. $PUNCHLAB_LAB_LINKS=kernel
  // chooses the kernel (LinkOptionsFromEnvironment).
  bool wire = true;
  std::string node_bin;  // punchlab-node, for the wire
  uint64_t seed = 1;     // the wire's loss and jitter draw from it
};
// wire unless $PUNCHLAB_LAB_LINKS is "kernel"; throws lab::LabError for
// another value than "wire" or "kernel".
bool WireFromEnvironment();

class LabWorld {
 public:
  // Creates the Lab (removing stale labs first); Build() makes the network.
  // Throws lab::LabError (not root, ...).
  LabWorld(const scenario::Scenario& scenario, const LabPlan& plan,
           std::vector<std::string>& notes, LinkOptions links = {});
  ~LabWorld();
  LabWorld(const LabWorld&) = delete;
  LabWorld& operator=(const LabWorld&) = delete;

  // Throws lab::LabError naming the command that failed.
  void Build();

  lab::Lab& lab() { return lab_; }
  const lab::Namespace& Ns(const std::string& short_name) const;
  bool netem() const { return netem_; }
  bool wired() const { return links_options_.wire; }

  // ---- what events do to the network ----
  // Every mapping lost (conntrack flushed, the cone's maps emptied), same
  // address. A router running miniupnpd loses power too: the daemon is
  // killed and started again (its epoch restarts), with its lease file when
  // port_mapping.keep_on_reboot says the router stores it.
  void RebootNat(const std::string& nat);
  // Every mapping lost, and the NAT's uplink moves to its next spare address.
  void ChangeNatAddress(const std::string& nat, const scenario::SourcePos& where);
  // New flows are mapped this way from now on; live conntrack entries keep theirs.
  void SetNatMapping(const std::string& nat, nat::Dependence mapping,
                     const scenario::SourcePos& where);
  void SetBlockUdp(const std::string& firewall, bool block);
  // The link of a node, NAT or firewall (its uplink), or a DERP region's
  // (latency only): the fields set in `settings` change, the rest stay.
  void SetLink(scenario::TargetKind kind, const std::string& target,
               const scenario::Settings& settings, const scenario::SourcePos& where);
  // The link's current settings, to undo a SetLink later.
  scenario::Settings LinkSettings(scenario::TargetKind kind, const std::string& target) const;
  void SetLinkDown(scenario::TargetKind kind, const std::string& target, bool down);

  // What the run's counters get: "nat/<name>" -> conntrack entries, reboots, ...
  std::map<std::string, std::map<std::string, uint64_t>> Counters();
  // The wire's per-address accounting (link/wire-protocol.h `flows`);
  // nullopt with the kernel's links (no wire).
  std::optional<std::string> WireFlows();
  // Writes each miniupnpd's command and log (its stderr: it runs with -d)
  // into `dir` as miniupnpd-<nat>.<run>.cmd/.err, run 0 first and one more
  // per reboot, as the nodes' logs are named (lab-processes.h).
  void SaveLogs(const std::string& dir) const;

  // Idempotent; the destructor calls it too.
  void Teardown() { lab_.Teardown(); }
  std::vector<std::string> Leftovers() const { return lab_.Leftovers(); }

 private:
  struct LinkState {
    const Uplink* uplink = nullptr;
    scenario::Link link;
    bool down = false;
    // A router's uplink while it reboots (wire only): nothing reaches the
    // router from the internet (the direction towards the child is down).
    bool inbound_held = false;
    std::unique_ptr<lab::ShapedLink> shaped;
  };
  struct NatState {
    const scenario::NatDef* def = nullptr;
    const BoxPlan* box = nullptr;
    nat::NatConfig config;
    LabNat translated;
    // Its router's port mapping (run-real/portmap-translation.h), when it offers any.
    std::optional<LabPortMapping> portmap;
    std::unique_ptr<lab::Miniupnpd> daemon;
    // The daemons a reboot killed, oldest first, for their logs.
    std::vector<std::unique_ptr<lab::Miniupnpd>> past_daemons;
    std::vector<std::string> addresses;  // the uplink's addresses now, main one first
    size_t spare_used = 0;
    uint64_t reboots = 0;
    uint64_t address_changes = 0;
  };
  struct FirewallState {
    const scenario::FirewallDef* def = nullptr;
    const BoxPlan* box = nullptr;
    nat::FirewallConfig config;
  };

  const lab::Namespace& AddNamespace(const std::string& short_name);
  void BuildUplink(const Uplink& uplink);
  void BuildNat(NatState& nat);
  void StartMiniupnpd(NatState& nat);
  void BuildFirewall(FirewallState& fw);
  void ConntrackTimeouts(const lab::Namespace& ns, int64_t udp_s, int64_t tcp_established_s,
                         int64_t tcp_transitory_s);
  void ApplyShape(LinkState& link);
  LinkState& LinkOf(scenario::TargetKind kind, const std::string& target);
  const LinkState& LinkOf(scenario::TargetKind kind, const std::string& target) const;
  void FlushConntrack(const lab::Namespace& ns);
  void Note(const scenario::SourcePos& where, const std::string& text);

  const scenario::Scenario& scenario_;
  const LabPlan& plan_;
  std::vector<std::string>& notes_;
  LinkOptions links_options_;
  lab::Lab lab_;
  std::map<std::string, lab::Namespace> namespaces_;
  bool netem_ = false;
  std::map<std::string, LinkState> links_;  // by the uplink's child namespace
  std::map<std::string, NatState> nats_;    // by scenario name
  std::map<std::string, FirewallState> firewalls_;
};

}  // namespace punchlab::runreal
