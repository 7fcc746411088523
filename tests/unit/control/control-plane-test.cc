// The coordination server and its clients in the virtual world (each node and
// the server a host, 10 ms apart; every stream byte captured):
// registration and identity, domain isolation, pushed updates, nodes leaving,
// hostile input, and what the wire reveals.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/control/access-rules.h"
#include "punchlab/control/client.h"
#include "punchlab/control/frame.h"
#include "punchlab/control/identity.h"
#include "punchlab/control/messages.h"
#include "punchlab/control/server.h"
#include "punchlab/crypto/box.h"
#include "support/raw-stream.h"
#include "support/virtual-world.h"

namespace punchlab::control {
namespace {

using testsupport::HostId;
using testsupport::LinkParams;
using testsupport::MachineId;
using testsupport::MachineSpec;
using testsupport::RawStream;
using testsupport::StreamLinkId;
using testsupport::VirtualWorld;

// Each access link is half of the 10 ms one-way delay between two hosts.
const LinkParams kHalfWay{Duration::Millis(5), 0.0};

const Endpoint kServerAddr = *Endpoint::Parse("203.0.113.1:443");
const Timestamp kFarFuture = Timestamp::Zero() + Duration::Seconds(24 * 3600);
constexpr char kDomainA[] = "a.example";
constexpr char kDomainB[] = "b.example";

Endpoint Ep(const char* text) { return *Endpoint::Parse(text); }

bool Contains(const Bytes& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// The payloads of the frames in a captured byte stream.
std::vector<Bytes> Frames(const Bytes& stream) {
  FrameDecoder d;
  d.Feed(stream);
  std::vector<Bytes> out;
  while (auto f = d.Next()) out.push_back(*f);
  return out;
}

struct TestNode {
  std::string name;
  std::string user;
  NodePrivateKey key;
  DiscoPrivateKey disco;
  Endpoint local;
  std::vector<Endpoint> endpoints;
  RegionId region = 1;
  std::unique_ptr<ControlClient> client;
  std::vector<ClientEvent> events;
  MachineId id = 0;  // in the world

  const Netmap& netmap() const { return *client->netmap(); }
  // Updates of any kind: whole netmaps and changes.
  int netmap_count() const {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [](const ClientEvent& e) {
      return std::holds_alternative<NetmapUpdated>(e) || std::holds_alternative<PeersChanged>(e);
    }));
  }
  template <typename T>
  std::vector<T> EventsOf() const {
    std::vector<T> out;
    for (const ClientEvent& e : events) {
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }
  // What a peer should see of this node.
  NodeInfo Expected(const IpAddress& address) const {
    return {key.Public(), disco.Public(), endpoints, region, address, user};
  }
  IpAddress address() const { return EventsOf<Registered>().back().address; }
};

class ControlPlaneTest : public ::testing::Test {
 protected:
  explicit ControlPlaneTest(Duration batch_delay = Duration::Zero(), AccessRules rules = {})
      : idp_a_(SigningKey::Generate(rng_)),
        idp_b_(SigningKey::Generate(rng_)),
        server_rng_(rng_.Fork("server")),
        server_(NodePrivateKey::Generate(rng_), Config(batch_delay, std::move(rules)),
                server_rng_) {
    net_.capture_streams = true;
    server_id_ = net_.Attach(HostAt(kServerAddr.ip),
                MachineSpec{"control", nullptr, &server_, {}, {kServerAddr}, [this](Timestamp) {
                              while (auto e = server_.PollEvent()) server_events_.push_back(*e);
                            }});
  }

  // The host holding `ip`, made on first use.
  HostId HostAt(const IpAddress& ip) {
    auto it = hosts_.find(ip);
    if (it == hosts_.end()) {
      it = hosts_.emplace(ip, net_.AddHost(ip.ToString(), VirtualWorld::kInternet, {ip}, kHalfWay))
               .first;
    }
    return it->second;
  }

  // A connection from `from` with no machine behind it (bytes go in with
  // InjectStream), to a server at `to`.
  StreamLinkId OpenRaw(const Endpoint& from, const Endpoint& to) {
    raws_.push_back(std::make_unique<RawStream>());
    RawStream& raw = *raws_.back();
    const MachineId id =
        net_.Attach(HostAt(from.ip), MachineSpec{"raw", nullptr, &raw, {}, {}, {}});
    net_.Do(id, [&](Timestamp) { raw.Connect(1, to); });
    return net_.StreamLinksFrom(id).back();
  }

  ControlServerConfig Config(Duration batch_delay, AccessRules rules) {
    ControlServerConfig c;
    c.batch_delay = batch_delay;
    c.access_rules = std::move(rules);
    c.trusted_issuers = {{idp_a_.verify_key(), {kDomainA}}, {idp_b_.verify_key(), {kDomainB}}};
    c.derp_map = derp_map_;
    c.key_log = [this](ByteView nonce, ByteView message) {
      server_key_log_.emplace(nonce.ToBytes(), message.ToBytes());
    };
    return c;
  }

  TestNode& AddNode(const std::string& name, const std::string& local,
                    ControlClientConfig config = {}) {
    if (config.server.port == 0) config.server = kServerAddr;
    if (config.server_key.IsZero()) config.server_key = server_.public_key();
    node_rngs_.push_back(std::make_unique<DeterministicRandom>(rng_.Fork("node/" + name)));
    DeterministicRandom& r = *node_rngs_.back();
    nodes_.push_back(std::make_unique<TestNode>(TestNode{
        name, name, NodePrivateKey::Generate(r), DiscoPrivateKey::Generate(r), Ep(local.c_str()),
        {Ep(local.c_str()), Ep(("198.51.100." + std::to_string(nodes_.size() + 10) + ":41641")
                                   .c_str())},
        1, std::make_unique<ControlClient>(config, r), {}}));
    TestNode& n = *nodes_.back();
    n.id = net_.Attach(HostAt(n.local.ip),
                       MachineSpec{name, nullptr, n.client.get(), {}, {}, [&n](Timestamp) {
                                     while (auto e = n.client->PollEvent()) n.events.push_back(*e);
                                   }});
    return n;
  }

  // Tokens are bound to the key of the node that may use them.
  std::string Token(const IdentityProvider& idp, const std::string& user,
                    const std::string& domain, const NodePublicKey& node_key,
                    Timestamp expires = kFarFuture) {
    return *idp.Issue({user, domain, node_key, expires});
  }

  void Register(TestNode& n, const std::string& token) {
    Registration r{token, n.disco.Public(), n.endpoints, n.region};
    net_.Do(n.id, [&](Timestamp now) { n.client->Register(now, n.key.Clone(), r); });
  }

  // The server's DERP map with a region 3 (sin) added, announced to every
  // session now; returns it.
  DerpMap AnnounceDerpMapWithRegion3() {
    DerpMap next = derp_map_;
    next.regions.push_back({3, "sin", {{"3a", Ep("203.0.113.30:443"), 3478}}});
    AnnounceDerpMap(next);
    return next;
  }
  void AnnounceDerpMap(const DerpMap& next) {
    net_.Do(server_id_, [&](Timestamp now) { server_.SetDerpMap(now, next); });
  }

  TestNode& Join(const std::string& name, const std::string& local, const char* domain) {
    TestNode& n = AddNode(name, local);
    Register(n, Token(domain == std::string(kDomainA) ? idp_a_ : idp_b_, name, domain,
                      n.key.Public()));
    return n;
  }

  template <typename T>
  std::vector<T> ServerEventsOf() const {
    std::vector<T> out;
    for (const ServerEvent& e : server_events_) {
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }

  DeterministicRandom rng_{42};
  DerpMap derp_map_{{{1, "fra", {{"1a", Ep("203.0.113.10:443"), 3478}}},
                     {2, "nyc", {{"2a", Ep("203.0.113.20:443"), 3478},
                                 {"2b", Ep("203.0.113.21:8443"), 3479}}}}};
  IdentityProvider idp_a_;
  IdentityProvider idp_b_;
  DeterministicRandom server_rng_;
  ControlServer server_;
  VirtualWorld net_;
  MachineId server_id_ = 0;
  std::map<IpAddress, HostId> hosts_;
  std::vector<std::unique_ptr<RawStream>> raws_;
  std::vector<ServerEvent> server_events_;
  std::map<Bytes, Bytes> server_key_log_;  // nonce -> message, of every frame the server sealed
  std::vector<std::unique_ptr<DeterministicRandom>> node_rngs_;
  std::deque<std::unique_ptr<TestNode>> nodes_;
};

TEST_F(ControlPlaneTest, NodesOfADomainSeeEachOtherAndNothingOfOtherDomains) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  bob.region = 2;
  net_.Do(bob.id, [&](Timestamp now) { bob.client->SetHomeRegion(now, 2); });
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));

  ASSERT_TRUE(alice.client->registered() && bob.client->registered() && carol.client->registered());
  EXPECT_EQ(alice.EventsOf<Registered>().back().domain, kDomainA);
  EXPECT_EQ(carol.EventsOf<Registered>().back().domain, kDomainB);
  EXPECT_EQ(carol.EventsOf<Registered>().back().user, "carol");
  const std::set<IpAddress> addresses = {alice.address(), bob.address(), carol.address()};
  EXPECT_EQ(addresses.size(), 3u);

  const Netmap& a = alice.netmap();
  EXPECT_EQ(a.domain, kDomainA);
  EXPECT_EQ(a.self, alice.Expected(alice.address()));
  ASSERT_EQ(a.peers.size(), 1u);
  EXPECT_EQ(a.peers[0], bob.Expected(bob.address()));
  EXPECT_EQ(a.peers[0].home_region, 2);
  EXPECT_EQ(a.derp_map, derp_map_);

  const Netmap& b = bob.netmap();
  ASSERT_EQ(b.peers.size(), 1u);
  EXPECT_EQ(b.peers[0], alice.Expected(alice.address()));
  EXPECT_EQ(b.derp_map, derp_map_);

  const Netmap& c = carol.netmap();
  EXPECT_EQ(c.domain, kDomainB);
  EXPECT_EQ(c.self, carol.Expected(carol.address()));
  EXPECT_TRUE(c.peers.empty());
  EXPECT_EQ(c.derp_map, derp_map_);

  // Not now and not at any point before either.
  for (const auto& u : alice.EventsOf<NetmapUpdated>()) {
    EXPECT_FALSE(u.netmap.FindPeer(carol.key.Public()));
  }
  for (const auto& u : carol.EventsOf<NetmapUpdated>()) {
    EXPECT_TRUE(u.netmap.peers.empty());
  }
  for (const auto& change : alice.EventsOf<PeersChanged>()) {
    for (const NodeInfo& n : change.changed) EXPECT_NE(n.node_key, carol.key.Public());
  }
  EXPECT_TRUE(carol.EventsOf<PeersChanged>().empty());
}

// A session's first update is the whole netmap; after that a change travels
// as the one entry that changed (or the key that left), so the cost of a
// change grows with the domain, not with its square.
TEST_F(ControlPlaneTest, ChangesTravelAsTheEntryThatChangedNotAWholeNetmap) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(alice.EventsOf<NetmapUpdated>().size(), 1u);
  ASSERT_EQ(bob.EventsOf<NetmapUpdated>().size(), 1u);
  // bob joined after alice: alice heard of him as a change.
  ASSERT_EQ(alice.EventsOf<PeersChanged>().size(), 1u);
  EXPECT_EQ(alice.EventsOf<PeersChanged>()[0].changed,
            std::vector<NodeInfo>{bob.Expected(bob.address())});

  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  for (TestNode* n : {&alice, &bob}) {
    const PeersChanged last = n->EventsOf<PeersChanged>().back();
    EXPECT_EQ(last.changed, std::vector<NodeInfo>{dave.Expected(dave.address())}) << n->user;
    EXPECT_TRUE(last.removed.empty());
    EXPECT_EQ(n->EventsOf<NetmapUpdated>().size(), 1u) << n->user;
  }
  EXPECT_EQ(dave.netmap().peers.size(), 2u);

  // bob leaves: the others hear his key, nothing else.
  net_.Do(bob.id, [&](Timestamp now) { bob.client->Leave(now); });
  net_.RunFor(Duration::Seconds(1));
  for (TestNode* n : {&alice, &dave}) {
    const PeersChanged last = n->EventsOf<PeersChanged>().back();
    EXPECT_TRUE(last.changed.empty());
    EXPECT_EQ(last.removed, std::vector<NodePublicKey>{bob.key.Public()}) << n->user;
    EXPECT_FALSE(n->netmap().FindPeer(bob.key.Public()));
  }
  // Peers stay ordered by key in the netmap the client keeps.
  ASSERT_EQ(alice.netmap().peers.size(), 1u);
  EXPECT_EQ(alice.netmap().peers[0].node_key, dave.key.Public());
  EXPECT_EQ(server_.stats().netmaps_sent, 3u);  // one per session
  EXPECT_GE(server_.stats().deltas_sent, 4u);
}

// An update of a registered node travels as a patch of the fields it
// changed (Tailscale's PeersChangedPatch), to a node that holds the entry
// and to the node itself; whoever registers later gets the whole entry as
// it is then. A client that keeps no peers reports the patch for its owner.
TEST_F(ControlPlaneTest, AnUpdateTravelsAsAPatchOfTheFieldsThatChanged) {
  ControlClientConfig lean;
  lean.keep_peers = false;
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = AddNode("bob", "192.0.2.11:41641", lean);
  Register(bob, Token(idp_a_, "bob", kDomainA, bob.key.Public()));
  net_.RunFor(Duration::Seconds(1));
  const uint64_t deltas = server_.stats().deltas_sent;

  alice.endpoints = {Ep("203.0.113.77:6000"), Ep("192.0.2.10:41641")};
  net_.Do(alice.id, [&](Timestamp now) { alice.client->UpdateEndpoints(now, alice.endpoints); });
  net_.RunFor(Duration::Millis(50));
  const PeersChanged heard = bob.EventsOf<PeersChanged>().back();
  EXPECT_TRUE(heard.changed.empty());
  EXPECT_EQ(heard.patched, (std::vector<PeerPatch>{PeerPatch{alice.key.Public(), alice.endpoints,
                                                            std::nullopt, std::nullopt}}));
  EXPECT_EQ(alice.netmap().self, alice.Expected(alice.address()));  // her own, patched
  EXPECT_EQ(server_.stats().deltas_sent, deltas + 2);

  bob.region = 2;
  net_.Do(bob.id, [&](Timestamp now) { bob.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Millis(50));
  EXPECT_EQ(alice.EventsOf<PeersChanged>().back().patched,
            (std::vector<PeerPatch>{PeerPatch{bob.key.Public(), std::nullopt, std::nullopt, 2}}));
  EXPECT_EQ(*alice.netmap().FindPeer(bob.key.Public()), bob.Expected(bob.address()));
  EXPECT_EQ(bob.netmap().self, bob.Expected(bob.address()));

  // A newcomer gets both as they are now, whole; the others hear it whole.
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(*dave.netmap().FindPeer(alice.key.Public()), alice.Expected(alice.address()));
  EXPECT_EQ(*dave.netmap().FindPeer(bob.key.Public()), bob.Expected(bob.address()));
  EXPECT_EQ(alice.EventsOf<PeersChanged>().back().changed,
            std::vector<NodeInfo>{dave.Expected(dave.address())});
  EXPECT_TRUE(alice.EventsOf<PeersChanged>().back().patched.empty());
  EXPECT_EQ(alice.client->stats().unknown_patches, 0u);
}

// An owner that keeps the peers itself (the Node) asks the client not to:
// the same events (every entry, every key that left), and a netmap() with
// self, domain and DERP map but no peer copies.
TEST_F(ControlPlaneTest, AClientThatKeepsNoPeersReportsTheSameChanges) {
  ControlClientConfig lean;
  lean.keep_peers = false;
  TestNode& alice = AddNode("alice", "192.0.2.10:41641", lean);
  Register(alice, Token(idp_a_, "alice", kDomainA, alice.key.Public()));
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));

  ASSERT_TRUE(alice.client->registered());
  const Netmap& kept = alice.netmap();
  EXPECT_EQ(kept.self, alice.Expected(alice.address()));
  EXPECT_EQ(kept.domain, kDomainA);
  EXPECT_EQ(kept.derp_map, derp_map_);
  EXPECT_TRUE(kept.peers.empty());
  // What alice heard, whole netmaps and changes together: bob and dave.
  std::map<NodePublicKey, NodeInfo> heard;
  for (const ClientEvent& e : alice.events) {
    if (auto* m = std::get_if<NetmapUpdated>(&e)) {
      for (const NodeInfo& p : m->netmap.peers) heard[p.node_key] = p;
    } else if (auto* c = std::get_if<PeersChanged>(&e)) {
      for (const NodeInfo& p : c->changed) heard[p.node_key] = p;
    }
  }
  EXPECT_EQ(heard, (std::map<NodePublicKey, NodeInfo>{
                       {bob.key.Public(), bob.Expected(bob.address())},
                       {dave.key.Public(), dave.Expected(dave.address())}}));
  // And the keys that left, as the server named them.
  net_.Do(bob.id, [&](Timestamp now) { bob.client->Leave(now); });
  net_.RunFor(Duration::Seconds(1));
  const PeersChanged last = alice.EventsOf<PeersChanged>().back();
  EXPECT_TRUE(last.changed.empty());
  EXPECT_EQ(last.removed, std::vector<NodePublicKey>{bob.key.Public()});
  EXPECT_TRUE(alice.netmap().peers.empty());
}

TEST_F(ControlPlaneTest, ProviderOfDomainBCannotRegisterANodeIntoDomainA) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& mallory = AddNode("mallory", "192.0.2.66:41641");
  Register(mallory, Token(idp_b_, "mallory", kDomainA, mallory.key.Public()));
  net_.RunFor(Duration::Seconds(300));

  ASSERT_EQ(mallory.EventsOf<RegistrationRefused>().size(), 1u);
  const std::string reason = mallory.EventsOf<RegistrationRefused>()[0].reason;
  EXPECT_NE(reason.find("not signed by an identity provider trusted for domain \"a.example\""),
            std::string::npos)
      << reason;
  EXPECT_FALSE(mallory.client->registered());
  EXPECT_EQ(mallory.client->stats().connects, 1u);  // a refusal is final: no retry loop
  EXPECT_TRUE(alice.netmap().peers.empty());
  EXPECT_EQ(server_.node_count(), 1u);
  EXPECT_EQ(server_.stats().refused, 1u);
  ASSERT_EQ(ServerEventsOf<NodeRefused>().size(), 1u);
  EXPECT_EQ(ServerEventsOf<NodeRefused>()[0].reason, reason);
}

TEST_F(ControlPlaneTest, StrangerCannotTellAnUnknownDomainFromAnUntrustedSignature) {
  // Same user, same self-made provider: one token names a domain the server
  // serves, one a domain it does not. The refusals must not differ beyond
  // repeating the claims the stranger wrote.
  const IdentityProvider stranger(SigningKey::Generate(rng_));
  std::vector<std::string> reasons;
  for (const char* domain : {kDomainA, "unknown.example"}) {
    TestNode& eve = AddNode("eve" + std::to_string(nodes_.size()), "192.0.2.66:41641");
    Register(eve, Token(stranger, "eve", domain, eve.key.Public()));
    net_.RunFor(Duration::Seconds(1));
    ASSERT_EQ(eve.EventsOf<RegistrationRefused>().size(), 1u);
    std::string reason = eve.EventsOf<RegistrationRefused>()[0].reason;
    for (size_t at; (at = reason.find(domain)) != std::string::npos;) {
      reason.replace(at, std::string(domain).size(), "DOMAIN");
    }
    reasons.push_back(reason);
  }
  EXPECT_EQ(reasons[0], reasons[1]);
  EXPECT_EQ(reasons[0],
            "identity token for eve@DOMAIN is not signed by an identity provider trusted for "
            "domain \"DOMAIN\"");
  EXPECT_EQ(server_.node_count(), 0u);
  EXPECT_EQ(server_.stats().refused, 2u);
}

TEST_F(ControlPlaneTest, TokenCopiedFromAnotherNodeIsRefused) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  // mallory got hold of alice's token (Ed25519 signing is deterministic:
  // this is the very token alice registered with) but not alice's key.
  TestNode& mallory = AddNode("mallory", "192.0.2.66:41641");
  Register(mallory, Token(idp_a_, "alice", kDomainA, alice.key.Public()));
  net_.RunFor(Duration::Seconds(300));

  ASSERT_EQ(mallory.EventsOf<RegistrationRefused>().size(), 1u);
  const std::string reason = mallory.EventsOf<RegistrationRefused>()[0].reason;
  EXPECT_NE(reason.find("token was issued for " + alice.key.Public().ToString() +
                        ", not for this node (" + mallory.key.Public().ToString()),
            std::string::npos)
      << reason;
  EXPECT_FALSE(mallory.client->registered());
  EXPECT_EQ(mallory.client->stats().connects, 1u);  // final, no retry loop
  EXPECT_TRUE(alice.client->registered());
  EXPECT_TRUE(alice.netmap().peers.empty());
  EXPECT_EQ(server_.node_count(), 1u);
  EXPECT_EQ(server_.stats().refused, 1u);
}

TEST_F(ControlPlaneTest, ExpiredTokenIsRefusedWithAClearMessage) {
  TestNode& late = AddNode("late", "192.0.2.10:41641");
  const std::string token =
      Token(idp_a_, "late", kDomainA, late.key.Public(), Timestamp::Zero() + Duration::Seconds(10));
  net_.RunFor(Duration::Seconds(11));
  Register(late, token);
  net_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(late.EventsOf<RegistrationRefused>().size(), 1u);
  const std::string reason = late.EventsOf<RegistrationRefused>()[0].reason;
  EXPECT_NE(reason.find("identity token for late@a.example expired at 10s"), std::string::npos)
      << reason;
  EXPECT_EQ(late.netmap_count(), 0);
}

TEST_F(ControlPlaneTest, TamperedOrGarbledTokenIsRefused) {
  // The signature check comes first, so whose key the tokens name is moot.
  const NodePublicKey someone = NodePrivateKey::Generate(rng_).Public();
  const std::string token = Token(idp_a_, "eve", kDomainA, someone);
  // Re-sign nothing: swap in claims for another user under eve's signature.
  const size_t dot = token.find('.', 9);
  const std::string other = Token(idp_a_, "root", kDomainA, someone);
  const std::string spliced = other.substr(0, other.find('.', 9)) + token.substr(dot);
  std::string flipped = token;
  flipped[dot - 3] = flipped[dot - 3] == 'a' ? 'b' : 'a';

  struct Case {
    std::string token;
    std::string says;
  };
  for (const Case& c : {Case{spliced, "is not signed by"}, Case{flipped, "identity token"},
                        Case{"letmein", "malformed identity token"}}) {
    TestNode& n = AddNode("eve" + std::to_string(nodes_.size()), "192.0.2.13:41641");
    Register(n, c.token);
    net_.RunFor(Duration::Seconds(1));
    ASSERT_EQ(n.EventsOf<RegistrationRefused>().size(), 1u) << c.token;
    EXPECT_NE(n.EventsOf<RegistrationRefused>()[0].reason.find(c.says), std::string::npos)
        << n.EventsOf<RegistrationRefused>()[0].reason;
  }
  EXPECT_EQ(server_.node_count(), 0u);
}

TEST_F(ControlPlaneTest, ChangesArePushedPromptlyToSameDomainPeersOnly) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));
  const int carol_before = carol.netmap_count();

  // Endpoints. One hop to the server and one back: 20 ms.
  alice.endpoints = {Ep("203.0.113.77:6000")};
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateEndpoints(now, alice.endpoints); });
  net_.RunFor(Duration::Millis(20));
  EXPECT_EQ(bob.netmap().FindPeer(alice.key.Public())->endpoints, alice.endpoints);
  EXPECT_EQ(alice.netmap().self.endpoints, alice.endpoints);

  // Disco key (a restart of magicsock draws a new one).
  DeterministicRandom r(99);
  alice.disco = DiscoPrivateKey::Generate(r);
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateDiscoKey(now, alice.disco.Public()); });
  net_.RunFor(Duration::Millis(20));
  EXPECT_EQ(bob.netmap().FindPeer(alice.key.Public())->disco_key, alice.disco.Public());

  // Home region.
  alice.region = 2;
  net_.Do(alice.id, [&](Timestamp now) { alice.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Millis(20));
  EXPECT_EQ(*bob.netmap().FindPeer(alice.key.Public()), alice.Expected(alice.address()));

  EXPECT_EQ(carol.netmap_count(), carol_before);
  EXPECT_TRUE(carol.netmap().peers.empty());

  // And the other way: carol's changes reach nobody in domain A.
  const int alice_before = alice.netmap_count();
  const int bob_before = bob.netmap_count();
  net_.Do(carol.id,
          [&](Timestamp now) { carol.client->UpdateEndpoints(now, {Ep("192.0.2.99:1")}); });
  net_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(carol.netmap().self.endpoints, std::vector<Endpoint>{Ep("192.0.2.99:1")});
  EXPECT_EQ(alice.netmap_count(), alice_before);
  EXPECT_EQ(bob.netmap_count(), bob_before);

  // A command that changes nothing sends nothing.
  const int before = bob.netmap_count();
  net_.Do(alice.id, [&](Timestamp now) { alice.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(bob.netmap_count(), before);
}

TEST_F(ControlPlaneTest, LeavingNodeDisappearsFromPeers) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.14:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(alice.netmap().peers.size(), 2u);

  net_.Do(bob.id, [&](Timestamp now) { bob.client->Leave(now); });
  net_.RunFor(Duration::Millis(20));
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_FALSE(dave.netmap().FindPeer(bob.key.Public()));
  EXPECT_TRUE(alice.netmap().FindPeer(dave.key.Public()));
  ASSERT_EQ(ServerEventsOf<NodeRemoved>().size(), 1u);
  EXPECT_EQ(ServerEventsOf<NodeRemoved>()[0].reason, "node left");
  ASSERT_FALSE(bob.EventsOf<Disconnected>().empty());
  EXPECT_FALSE(bob.EventsOf<Disconnected>().back().will_reconnect);
  net_.RunFor(Duration::Seconds(120));
  EXPECT_FALSE(bob.client->registered());  // left for good
  EXPECT_EQ(server_.node_count(), 2u);
}

TEST_F(ControlPlaneTest, ClosedConnectionRemovesTheNodeUntilItReconnects) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const IpAddress bob_address = bob.address();

  net_.CutStream(net_.StreamLinksFrom(bob.id).back());
  net_.RunFor(Duration::Millis(10));  // the server notices at once; alice hears 10 ms later
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
  ASSERT_EQ(bob.EventsOf<Disconnected>().size(), 1u);
  EXPECT_TRUE(bob.EventsOf<Disconnected>()[0].will_reconnect);

  // Backoff starts at 1 s (jittered to 0.5..1 s).
  net_.RunFor(Duration::Millis(1100));
  EXPECT_TRUE(bob.client->registered());
  EXPECT_EQ(bob.address(), bob_address);  // same key, same overlay address
  ASSERT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(*alice.netmap().FindPeer(bob.key.Public()), bob.Expected(bob_address));
}

TEST_F(ControlPlaneTest, SilentNodeIsDroppedAfterTheIdleTimeout) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  ControlClientConfig patient;
  patient.server_silence_timeout = Duration::Seconds(90);
  TestNode& bob = AddNode("bob", "192.0.2.11:41641", patient);
  Register(bob, Token(idp_a_, "bob", kDomainA, bob.key.Public()));
  net_.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(alice.netmap().FindPeer(bob.key.Public()));

  // Keepalives keep an idle but healthy session up.
  net_.RunFor(Duration::Seconds(300));
  ASSERT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(server_.stats().idle_timeouts, 0u);

  // bob's last ping reached the server at 300.05 s; the server gives up 60 s
  // after that.
  net_.BlackholeStream(net_.StreamLinksFrom(bob.id).back());
  net_.RunFor(Duration::Seconds(58));
  EXPECT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
  net_.RunFor(Duration::Seconds(3));
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(server_.stats().idle_timeouts, 1u);

  // bob notices the silence too, reconnects and is back.
  net_.RunFor(Duration::Seconds(40));
  EXPECT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
}

TEST_F(ControlPlaneTest, SameKeyRegisteringAgainReplacesTheOldSession) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const IpAddress bob_address = bob.address();

  // The same node key from another machine (bob moved to a new laptop).
  TestNode& bob2 = AddNode("bob2", "192.0.2.21:41641");
  bob2.key = bob.key.Clone();
  bob2.user = "bob";
  Register(bob2, Token(idp_a_, "bob", kDomainA, bob2.key.Public()));
  net_.RunFor(Duration::Seconds(1));

  EXPECT_TRUE(bob2.client->registered());
  EXPECT_EQ(bob2.address(), bob_address);
  ASSERT_FALSE(bob.EventsOf<Disconnected>().empty());
  EXPECT_FALSE(bob.EventsOf<Disconnected>().back().will_reconnect);
  EXPECT_NE(bob.EventsOf<Disconnected>().back().reason.find("registered again"),
            std::string::npos);
  ASSERT_EQ(alice.netmap().peers.size(), 1u);
  EXPECT_EQ(alice.netmap().peers[0], bob2.Expected(bob_address));
  EXPECT_TRUE(ServerEventsOf<NodeRemoved>().empty());
  EXPECT_EQ(server_.node_count(), 2u);
  net_.RunFor(Duration::Seconds(120));
  EXPECT_FALSE(bob.client->registered());  // no tug of war
  EXPECT_TRUE(bob2.client->registered());
}

TEST_F(ControlPlaneTest, HostileBytesCloseOnlyTheirOwnConnection) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const auto alice_link = net_.StreamLinksFrom(alice.id).back();

  const Endpoint attacker = Ep("192.0.2.66:5000");
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  const auto garbage = OpenRaw(attacker, kServerAddr);
  const auto not_json = OpenRaw(attacker, kServerAddr);
  const auto oversized = OpenRaw(attacker, kServerAddr);
  const auto undecryptable = OpenRaw(attacker, kServerAddr);
  const auto impostor = OpenRaw(attacker, kServerAddr);
  const auto replay = OpenRaw(attacker, kServerAddr);
  net_.RunFor(Duration::Millis(20));

  net_.InjectStream(garbage, Bytes(http.begin(), http.end()));
  net_.InjectStream(not_json, EncodeFrame(Bytes(http.begin(), http.end())));
  net_.InjectStream(oversized, Bytes{0x00, 0x01, 0x00, 0x01, 'x'});  // 64 KiB + 1
  // A fresh key's hello, then a frame that is not sealed to the server.
  DeterministicRandom r(5);
  const NodePrivateKey stranger = NodePrivateKey::Generate(r);
  const Bytes hello = EncodeMessage(HelloMsg{kProtocolVersion, stranger.Public()}, 0);
  net_.InjectStream(undecryptable, EncodeFrame(hello));
  net_.InjectStream(undecryptable, EncodeFrame(Bytes(100, 0xab)));
  // Alice's key without alice's private key.
  net_.InjectStream(impostor,
                EncodeFrame(EncodeMessage(HelloMsg{kProtocolVersion, alice.key.Public()}, 0)));
  net_.InjectStream(impostor, EncodeFrame(Bytes(64, 0x11)));
  // Alice's whole recorded session, replayed: the challenge differs.
  net_.InjectStream(replay, net_.StreamBytesToServer(alice_link));
  net_.RunFor(Duration::Seconds(1));

  for (auto link : {garbage, not_json, oversized, undecryptable, impostor, replay}) {
    EXPECT_FALSE(net_.StreamOpenAtServer(link)) << link;
  }
  EXPECT_EQ(server_.stats().oversized, 2u);  // "GET " read as a length is 1.2 GB
  EXPECT_EQ(server_.stats().malformed, 1u);
  EXPECT_EQ(server_.stats().undecryptable, 2u);
  EXPECT_EQ(server_.stats().refused, 1u);
  std::vector<std::string> reasons;
  for (const auto& e : ServerEventsOf<ConnectionClosed>()) reasons.push_back(e.reason);
  EXPECT_EQ(reasons.size(), 6u);
  EXPECT_NE(std::find_if(reasons.begin(), reasons.end(),
                         [](const std::string& s) { return s.find("a replay") != s.npos; }),
            reasons.end());

  // Everyone else carries on.
  EXPECT_TRUE(net_.StreamOpenAtServer(alice_link));
  EXPECT_TRUE(alice.client->registered() && bob.client->registered());
  EXPECT_EQ(server_.node_count(), 2u);
  alice.endpoints = {Ep("203.0.113.5:7000")};
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateEndpoints(now, alice.endpoints); });
  net_.RunFor(Duration::Millis(20));
  EXPECT_EQ(bob.netmap().FindPeer(alice.key.Public())->endpoints, alice.endpoints);
}

TEST_F(ControlPlaneTest, RandomAndMutatedInputNeverHurtsTheServer) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const Bytes session = net_.StreamBytesToServer(net_.StreamLinksFrom(alice.id).back());
  DeterministicRandom r(11);
  std::vector<StreamLinkId> links;
  for (int i = 0; i < 300; ++i) {
    const auto link = OpenRaw(Ep("192.0.2.66:5000"), kServerAddr);
    links.push_back(link);
    net_.RunFor(Duration::Millis(10));
    Bytes input;
    if (i % 2 == 0) {
      input.resize(r.Uniform(200));
      r.Fill(input.data(), input.size());
    } else {
      // Alice's real session with one byte changed: a valid start, then a lie.
      input = session;
      input[r.Uniform(static_cast<uint32_t>(input.size()))] ^=
          static_cast<uint8_t>(1 + r.Uniform(255));
    }
    net_.InjectStream(link, input);
  }
  net_.RunFor(Duration::Seconds(11));  // past the handshake timeout
  for (auto link : links) EXPECT_FALSE(net_.StreamOpenAtServer(link)) << link;
  EXPECT_EQ(server_.stats().registrations, 2u);
  EXPECT_EQ(server_.node_count(), 2u);
  ASSERT_EQ(bob.netmap().peers.size(), 1u);
  EXPECT_EQ(bob.netmap().peers[0], alice.Expected(alice.address()));
}

TEST_F(ControlPlaneTest, ReplayedFrameInsideASessionIsCaughtBySequence) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const auto link = net_.StreamLinksFrom(alice.id).back();
  const std::vector<Bytes> sent = Frames(net_.StreamBytesToServer(link));
  ASSERT_GE(sent.size(), 2u);  // hello, register
  net_.InjectStream(link, EncodeFrame(sent[1]));
  net_.RunFor(Duration::Millis(20));
  EXPECT_EQ(server_.stats().out_of_order, 1u);
  EXPECT_FALSE(net_.StreamOpenAtServer(link));
  // alice sees the close, reconnects, and is back on a new connection.
  net_.RunFor(Duration::Seconds(2));
  EXPECT_TRUE(alice.client->registered());
  EXPECT_EQ(server_.node_count(), 2u);
}

TEST_F(ControlPlaneTest, NothingAfterTheHelloIsPlaintext) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateEndpoints(now, {Ep("203.0.113.9:9999")}); });
  net_.RunFor(Duration::Seconds(60));  // some pings and pongs too

  const auto link = net_.StreamLinksFrom(alice.id).back();
  const Bytes& up = net_.StreamBytesToServer(link);
  const Bytes& down = net_.StreamBytesToClient(link);
  const std::vector<Bytes> frames = Frames(up);
  ASSERT_GE(frames.size(), 4u);
  // The hello is plaintext and names alice's key: that is all it says.
  const std::string alice_key = alice.key.Public().ToString();
  EXPECT_TRUE(Contains(frames[0], alice_key));
  const Bytes after_hello(up.begin() + static_cast<long>(4 + frames[0].size()), up.end());
  const std::string alice_hex = alice_key.substr(8);
  const std::string bob_hex = bob.key.Public().ToString().substr(8);
  for (const std::string& secret :
       {std::string("nodekey"), std::string("discokey"), alice_hex, std::string("endpoints"),
        std::string("pltoken1"), std::string("register"), std::string("203.0.113.9"),
        std::string("192.0.2.10"), std::string("seq")}) {
    EXPECT_FALSE(Contains(after_hello, secret)) << secret;
  }
  for (const std::string& secret :
       {std::string("nodekey"), alice_hex, bob_hex, std::string("100.64"),
        std::string("netmap"), std::string("endpoints"),
        std::string("fra"), std::string("203.0.113.10"), std::string("alice")}) {
    EXPECT_FALSE(Contains(down, secret)) << secret;
  }
  // Every frame after the hello is nonce || box: at least 24 + 16 bytes.
  for (size_t i = 1; i < frames.size(); ++i) EXPECT_GE(frames[i].size(), 40u);
  for (const Bytes& f : Frames(down)) EXPECT_GE(f.size(), 40u);
}

// The key log (key-log.h) names every sealed frame on the wire: its nonce is
// the frame's first 24 bytes and its message the one the session sent next.
TEST_F(ControlPlaneTest, TheKeyLogNamesEverySealedFrameWithItsMessage) {
  std::vector<std::pair<Bytes, Bytes>> alice_log;
  ControlClientConfig config;
  config.key_log = [&](ByteView nonce, ByteView message) {
    alice_log.emplace_back(nonce.ToBytes(), message.ToBytes());
  };
  TestNode& alice = AddNode("alice", "192.0.2.10:41641", config);
  Register(alice, Token(idp_a_, "alice", kDomainA, alice.key.Public()));
  Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateEndpoints(now, {Ep("203.0.113.9:9999")}); });
  net_.RunFor(Duration::Seconds(45));  // pings and pongs too

  const auto link = net_.StreamLinksFrom(alice.id).back();
  std::string error;
  // Alice's frames after the hello (seq 0, plaintext) are her log, in order
  // (the last may still be on its way).
  const std::vector<Bytes> up = Frames(net_.StreamBytesToServer(link));
  ASSERT_GE(up.size(), 4u);
  ASSERT_TRUE(alice_log.size() == up.size() - 1 || alice_log.size() == up.size());
  for (size_t i = 1; i < up.size(); ++i) {
    EXPECT_EQ(ByteView(up[i]).sub(0, kBoxNonceSize), ByteView(alice_log[i - 1].first));
    auto m = DecodeMessage(alice_log[i - 1].second, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->seq, i);
  }
  EXPECT_EQ(MessageTypeName(DecodeMessage(alice_log[0].second, error)->msg), std::string("register"));
  // The server's frames to alice: each one in its log, numbered from 0.
  const std::vector<Bytes> down = Frames(net_.StreamBytesToClient(link));
  ASSERT_GE(down.size(), 4u);
  std::vector<std::string> types;
  for (size_t i = 0; i < down.size(); ++i) {
    auto it = server_key_log_.find(Bytes(down[i].begin(), down[i].begin() + kBoxNonceSize));
    ASSERT_NE(it, server_key_log_.end()) << "frame " << i;
    auto m = DecodeMessage(it->second, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->seq, i);
    types.push_back(MessageTypeName(m->msg));
  }
  EXPECT_EQ(std::vector<std::string>(types.begin(), types.begin() + 3),
            (std::vector<std::string>{"challenge", "registered", "netmap"}));
}

// A session whose register asked for zstd (the default, as Tailscale's
// clients) gets every answer to it compressed, one zstd frame per message
// inside the box; one that did not gets plain JSON. Both see the same peers,
// and the key log names each frame with its JSON either way.
TEST_F(ControlPlaneTest, SessionsThatAskGetCompressedMessagesOthersPlainOnes) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  ControlClientConfig plain;
  plain.compress = false;
  TestNode& bob = AddNode("bob", "192.0.2.11:41641", plain);
  Register(bob, Token(idp_a_, "bob", kDomainA, bob.key.Public()));
  net_.RunFor(Duration::Seconds(1));
  net_.Do(alice.id,
          [&](Timestamp now) { alice.client->UpdateEndpoints(now, {Ep("203.0.113.9:9999")}); });
  alice.endpoints = {Ep("203.0.113.9:9999")};
  net_.RunFor(Duration::Seconds(45));  // pings and pongs too
  EXPECT_EQ(alice.netmap().peers, std::vector<NodeInfo>{bob.Expected(bob.address())});
  EXPECT_EQ(bob.netmap().peers, std::vector<NodeInfo>{alice.Expected(alice.address())});

  for (TestNode* n : {&alice, &bob}) {
    const auto key = SharedKey::Compute(n->key, server_.public_key());
    const std::vector<Bytes> down =
        Frames(net_.StreamBytesToClient(net_.StreamLinksFrom(n->id).back()));
    ASSERT_GE(down.size(), 5u);  // challenge, registered, netmap, peers_changed, pong...
    for (size_t i = 0; i < down.size(); ++i) {
      const Bytes message =
          server_key_log_.at(Bytes(down[i].begin(), down[i].begin() + kBoxNonceSize));
      const Bytes sealed = *key->Open(down[i]);
      // Only the challenge, sent before the register, goes plain to alice.
      if (n == &bob || i == 0) {
        EXPECT_EQ(sealed, message) << n->name << " frame " << i;
        continue;
      }
      std::string error;
      bool too_large = false;
      EXPECT_EQ(ZstdDecompress(sealed, kMaxFrameSize, error, too_large), message)
          << n->name << " frame " << i << ": " << error;
    }
  }
  EXPECT_EQ(alice.client->stats().malformed + bob.client->stats().malformed, 0u);
}

TEST_F(ControlPlaneTest, ConnectionThatNeverRegistersIsClosed) {
  const auto idle = OpenRaw(Ep("192.0.2.66:5000"), kServerAddr);
  net_.RunFor(Duration::Seconds(9));
  EXPECT_TRUE(net_.StreamOpenAtServer(idle));
  net_.RunFor(Duration::Seconds(2));
  EXPECT_FALSE(net_.StreamOpenAtServer(idle));
  EXPECT_EQ(server_.stats().handshake_timeouts, 1u);
}

TEST_F(ControlPlaneTest, UnreachableServerIsRetriedWithGrowingBackoff) {
  // Pointed at an address nobody listens on: every connect is refused.
  ControlClientConfig wrong;
  wrong.server = Ep("203.0.113.250:443");
  TestNode& lost = AddNode("lost", "192.0.2.10:41641", wrong);
  Register(lost, Token(idp_a_, "lost", kDomainA, lost.key.Public()));
  net_.RunFor(Duration::Seconds(120));
  // Waits of 0.5-1, 1-2, 2-4, 4-8, 8-16, 15-30 s, then 15-30 s again: 8 to 12
  // connects in 2 minutes, where a fixed 1 s retry would make 120.
  EXPECT_GE(lost.client->stats().connects, 8u);
  EXPECT_LE(lost.client->stats().connects, 12u);
  EXPECT_FALSE(lost.client->registered());
  for (const auto& d : lost.EventsOf<Disconnected>()) EXPECT_TRUE(d.will_reconnect);
}

TEST_F(ControlPlaneTest, ClientGivesUpOnATokenTooLargeToSend) {
  TestNode& n = AddNode("big", "192.0.2.10:41641");
  Register(n, std::string(kMaxNodeFrameSize, 'x'));
  net_.RunFor(Duration::Seconds(60));
  ASSERT_EQ(n.EventsOf<Disconnected>().size(), 1u);
  EXPECT_FALSE(n.EventsOf<Disconnected>()[0].will_reconnect);
  EXPECT_NE(n.EventsOf<Disconnected>()[0].reason.find("too large"), std::string::npos);
  EXPECT_EQ(n.client->stats().connects, 1u);
  EXPECT_EQ(server_.stats().oversized, 0u);
}

TEST_F(ControlPlaneTest, NewDerpMapReachesEveryNode) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));
  const DerpMap next = AnnounceDerpMapWithRegion3();
  net_.RunFor(Duration::Millis(10));
  EXPECT_EQ(alice.netmap().derp_map, next);
  EXPECT_EQ(carol.netmap().derp_map, next);
  ASSERT_TRUE(alice.netmap().derp_map.FindRegion(3));
  EXPECT_EQ(alice.netmap().derp_map.FindRegion(3)->nodes[0].StunEndpoint(),
            Ep("203.0.113.30:3478"));
}

// A server with a batch delay (headscale's batch_change_delay, a busy
// Tailscale map session): a domain's changes gather for that long and go out
// as one update per member.
class BatchedControlPlaneTest : public ControlPlaneTest {
 protected:
  static constexpr Duration kDelay = Duration::Millis(500);
  BatchedControlPlaneTest() : ControlPlaneTest(kDelay) {}
};

TEST_F(BatchedControlPlaneTest, ChangesWithinTheDelayGoOutAsOneUpdatePerNode) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  // Her own registration is in the netmap she got at once: nothing else.
  ASSERT_EQ(alice.EventsOf<NetmapUpdated>().size(), 1u);
  EXPECT_TRUE(alice.EventsOf<PeersChanged>().empty());

  // Three nodes join within a few milliseconds; each gets its netmap at
  // once (alice and whoever registered before it).
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  // When the server registers the first of them, and when alice hears:
  // stepping a millisecond at a time.
  auto run_until = [&](const std::function<bool()>& done) {
    for (int ms = 0; ms < 2000 && !done(); ++ms) net_.RunFor(Duration::Millis(1));
    return net_.now();
  };
  const Timestamp first_registered =
      run_until([&] { return server_.stats().registrations >= 2; });
  const Timestamp all_registered =
      run_until([&] { return server_.stats().registrations >= 4; });
  EXPECT_LT(all_registered, first_registered + kDelay);
  net_.RunFor(Duration::Millis(15));  // one hop back
  for (TestNode* n : {&bob, &carol, &dave}) {
    EXPECT_EQ(n->EventsOf<NetmapUpdated>().size(), 1u) << n->user;  // at once
  }
  EXPECT_TRUE(alice.EventsOf<PeersChanged>().empty());
  const Timestamp alice_heard = run_until([&] { return !alice.EventsOf<PeersChanged>().empty(); });
  // One update with all three, sent the delay after the first change (and
  // one 10 ms hop later at alice).
  EXPECT_GE(alice_heard, first_registered + kDelay);
  EXPECT_LE(alice_heard, first_registered + kDelay + Duration::Millis(20));
  net_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(alice.EventsOf<PeersChanged>().size(), 1u);
  std::map<NodePublicKey, NodeInfo> heard;
  const PeersChanged update = alice.EventsOf<PeersChanged>()[0];
  for (const NodeInfo& p : update.changed) heard[p.node_key] = p;
  EXPECT_EQ(heard, (std::map<NodePublicKey, NodeInfo>{
                       {bob.key.Public(), bob.Expected(bob.address())},
                       {carol.key.Public(), carol.Expected(carol.address())},
                       {dave.key.Public(), dave.Expected(dave.address())}}));
  EXPECT_EQ(server_.stats().netmaps_sent, 4u);
  // Each newcomer hears only of those that registered after its netmap was
  // made: dave (the last) of nobody, so no update at all.
  EXPECT_EQ(dave.EventsOf<PeersChanged>().size(), 0u);
  EXPECT_EQ(dave.netmap().peers.size(), 3u);
  for (TestNode* n : {&alice, &bob, &carol, &dave}) {
    EXPECT_EQ(n->netmap().peers.size(), 3u) << n->user;
  }
  ASSERT_EQ(bob.EventsOf<PeersChanged>().size(), 1u);
  std::set<NodePublicKey> bob_heard;
  const PeersChanged bob_update = bob.EventsOf<PeersChanged>()[0];
  for (const NodeInfo& p : bob_update.changed) bob_heard.insert(p.node_key);
  EXPECT_EQ(bob_heard, (std::set<NodePublicKey>{carol.key.Public(), dave.key.Public()}));

  // Two changes of one node within the delay: one patch of both fields, as
  // they are now (bob holds alice's entry; only what changed travels).
  const size_t bob_before = bob.EventsOf<PeersChanged>().size();
  alice.endpoints = {Ep("203.0.113.77:6000")};
  alice.region = 2;
  net_.Do(alice.id, [&](Timestamp now) { alice.client->UpdateEndpoints(now, alice.endpoints); });
  net_.RunFor(Duration::Millis(50));
  net_.Do(alice.id, [&](Timestamp now) { alice.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Millis(200));
  EXPECT_EQ(bob.EventsOf<PeersChanged>().size(), bob_before);  // still gathering
  net_.RunFor(Duration::Seconds(1));
  ASSERT_EQ(bob.EventsOf<PeersChanged>().size(), bob_before + 1);
  EXPECT_TRUE(bob.EventsOf<PeersChanged>().back().changed.empty());
  EXPECT_EQ(bob.EventsOf<PeersChanged>().back().patched,
            (std::vector<PeerPatch>{
                PeerPatch{alice.key.Public(), alice.endpoints, std::nullopt, 2}}));
  EXPECT_EQ(*bob.netmap().FindPeer(alice.key.Public()), alice.Expected(alice.address()));
  EXPECT_EQ(alice.netmap().self, alice.Expected(alice.address()));

  // A node that leaves and the one that joins within one batch: one update.
  const size_t carol_before = carol.EventsOf<PeersChanged>().size();
  net_.Do(bob.id, [&](Timestamp now) { bob.client->Leave(now); });
  TestNode& erin = Join("erin", "192.0.2.14:41641", kDomainA);
  net_.RunFor(Duration::Seconds(2));
  ASSERT_EQ(carol.EventsOf<PeersChanged>().size(), carol_before + 1);
  const PeersChanged last = carol.EventsOf<PeersChanged>().back();
  EXPECT_EQ(last.changed, std::vector<NodeInfo>{erin.Expected(erin.address())});
  EXPECT_EQ(last.removed, std::vector<NodePublicKey>{bob.key.Public()});
  EXPECT_FALSE(carol.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(server_.stats().netmaps_sent, 5u);  // one per session, at once
}

// A node that registers and then updates within one batch: whoever hears of
// it in that batch never held its entry, so it travels whole (as it is now),
// not as a patch of an entry the recipient lacks.
TEST_F(BatchedControlPlaneTest, ARegistrationAndAnUpdateInOneBatchTravelWhole) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Seconds(2));
  const size_t alice_before = alice.EventsOf<PeersChanged>().size();
  const size_t bob_before = bob.EventsOf<PeersChanged>().size();

  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  net_.RunFor(Duration::Millis(100));  // registered, the batch still gathering
  ASSERT_TRUE(carol.client->registered());
  carol.endpoints = {Ep("203.0.113.88:7000")};
  carol.region = 2;
  net_.Do(carol.id, [&](Timestamp now) { carol.client->UpdateEndpoints(now, carol.endpoints); });
  net_.Do(carol.id, [&](Timestamp now) { carol.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Seconds(1));
  for (TestNode* n : {&alice, &bob}) {
    const size_t before = n == &alice ? alice_before : bob_before;
    ASSERT_EQ(n->EventsOf<PeersChanged>().size(), before + 1) << n->user;
    const PeersChanged heard = n->EventsOf<PeersChanged>().back();
    EXPECT_EQ(heard.changed, std::vector<NodeInfo>{carol.Expected(carol.address())}) << n->user;
    EXPECT_TRUE(heard.patched.empty()) << n->user;
    EXPECT_EQ(*n->netmap().FindPeer(carol.key.Public()), carol.Expected(carol.address()));
    EXPECT_EQ(n->client->stats().unknown_patches, 0u) << n->user;
  }
}

// Domains batch apart: one domain's batch never carries or delays another's.
TEST_F(BatchedControlPlaneTest, EachDomainBatchesItsOwnChanges) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  net_.RunFor(Duration::Millis(250));
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainB);
  // alice's batch (bob) is due 500 ms after bob registered; carol's (dave)
  // 250 ms later.
  net_.RunFor(Duration::Millis(400));
  ASSERT_EQ(alice.EventsOf<PeersChanged>().size(), 1u);
  EXPECT_EQ(alice.EventsOf<PeersChanged>()[0].changed,
            std::vector<NodeInfo>{bob.Expected(bob.address())});
  EXPECT_TRUE(carol.EventsOf<PeersChanged>().empty());
  net_.RunFor(Duration::Millis(400));
  ASSERT_EQ(carol.EventsOf<PeersChanged>().size(), 1u);
  EXPECT_EQ(carol.EventsOf<PeersChanged>()[0].changed,
            std::vector<NodeInfo>{dave.Expected(dave.address())});
  EXPECT_EQ(alice.EventsOf<PeersChanged>().size(), 1u);
}

// A new DERP map is a whole netmap for every session, at once.
TEST_F(BatchedControlPlaneTest, NewDerpMapReachesEveryNodeAtOnce) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));
  DerpMap next = derp_map_;
  next.regions.pop_back();
  AnnounceDerpMap(next);
  net_.RunFor(Duration::Millis(30));
  for (TestNode* n : {&alice, &carol}) {
    EXPECT_EQ(n->EventsOf<NetmapUpdated>().size(), 2u) << n->user;
    EXPECT_EQ(n->netmap().derp_map, next) << n->user;
  }
}

TEST(ControlClient, GarbageFromTheServerIsCountedAndTriggersAReconnect) {
  DeterministicRandom r(12);
  const NodePrivateKey server_key = NodePrivateKey::Generate(r);
  ControlClientConfig config;
  config.server = kServerAddr;
  config.server_key = server_key.Public();
  ControlClient client(config, r);
  const Timestamp t0 = Timestamp::Zero();
  client.Register(t0, NodePrivateKey::Generate(r), Registration{"t", {}, {}, 0});
  auto connect = client.PollStreamAction();
  ASSERT_TRUE(connect && connect->kind == StreamAction::Kind::kConnect);
  EXPECT_EQ(connect->remote, kServerAddr);
  client.HandleConnected(t0, connect->conn, kServerAddr);
  auto hello = client.PollStreamAction();
  ASSERT_TRUE(hello && hello->kind == StreamAction::Kind::kWrite);

  client.HandleStream(t0, connect->conn, EncodeFrame(Bytes(50, 0x42)));
  EXPECT_EQ(client.stats().undecryptable, 1u);
  auto close = client.PollStreamAction();
  ASSERT_TRUE(close && close->kind == StreamAction::Kind::kClose);
  auto event = client.PollEvent();
  ASSERT_TRUE(event && std::holds_alternative<Disconnected>(*event));
  EXPECT_TRUE(std::get<Disconnected>(*event).will_reconnect);
  // Late bytes on the dead connection are ignored; the retry comes on time.
  client.HandleStream(t0, connect->conn, Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(client.stats().oversized, 0u);
  ASSERT_TRUE(client.PollTimeout());
  EXPECT_LE(*client.PollTimeout(), t0 + Duration::Seconds(1));
  client.HandleTimeout(*client.PollTimeout());
  auto again = client.PollStreamAction();
  ASSERT_TRUE(again && again->kind == StreamAction::Kind::kConnect);
  EXPECT_NE(again->conn, connect->conn);
  client.HandleConnected(t0, again->conn, kServerAddr);
  client.PollStreamAction();
  client.HandleStream(t0, again->conn, Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(client.stats().oversized, 1u);
}


// A patch for a peer the netmap does not hold (a server that lost track of
// what the session knows) is counted and dropped: no event, no peer made up.
// The test is the server: it holds the server's key and seals for the session.
TEST(ControlClient, APatchForAPeerNotHeldIsCountedAndDropped) {
  DeterministicRandom r(13);
  const NodePrivateKey server_key = NodePrivateKey::Generate(r);
  const NodePrivateKey node_key = NodePrivateKey::Generate(r);
  const NodePublicKey held = NodePrivateKey::Generate(r).Public();
  const NodePublicKey stranger = NodePrivateKey::Generate(r).Public();
  ControlClientConfig config;
  config.server = kServerAddr;
  config.server_key = server_key.Public();
  ControlClient client(config, r);
  const Timestamp t0 = Timestamp::Zero();
  client.Register(t0, node_key.Clone(), Registration{"t", {}, {}, 0});
  auto connect = client.PollStreamAction();
  ASSERT_TRUE(connect && connect->kind == StreamAction::Kind::kConnect);
  client.HandleConnected(t0, connect->conn, kServerAddr);
  const auto key = SharedKey::Compute(server_key, node_key.Public());
  ASSERT_TRUE(key);
  uint64_t seq = 0;
  ZstdCompressor zstd;
  auto send = [&](const Message& msg) {
    Bytes message = EncodeMessage(msg, seq++);
    // The register asked for compression: everything after the challenge.
    if (!std::holds_alternative<ChallengeMsg>(msg)) message = *zstd.Compress(message);
    client.HandleStream(t0, connect->conn, EncodeFrame(key->Seal(r, message)));
  };
  send(ChallengeMsg{});
  send(RegisteredMsg{IpAddress::V4(100, 64, 0, 1), "me", kDomainA});
  NetmapMsg nm;
  nm.netmap.domain = kDomainA;
  nm.netmap.self = {node_key.Public(), DiscoPrivateKey::Generate(r).Public(), {}, 1,
                    IpAddress::V4(100, 64, 0, 1), "me"};
  const NodeInfo peer{held, DiscoPrivateKey::Generate(r).Public(), {Ep("192.0.2.20:41641")}, 1,
                      IpAddress::V4(100, 64, 0, 2), "peer"};
  nm.netmap.peers = {peer};
  send(nm);
  ASSERT_TRUE(client.registered());
  while (client.PollEvent()) {
  }

  PeersChangedMsg change;
  change.patched = {PeerPatch{stranger, std::vector<Endpoint>{Ep("192.0.2.99:1")}, std::nullopt, 2}};
  send(change);
  EXPECT_EQ(client.stats().unknown_patches, 1u);
  EXPECT_EQ(client.stats().deltas, 1u);
  EXPECT_FALSE(client.PollEvent());
  EXPECT_TRUE(client.registered());  // counted, not a reason to reconnect
  EXPECT_EQ(client.netmap()->peers, std::vector<NodeInfo>{peer});
}

// ---- Access rules: peer visibility ----

TEST(DomainAccess, ASeesBIffARuleLetsAReachBOrBReachA) {
  const DomainAccess access(std::vector<AccessRule>{
      {{"alice"}, {"bob"}}, {{"*"}, {"dave"}}, {{"erin"}, {"*"}}});
  auto sees = [&](const std::string& user) {
    const DomainAccess::Sight s = access.Visible(user);
    return s.all ? std::vector<std::string>{"*"} : s.users;
  };
  EXPECT_EQ(sees("alice"), (std::vector<std::string>{"bob", "dave", "erin"}));
  EXPECT_EQ(sees("bob"), (std::vector<std::string>{"alice", "dave", "erin"}));
  EXPECT_EQ(sees("carol"), (std::vector<std::string>{"dave", "erin"}));
  EXPECT_EQ(sees("dave"), std::vector<std::string>{"*"});  // everyone may reach dave
  EXPECT_EQ(sees("erin"), std::vector<std::string>{"*"});  // erin may reach everyone
  // No rule, or an empty one: nobody.
  const DomainAccess none(std::vector<AccessRule>{});
  EXPECT_TRUE(none.Visible("alice").users.empty());
  EXPECT_FALSE(none.Visible("alice").all);
  const DomainAccess empty_rule(std::vector<AccessRule>{AccessRule{}});
  EXPECT_TRUE(empty_rule.Visible("alice").users.empty());
  EXPECT_FALSE(empty_rule.Visible("alice").all);
}

TEST(AccessRulesText, RoundTripsAndRefusesAnyOtherShape) {
  const AccessRules rules = {{"a.example", {{{"alice"}, {"bob", "*"}}}}, {"b.example", {}}};
  std::string error;
  EXPECT_EQ(ParseAccessRules(EncodeAccessRules(rules), error), rules) << error;
  for (const std::string bad : {
           "", "[]", R"({"a.example": {}})", R"({"a.example": [{"src": ["alice"]}]})",
           R"({"a.example": [{"src": ["alice"], "dst": ["bob"], "ports": []}]})",
           R"({"a.example": [{"src": [1], "dst": ["bob"]}]})",
           R"({"a.example": [{"src": ["no spaces"], "dst": ["bob"]}]})",
           R"({"A_Example": [{"src": ["alice"], "dst": ["bob"]}]})"}) {
    error.clear();
    EXPECT_FALSE(ParseAccessRules(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

// Domain A: alice may reach bob, everyone may reach dave. So alice and bob
// see each other and dave, carol sees only dave, dave sees everyone. Domain B
// has no rules: everyone there sees everyone.
class RulesControlPlaneTest : public ControlPlaneTest {
 protected:
  explicit RulesControlPlaneTest(Duration batch_delay = Duration::Zero())
      : ControlPlaneTest(batch_delay, {{kDomainA, {{{"alice"}, {"bob"}}, {{"*"}, {"dave"}}}}}) {}

  static std::set<NodePublicKey> Peers(const TestNode& n) {
    std::set<NodePublicKey> keys;
    for (const NodeInfo& p : n.netmap().peers) keys.insert(p.node_key);
    return keys;
  }
  // Every key this node was ever told about, in any netmap or change.
  static std::set<NodePublicKey> EverTold(const TestNode& n) {
    std::set<NodePublicKey> keys;
    for (const auto& u : n.EventsOf<NetmapUpdated>()) {
      for (const NodeInfo& p : u.netmap.peers) keys.insert(p.node_key);
    }
    for (const auto& c : n.EventsOf<PeersChanged>()) {
      for (const NodeInfo& p : c.changed) {
        if (p.node_key != n.key.Public()) keys.insert(p.node_key);
      }
      for (const PeerPatch& p : c.patched) keys.insert(p.node_key);
    }
    return keys;
  }
};

TEST_F(RulesControlPlaneTest, ANetmapListsOnlyThePeersTheRulesMakeVisible) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  TestNode& erin = Join("erin", "192.0.2.14:41641", kDomainB);
  TestNode& frank = Join("frank", "192.0.2.15:41641", kDomainB);
  net_.RunFor(Duration::Seconds(1));
  const NodePublicKey a = alice.key.Public(), b = bob.key.Public(), c = carol.key.Public(),
                      d = dave.key.Public(), e = erin.key.Public(), f = frank.key.Public();
  EXPECT_EQ(Peers(alice), (std::set<NodePublicKey>{b, d}));
  EXPECT_EQ(Peers(bob), (std::set<NodePublicKey>{a, d}));
  EXPECT_EQ(Peers(carol), (std::set<NodePublicKey>{d}));
  EXPECT_EQ(Peers(dave), (std::set<NodePublicKey>{a, b, c}));
  EXPECT_EQ(Peers(erin), (std::set<NodePublicKey>{f}));  // no rules in B: everyone
  EXPECT_EQ(Peers(frank), (std::set<NodePublicKey>{e}));
  // Never told, in any netmap or change along the way.
  EXPECT_EQ(EverTold(alice), Peers(alice));
  EXPECT_EQ(EverTold(bob), Peers(bob));
  EXPECT_EQ(EverTold(carol), Peers(carol));
  EXPECT_EQ(EverTold(dave), Peers(dave));
  // The entries are the nodes' own.
  EXPECT_EQ(*alice.netmap().FindPeer(b), bob.Expected(bob.address()));
  EXPECT_EQ(*carol.netmap().FindPeer(d), dave.Expected(dave.address()));
}

TEST_F(RulesControlPlaneTest, ChangesReachOnlyTheNodesThatSeeTheChangedNode) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  auto counts = [&] {
    return std::vector<int>{alice.netmap_count(), bob.netmap_count(), carol.netmap_count(),
                            dave.netmap_count()};
  };

  // carol's new endpoints: dave (and carol herself) hear, alice and bob not.
  std::vector<int> before = counts();
  carol.endpoints = {Ep("203.0.113.77:6000")};
  net_.Do(carol.id, [&](Timestamp now) { carol.client->UpdateEndpoints(now, carol.endpoints); });
  net_.RunFor(Duration::Millis(50));
  EXPECT_EQ(dave.netmap().FindPeer(carol.key.Public())->endpoints, carol.endpoints);
  EXPECT_EQ(carol.netmap().self.endpoints, carol.endpoints);
  // As a patch of her endpoints: dave holds her entry.
  EXPECT_EQ(dave.EventsOf<PeersChanged>().back().patched,
            (std::vector<PeerPatch>{
                PeerPatch{carol.key.Public(), carol.endpoints, std::nullopt, std::nullopt}}));
  std::vector<int> after = counts();
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_EQ(after[2], before[2]);  // her own entry changes her self, no peer event
  EXPECT_EQ(after[3], before[3] + 1);

  // alice's: bob and dave hear, carol not.
  before = after;
  alice.region = 2;
  net_.Do(alice.id, [&](Timestamp now) { alice.client->SetHomeRegion(now, 2); });
  net_.RunFor(Duration::Millis(50));
  EXPECT_EQ(*bob.netmap().FindPeer(alice.key.Public()), alice.Expected(alice.address()));
  EXPECT_EQ(*dave.netmap().FindPeer(alice.key.Public()), alice.Expected(alice.address()));
  after = counts();
  EXPECT_EQ(after[2], before[2]);
  EXPECT_EQ(after[1], before[1] + 1);

  // carol leaves: only dave hears her key go.
  before = after;
  net_.Do(carol.id, [&](Timestamp now) { carol.client->Leave(now); });
  net_.RunFor(Duration::Millis(50));
  EXPECT_FALSE(dave.netmap().FindPeer(carol.key.Public()));
  EXPECT_EQ(dave.EventsOf<PeersChanged>().back().removed,
            std::vector<NodePublicKey>{carol.key.Public()});
  after = counts();
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_EQ(after[3], before[3] + 1);
  // One message per node that sees a change, none to the rest.
  for (TestNode* n : {&alice, &bob}) {
    for (const auto& change : n->EventsOf<PeersChanged>()) {
      for (const NodeInfo& p : change.changed) EXPECT_NE(p.node_key, carol.key.Public());
      for (const PeerPatch& p : change.patched) EXPECT_NE(p.node_key, carol.key.Public());
      for (const NodePublicKey& k : change.removed) EXPECT_NE(k, carol.key.Public());
    }
  }
}

// A node key registering again under another user: who saw the old user
// but not the new one loses it (a whole netmap), who sees the new one hears.
TEST_F(RulesControlPlaneTest, AKeyRegisteringUnderAnotherUserLeavesItsOldViewers) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
  // bob's key comes back as user carol: alice no longer sees it, dave still.
  TestNode& bob2 = AddNode("bob2", "192.0.2.21:41641");
  bob2.key = bob.key.Clone();
  bob2.user = "carol";
  Register(bob2, Token(idp_a_, "carol", kDomainA, bob2.key.Public()));
  net_.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(bob2.client->registered());
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(*dave.netmap().FindPeer(bob.key.Public()), bob2.Expected(bob2.address()));
  EXPECT_FALSE(carol.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(Peers(bob2), (std::set<NodePublicKey>{dave.key.Public()}));
}

// A new DERP map: every node of a domain with rules gets a whole netmap
// with it, still listing only what the node sees.
TEST_F(RulesControlPlaneTest, ANewDerpMapReachesEveryNodeWithWhatItSees) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(1));
  const DerpMap next = AnnounceDerpMapWithRegion3();
  net_.RunFor(Duration::Millis(10));
  for (TestNode* n : {&alice, &bob, &carol, &dave}) {
    EXPECT_EQ(n->EventsOf<NetmapUpdated>().size(), 2u) << n->user;
    EXPECT_EQ(n->netmap().derp_map, next) << n->user;
    EXPECT_EQ(EverTold(*n), Peers(*n)) << n->user;
  }
  EXPECT_EQ(Peers(carol), std::set<NodePublicKey>{dave.key.Public()});
  EXPECT_EQ(Peers(dave).size(), 3u);
}

class BatchedRulesControlPlaneTest : public RulesControlPlaneTest {
 protected:
  BatchedRulesControlPlaneTest() : RulesControlPlaneTest(Duration::Millis(500)) {}
};

TEST_F(BatchedRulesControlPlaneTest, ABatchCarriesToEachNodeOnlyWhatItSees) {
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(Duration::Seconds(2));
  // bob and carol join within the delay: dave hears both in one update,
  // alice only bob.
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& carol = Join("carol", "192.0.2.12:41641", kDomainA);
  const size_t alice_changes = alice.EventsOf<PeersChanged>().size();
  const size_t dave_changes = dave.EventsOf<PeersChanged>().size();
  net_.RunFor(Duration::Seconds(2));
  ASSERT_EQ(alice.EventsOf<PeersChanged>().size(), alice_changes + 1);
  ASSERT_EQ(dave.EventsOf<PeersChanged>().size(), dave_changes + 1);
  std::set<NodePublicKey> to_dave, to_alice;
  const PeersChanged last_to_dave = dave.EventsOf<PeersChanged>().back();
  const PeersChanged last_to_alice = alice.EventsOf<PeersChanged>().back();
  for (const NodeInfo& p : last_to_dave.changed) to_dave.insert(p.node_key);
  for (const NodeInfo& p : last_to_alice.changed) to_alice.insert(p.node_key);
  EXPECT_EQ(to_dave, (std::set<NodePublicKey>{bob.key.Public(), carol.key.Public()}));
  EXPECT_EQ(to_alice, std::set<NodePublicKey>{bob.key.Public()});
  EXPECT_EQ(Peers(carol), std::set<NodePublicKey>{dave.key.Public()});
  EXPECT_EQ(EverTold(carol), Peers(carol));
  EXPECT_EQ(EverTold(alice), (std::set<NodePublicKey>{bob.key.Public(), dave.key.Public()}));
}

// A key that leaves as one user and registers again as another: who saw only
// the old user loses it, who sees the new user hears the new entry. With a
// batch (both within one delay: the removal must not be dropped with the
// pending change) and without (each input's changes go out at its end).
class LeaveRejoinControlPlaneTest : public RulesControlPlaneTest,
                                    public ::testing::WithParamInterface<Duration> {
 protected:
  LeaveRejoinControlPlaneTest() : RulesControlPlaneTest(GetParam()) {}
};

TEST_P(LeaveRejoinControlPlaneTest, ALeaveThenARejoinAsAnotherUserLeavesTheOldViewers) {
  const Duration batch_delay = GetParam();
  // Long enough for every change (and a batch) to have gone out.
  const Duration settle = Duration::Seconds(1) + batch_delay * 2;
  TestNode& alice = Join("alice", "192.0.2.10:41641", kDomainA);
  TestNode& bob = Join("bob", "192.0.2.11:41641", kDomainA);
  TestNode& dave = Join("dave", "192.0.2.13:41641", kDomainA);
  net_.RunFor(settle);
  ASSERT_TRUE(alice.netmap().FindPeer(bob.key.Public()));
  net_.Do(bob.id, [&](Timestamp now) { bob.client->Leave(now); });
  // Batched: the leave has reached the server, its change still waits.
  if (batch_delay > Duration::Zero()) net_.RunFor(Duration::Millis(50));
  TestNode& bob2 = AddNode("bob2", "192.0.2.21:41641");
  bob2.key = bob.key.Clone();
  bob2.user = "carol";
  Register(bob2, Token(idp_a_, "carol", kDomainA, bob2.key.Public()));
  net_.RunFor(settle);
  ASSERT_TRUE(bob2.client->registered());
  // carol is visible to dave only; alice must not list bob's key any more.
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
  EXPECT_EQ(*dave.netmap().FindPeer(bob.key.Public()), bob2.Expected(bob2.address()));
  EXPECT_EQ(Peers(bob2), (std::set<NodePublicKey>{dave.key.Public()}));
  EXPECT_EQ(EverTold(bob2), Peers(bob2));
  // And it leaves again as carol: dave hears, alice has nothing left to hear.
  net_.Do(bob2.id, [&](Timestamp now) { bob2.client->Leave(now); });
  net_.RunFor(settle);
  EXPECT_FALSE(dave.netmap().FindPeer(bob.key.Public()));
  EXPECT_FALSE(alice.netmap().FindPeer(bob.key.Public()));
}

INSTANTIATE_TEST_SUITE_P(BatchedOrNot, LeaveRejoinControlPlaneTest,
                         ::testing::Values(Duration::Zero(), Duration::Millis(500)),
                         [](const ::testing::TestParamInfo<Duration>& param) {
                           return param.param == Duration::Zero() ? std::string("AtOnce")
                                                                 : std::string("Batched");
                         });

}  // namespace
}  // namespace punchlab::control
