// The ns-3 world a scenario describes, built once before the run:
//
//                    the internet (one InternetChannel)
//        ┌──────────┬──────┴───────┬───────────────┬──────────┐
//   DERP region   control     NAT/firewall       public node  ...
//   servers       server      uplinks              (no box)
//                                │
//                         box (NatMiddlebox)
//                        ┌───────┴────────┐
//                      node            nested box ── its nodes
//
// Every public thing has its own access link to the internet (an
// InternetNetDevice: models/model/internet-channel.h); every line below a
// box is its own point-to-point LinkChannel. Each link has the scenario's
// latency, jitter, loss and bandwidth (link-settings.h), so each can fail or
// change on its own. Addresses: address-plan.h. Routing is static: hosts
// and boxes default to the link above them; the internet delivers to the
// device owning a subnet; a firewall's parent routes the subnets behind it.
//
// Services: one DERP server per region (which also answers STUN on 3478),
// and the control server trusting one identity provider for every domain of
// the scenario (scenario/meaning/control-names.h names them). Each node runs a
// NodeApplication on port 41641 from its `start`, with a token for its domain
// bound to its key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/control-server-application.h"
#include "model/derp-server-application.h"
#include "model/internet-channel.h"
#include "model/nat-middlebox.h"
#include "model/node-application.h"
#include "ns3/ipv4-address.h"
#include "ns3/node.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/keys.h"
#include "run-sim/address-plan.h"
#include "run-sim/link-settings.h"
#include "scenario/meaning/path-classifier.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace runsim {

// One link of the world: an access link to the internet, or a wire below a
// box. Each end is a ShapedNetDevice (models/model/shaped-net-device.h).
struct WorldLink {
  std::string name;  // "node-laptop", "nat-home", "firewall-corp", "derp-fra", "control"
  ns3::Ptr<ns3::ShapedNetDevice> lower;  // node / box uplink / server side
  ns3::Ptr<ns3::ShapedNetDevice> upper;  // below a box: the box's end; null on the internet
  scenario::Link own;                    // the scenario's settings for this link
  Subnet subnet;

  bool internet() const { return upper == nullptr; }  // carries half the internet too
};

struct WorldBox {
  std::string name;
  bool nat = false;  // false: a firewall
  const scenario::NatDef* nat_def = nullptr;
  const scenario::FirewallDef* firewall_def = nullptr;
  ns3::Ptr<ns3::Node> host;
  ns3::Ptr<ns3::NatMiddlebox> box;
  size_t uplink = 0;             // index into ScenarioWorld::links
  bool inside_public = false;    // hosts behind it have public addresses
  uint32_t external_count = 1;   // NAT: addresses in its pool
  uint32_t address_changes = 0;  // change-address faults so far
};

struct WorldNode {
  std::string name;
  const scenario::NodeDef* def = nullptr;
  ns3::Ptr<ns3::Node> host;
  ns3::Ptr<ns3::NodeApplication> app;
  punchlab::NodePublicKey key;
  ns3::Ipv4Address address;
  size_t link = 0;
};

struct WorldRegion {
  const scenario::DerpRegion* def = nullptr;
  ns3::Ptr<ns3::Node> host;
  ns3::Ptr<ns3::DerpServerApplication> server;
  size_t link = 0;
};

// The UDP port every node binds.
constexpr uint16_t kNodePort = 41641;

class ScenarioWorld {
 public:
  // Builds everything; the simulator must be fresh (Simulator::Destroy'd).
  // `seed` replaces the scenario's. Throws results::RunError when the world
  // cannot be built.
  ScenarioWorld(const scenario::Scenario& scenario, uint64_t seed);
  ~ScenarioWorld();
  ScenarioWorld(const ScenarioWorld&) = delete;
  ScenarioWorld& operator=(const ScenarioWorld&) = delete;

  const scenario::Scenario& scenario() const { return scenario_; }
  uint64_t seed() const { return seed_; }

  std::vector<WorldLink> links;
  std::vector<WorldBox> boxes;      // parents before children
  std::vector<WorldNode> nodes;     // in file order
  std::vector<WorldRegion> regions; // in file order
  ns3::Ptr<ns3::InternetChannel> internet;
  ns3::Ptr<ns3::Node> control_host;
  ns3::Ptr<ns3::ControlServerApplication> control;
  size_t control_link = 0;

  WorldNode* FindNode(const std::string& name);
  WorldBox* FindBox(const std::string& name);
  WorldRegion* FindRegion(const std::string& name);
  // The node with this key, or null.
  const WorldNode* FindNodeByKey(const punchlab::NodePublicKey& key) const;
  // What kind of path a node uses, given where each node listens in this
  // world (its address, kNodePort): the same rule as the real lab's.
  const scenario::PathClassifier& paths() const { return *paths_; }
  size_t IndexOf(const WorldNode& node) const { return static_cast<size_t>(&node - nodes.data()); }

  // Applies `own` (plus the internet's share on access links) to a link now.
  void ApplyLinkSettings(size_t link, const scenario::Link& own);
  // A link stops (or starts again) carrying packets, both ways.
  void SetLinkUp(size_t link, bool up);
  // Packets a link dropped (both ends): at random or on a full backlog, and while down.
  uint64_t LinkLost(size_t link) const;
  uint64_t LinkDroppedDown(size_t link) const;

  // The next set of external addresses for a change-address fault on `box`.
  std::vector<ns3::Ipv4Address> NextExternalAddresses(WorldBox& box);

 private:
  struct Parent {
    ns3::Ptr<ns3::Node> host;      // the box host; null: the internet
    bool inside_public = true;     // addresses below it are public
    const WorldBox* box = nullptr; // null: the internet
  };
  Parent ParentOf(const std::string& behind) const;
  size_t AddLink(const std::string& name, const Parent& parent, ns3::Ptr<ns3::Node> lower,
                 const scenario::Link& own, uint32_t lower_addresses);
  std::string SubnetReason(const Subnet& subnet) const;
  void BuildBoxes();
  void BuildServers();
  void BuildNodes();
  void RouteThroughFirewalls();
  void InstallBoxes();
  void InstallApplications();

  const scenario::Scenario& scenario_;
  uint64_t seed_;
  AddressPlan plan_;
  std::unique_ptr<control::IdentityProvider> idp_;
  std::optional<scenario::PathClassifier> paths_;  // from BuildNodes on
  std::map<std::string, size_t> box_index_;
  std::map<std::string, size_t> node_index_;
  // Hashed: looked up for every path change of every node (a million at a
  // fully visible tailnet of 1,000), never iterated.
  std::unordered_map<punchlab::NodePublicKey, size_t> node_by_key_;
};

}  // namespace runsim
}  // namespace punchlab
