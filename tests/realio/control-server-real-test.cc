// The coordination server and its clients on real loopback TCP, the server
// on Unix time as `punchlab-node control-server` runs it (tokens' expiry is
// wall-clock time): nodes of one domain see each other and nothing of another
// domain; tokens from a provider not trusted for the domain, expired by the
// wall clock or issued for another node's key are refused; garbage closes only its own connection.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "loopback-helpers.h"
#include "punchlab/control/client.h"
#include "punchlab/control/identity.h"
#include "punchlab/control/server.h"
#include "realio/os-random.h"
#include "realio/wall-clock.h"

namespace punchlab::realio {
namespace {

const std::string kDomainA = "a.example";
const std::string kDomainB = "b.example";

class ControlReal : public ::testing::Test {
 protected:
  ControlReal()
      : idp_a(SigningKey::Generate(rng)),
        idp_b(SigningKey::Generate(rng)),
        server(NodePrivateKey::Generate(rng), Config(), rng),
        server_host(loop, server, [this] { while (server.PollEvent()) {} }, UnixTime()) {
    at = server_host.Listen(kLoopbackAnyPort);
  }

  control::ControlServerConfig Config() {
    control::ControlServerConfig config;
    config.trusted_issuers = {{idp_a.verify_key(), {kDomainA}}, {idp_b.verify_key(), {kDomainB}}};
    return config;
  }
  static Host::Options UnixTime() {
    Host::Options options;
    options.clock_offset = UnixEpochOffset();
    return options;
  }

  struct Node {
    Node(EventLoop& loop, RandomSource& rng, const Endpoint& server, const NodePublicKey& server_key)
        : key(NodePrivateKey::Generate(rng)),
          client(Config(server, server_key), rng),
          host(loop, client, [this] {
            while (auto ev = client.PollEvent()) {
              if (auto* refused = std::get_if<control::RegistrationRefused>(&*ev)) {
                refusal = refused->reason;
              }
            }
          }) {}
    static control::ControlClientConfig Config(const Endpoint& server, const NodePublicKey& key) {
      control::ControlClientConfig config;
      config.server = server;
      config.server_key = key;
      return config;
    }
    void Register(RandomSource& rng, const std::string& token) {
      control::Registration reg;
      reg.token = token;
      reg.disco_key = DiscoPrivateKey::Generate(rng).Public();
      reg.endpoints = {Endpoint(IpAddress::V4(198, 51, 100, 7), 41641)};
      client.Register(MonotonicNow(), key.Clone(), reg);
      host.Drain();
    }
    bool Sees(const NodePublicKey& peer) const {
      return client.netmap() && client.netmap()->FindPeer(peer) != nullptr;
    }

    NodePrivateKey key;
    control::ControlClient client;
    Host host;
    std::string refusal;
  };

  // Tokens are bound to the node's key (identity.h).
  std::string Token(const control::IdentityProvider& idp, const std::string& user,
                    const std::string& domain, const Node& node, Timestamp expires) {
    return *idp.Issue({user, domain, node.key.Public(), expires});
  }
  std::string Token(const control::IdentityProvider& idp, const std::string& user,
                    const std::string& domain, const Node& node) {
    return Token(idp, user, domain, node, UnixNow() + Duration::Seconds(3600));
  }
  std::unique_ptr<Node> NewNode() {
    return std::make_unique<Node>(loop, rng, at, server.public_key());
  }
  std::unique_ptr<Node> Registered(const control::IdentityProvider& idp, const std::string& user,
                                   const std::string& domain) {
    auto node = NewNode();
    node->Register(rng, Token(idp, user, domain, *node));
    EXPECT_TRUE(RunUntil(loop, [&] { return node->client.registered(); })) << node->refusal;
    return node;
  }

  EventLoop loop;
  OsRandom rng;
  control::IdentityProvider idp_a;
  control::IdentityProvider idp_b;
  control::ControlServer server;
  Host server_host;
  Endpoint at;
};

TEST_F(ControlReal, NodesSeeTheirOwnDomainOnly) {
  auto a1 = Registered(idp_a, "alice", kDomainA);
  auto a2 = Registered(idp_a, "bob", kDomainA);
  auto b1 = Registered(idp_b, "carol", kDomainB);
  const NodePublicKey k1 = a1->key.Public();
  const NodePublicKey k2 = a2->key.Public();
  ASSERT_TRUE(RunUntil(loop, [&] { return a1->Sees(k2) && a2->Sees(k1) && b1->client.netmap(); }));

  EXPECT_EQ(a1->client.netmap()->domain, kDomainA);
  EXPECT_EQ(a1->client.netmap()->peers.size(), 1u);
  EXPECT_EQ(a1->client.netmap()->FindPeer(k2)->user, "bob");
  // b1 learns nothing of domain A, now or after A changes.
  a2->client.UpdateEndpoints(MonotonicNow(), {Endpoint(IpAddress::V4(203, 0, 113, 9), 1)});
  a2->host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] {
    const auto* peer = a1->client.netmap()->FindPeer(k2);
    return peer && peer->endpoints.size() == 1 && peer->endpoints[0].port == 1;
  }));
  EXPECT_EQ(b1->client.netmap()->domain, kDomainB);
  EXPECT_TRUE(b1->client.netmap()->peers.empty());
  EXPECT_EQ(server.node_count(), 3u);
}

TEST_F(ControlReal, RefusesTokensNotTrustedForTheDomainOrExpiredByTheWallClock) {
  auto a1 = Registered(idp_a, "alice", kDomainA);

  // Domain B's provider cannot vouch for domain A.
  auto intruder = NewNode();
  intruder->Register(rng, Token(idp_b, "mallory", kDomainA, *intruder));
  // Expired a second ago on the wall clock.
  auto late = NewNode();
  late->Register(rng, Token(idp_a, "dave", kDomainA, *late, UnixNow() - Duration::Seconds(1)));
  // An hour after process start: valid only for a server on the process's
  // own monotonic clock; the server judges Unix time.
  auto wrong_clock = NewNode();
  wrong_clock->Register(rng, Token(idp_a, "erin", kDomainA, *wrong_clock,
                                          Timestamp::Zero() + Duration::Seconds(3600)));

  // A valid token of a1's, copied to another node.
  auto thief = NewNode();
  thief->Register(rng, Token(idp_a, "alice", kDomainA, *a1));

  ASSERT_TRUE(RunUntil(loop, [&] {
    return !intruder->refusal.empty() && !late->refusal.empty() &&
           !wrong_clock->refusal.empty() && !thief->refusal.empty();
  }));
  EXPECT_NE(thief->refusal.find("token was issued for " + a1->key.Public().ToString() +
                                ", not for this node"),
            std::string::npos) << thief->refusal;
  EXPECT_FALSE(thief->client.registered());
  EXPECT_NE(intruder->refusal.find("not signed by an identity provider trusted"),
            std::string::npos) << intruder->refusal;
  EXPECT_NE(late->refusal.find("expired"), std::string::npos) << late->refusal;
  EXPECT_NE(wrong_clock->refusal.find("expired"), std::string::npos) << wrong_clock->refusal;
  EXPECT_FALSE(intruder->client.registered());
  EXPECT_FALSE(late->client.registered());
  EXPECT_FALSE(wrong_clock->client.registered());
  EXPECT_EQ(server.stats().refused, 4u);
  EXPECT_EQ(server.node_count(), 1u);
  // a1's netmap never listed any of them.
  EXPECT_TRUE(a1->client.netmap()->peers.empty());
}

TEST_F(ControlReal, GarbageClosesOnlyItsOwnConnection) {
  auto a1 = Registered(idp_a, "alice", kDomainA);
  ScriptedPeer garbage(loop, at);
  Bytes junk(5000);
  rng.Fill(junk.data(), junk.size());
  garbage.Send(junk);
  ASSERT_TRUE(RunUntil(loop, [&] { return garbage.closed(); }));

  auto a2 = Registered(idp_a, "bob", kDomainA);
  const NodePublicKey k2 = a2->key.Public();
  ASSERT_TRUE(RunUntil(loop, [&] { return a1->Sees(k2); }));
  EXPECT_TRUE(a1->client.registered());
  EXPECT_EQ(server.node_count(), 2u);
}

}  // namespace
}  // namespace punchlab::realio
