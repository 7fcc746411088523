// derp::Server::Clone and derp::Client::Clone: a snapshot carries every
// connection, handshake and session, and runs on without touching the
// original (the fuzz targets start each input from one).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "punchlab/derp/client.h"
#include "punchlab/derp/server.h"
#include "punchlab/random.h"
#include "support/server-wiring.h"

namespace punchlab::derp {
namespace {

const Endpoint kServer = *Endpoint::Parse("203.0.113.1:80");
const Timestamp kNow = Timestamp::Zero() + Duration::Seconds(100);

NodePrivateKey Key(uint8_t b) {
  KeyBytes k{};
  k.fill(b);
  return NodePrivateKey(k);
}

ClientConfig To(const NodePublicKey& server_key) {
  ClientConfig c;
  c.server = kServer;
  c.server_key = server_key;
  return c;
}

// The packets `c` received from `source`, as strings.
std::vector<std::string> ReceivedFrom(Client& c, const NodePublicKey& source) {
  std::vector<std::string> out;
  while (auto e = c.PollEvent()) {
    if (const auto* r = std::get_if<derp::Received>(&*e); r && r->source == source) {
      out.emplace_back(r->data.begin(), r->data.end());
    }
  }
  return out;
}

ByteView Text(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(DerpClone, ClonesRelayOnTheOriginalsSessionsAndLeaveThemAlone) {
  DeterministicRandom server_rng(1), alice_rng(2), bob_rng(3);
  Server server(Key(1), server_rng);
  Client alice(Key(2), alice_rng, To(server.public_key()));
  Client bob(Key(3), bob_rng, To(server.public_key()));
  testsupport::ServerWiring wiring(server, kServer, kNow);
  // The server writes only to connections it holds (copied into wiring2).
  wiring.stray = [](const StreamAction& a) { EXPECT_EQ(a.kind, StreamAction::Kind::kClose); };
  wiring.AddHonest(alice, *Endpoint::Parse("198.51.100.2:4000"));
  wiring.AddHonest(bob, *Endpoint::Parse("198.51.100.3:4000"));
  alice.Start(kNow);
  bob.Start(kNow);
  wiring.Flush();
  ASSERT_TRUE(alice.connected() && bob.connected());
  ASSERT_EQ(server.client_count(), 2u);
  while (bob.PollEvent()) {
  }

  DeterministicRandom server_rng2(11), alice_rng2(12), bob_rng2(13);
  Server server2 = server.Clone(server_rng2);
  Client alice2 = alice.Clone(alice_rng2);
  Client bob2 = bob.Clone(bob_rng2);
  testsupport::ServerWiring wiring2(wiring, server2, {&alice2, &bob2});
  EXPECT_TRUE(alice2.connected() && bob2.connected());
  EXPECT_EQ(server2.client_count(), 2u);
  EXPECT_EQ(alice2.public_key(), alice.public_key());

  // The clones relay on the sessions they inherited (no new handshake)...
  ASSERT_TRUE(alice2.Send(kNow, bob.public_key(), Text("to the clone")));
  EXPECT_GT(wiring2.Flush(), 0);
  EXPECT_EQ(ReceivedFrom(bob2, alice.public_key()), std::vector<std::string>{"to the clone"});
  EXPECT_EQ(server2.stats().packets_relayed, 1u);
  EXPECT_EQ(alice2.stats().protocol_errors + bob2.stats().protocol_errors, 0u);

  // ...and the originals saw none of it, and still work on their own.
  EXPECT_EQ(wiring.Flush(), 0);
  EXPECT_EQ(server.stats().packets_relayed, 0u);
  ASSERT_TRUE(alice.Send(kNow, bob.public_key(), Text("to the original")));
  wiring.Flush();
  EXPECT_EQ(ReceivedFrom(bob, alice.public_key()), std::vector<std::string>{"to the original"});
  EXPECT_EQ(ReceivedFrom(bob2, alice.public_key()), std::vector<std::string>{});
}

}  // namespace
}  // namespace punchlab::derp
