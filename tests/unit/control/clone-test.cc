// ControlServer::Clone and ControlClient::Clone: a snapshot carries every
// session, registration and netmap, and runs on without touching the
// original (the fuzz target starts each input from one).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "punchlab/control/client.h"
#include "punchlab/control/identity.h"
#include "punchlab/control/server.h"
#include "punchlab/random.h"
#include "support/server-wiring.h"

namespace punchlab::control {
namespace {

const Endpoint kServer = *Endpoint::Parse("203.0.113.1:8080");
const Timestamp kNow = Timestamp::Zero() + Duration::Seconds(100);
const Timestamp kExpires = Timestamp::Zero() + Duration::Seconds(100000);

TEST(ControlClone, ClonesCarryTheSessionsAndChangesStayOnTheirSide) {
  DeterministicRandom keys(7);
  const IdentityProvider idp(SigningKey::Generate(keys));
  const NodePrivateKey server_key = NodePrivateKey::Generate(keys);
  const NodePrivateKey alice_key = NodePrivateKey::Generate(keys);
  const NodePrivateKey bob_key = NodePrivateKey::Generate(keys);
  const DiscoPublicKey disco = DiscoPrivateKey::Generate(keys).Public();

  ControlServerConfig sc;
  sc.trusted_issuers = {{idp.verify_key(), {"a.example"}}};
  DeterministicRandom server_rng(1), alice_rng(2), bob_rng(3);
  ControlServer server(server_key.Clone(), sc, server_rng);
  ControlClientConfig cc;
  cc.server = kServer;
  cc.server_key = server.public_key();
  ControlClient alice(cc, alice_rng), bob(cc, bob_rng);
  const Endpoint alice_at = *Endpoint::Parse("198.51.100.2:41641");
  const Endpoint bob_at = *Endpoint::Parse("198.51.100.3:41641");
  testsupport::ServerWiring wiring(server, kServer, kNow);
  // The server writes only to connections it holds (copied into wiring2).
  wiring.stray = [](const StreamAction& a) { EXPECT_EQ(a.kind, StreamAction::Kind::kClose); };
  wiring.AddHonest(alice, alice_at);
  wiring.AddHonest(bob, bob_at);
  const std::string alice_token = *idp.Issue({"alice", "a.example", alice_key.Public(), kExpires});
  const std::string bob_token = *idp.Issue({"bob", "a.example", bob_key.Public(), kExpires});
  alice.Register(kNow, alice_key.Clone(), {alice_token, disco, {alice_at}, 1});
  bob.Register(kNow, bob_key.Clone(), {bob_token, disco, {bob_at}, 1});
  wiring.Flush();
  ASSERT_TRUE(alice.registered() && bob.registered());
  ASSERT_EQ(server.node_count(), 2u);

  DeterministicRandom server_rng2(11), alice_rng2(12), bob_rng2(13);
  ControlServer server2 = server.Clone(server_rng2);
  ControlClient alice2 = alice.Clone(alice_rng2);
  ControlClient bob2 = bob.Clone(bob_rng2);
  testsupport::ServerWiring wiring2(wiring, server2, {&alice2, &bob2});
  EXPECT_TRUE(alice2.registered() && bob2.registered());
  EXPECT_EQ(server2.node_count(), 2u);
  ASSERT_TRUE(bob2.netmap().has_value());
  EXPECT_EQ(*bob2.netmap(), *bob.netmap());

  // alice's clone moves: the cloned server opens it with the inherited
  // session (its sequence numbers too) and tells bob's clone...
  const Endpoint moved = *Endpoint::Parse("198.51.100.2:5000");
  alice2.UpdateEndpoints(kNow, {moved});
  EXPECT_GT(wiring2.Flush(), 0);
  ASSERT_NE(bob2.netmap()->FindPeer(alice_key.Public()), nullptr);
  EXPECT_EQ(bob2.netmap()->FindPeer(alice_key.Public())->endpoints, std::vector<Endpoint>{moved});
  EXPECT_EQ(server2.stats().undecryptable + server2.stats().out_of_order, 0u);
  EXPECT_EQ(server2.FindNode(alice_key.Public())->endpoints, std::vector<Endpoint>{moved});

  // ...while the originals saw nothing of it.
  EXPECT_EQ(wiring.Flush(), 0);
  EXPECT_EQ(server.FindNode(alice_key.Public())->endpoints, std::vector<Endpoint>{alice_at});
  EXPECT_EQ(bob.netmap()->FindPeer(alice_key.Public())->endpoints,
            std::vector<Endpoint>{alice_at});
}

}  // namespace
}  // namespace punchlab::control
