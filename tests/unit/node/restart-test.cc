// A restarted node (a new Node with the same node key, hence a new disco
// key) is found again: its peer drops the old run's proofs and punches anew.
#include <gtest/gtest.h>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;
const Duration kPeriod = Ms(100);

// Both send; both direct.
void GoDirect(TwoNodes& p, Timestamp end) {
  p.w.StartAndSettle();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, end);
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, end);
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->PathTo(*p.b).direct() && p.b->PathTo(*p.a).direct(); },
      p.w.world.now() + kPaths.ping_interval * 2));
  p.w.world.RunFor(Sec(2));
}

// One way between a node and the control server.
Duration ControlTrip() { return Ms(TwoNodes::kHostAccessMs + TwoNodes::kUplinkMs + 5); }

TEST(Restart, SilentCrashAndRestartGetsANewDiscoKeyAndADirectPathAgain) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  GoDirect(p, At(Sec(60)));
  const DiscoPublicKey old_disco = p.b->node->disco_key();

  // B's process dies without a word (its TCP connections go silent) and a
  // new one starts on the same host and port with the same node key.
  const Timestamp crash = p.w.world.now();
  p.w.Restart(*p.b, VirtualWorld::Departure::kSilent);
  ASSERT_NE(p.b->node->disco_key(), old_disco);
  EXPECT_EQ(p.b->node->public_key(), p.a->node->Peers().front());

  // The server replaces the old registration; A hears the new disco key with
  // the next netmap: connect (2 trips), hello/challenge and register/
  // registered (4), netmap to A (2, the server is one trip from each).
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return !p.a->EventsOf<node::PeerRestarted>().empty(); }, crash + ControlTrip() * 8));
  const auto [restarted_at, restarted] = p.a->EventsOf<node::PeerRestarted>().front();
  EXPECT_EQ(restarted.old_disco_key, old_disco);
  EXPECT_EQ(restarted.new_disco_key, p.b->node->disco_key());
  // A was direct until then: the old run's trust is void, back to DERP.
  const auto changes = p.a->PathChangesTo(*p.b);
  auto reset = std::find_if(changes.begin(), changes.end(), [](const node::PathChanged& c) {
    return c.reason == node::PathChangeReason::kPeerRestarted;
  });
  ASSERT_NE(reset, changes.end());
  EXPECT_TRUE(reset->from.direct());
  EXPECT_EQ(reset->to, Path::Derp(1));

  // B's NAT still maps the same socket, and B's new run knows A's disco key
  // from its first netmap, so A's next discovery ping (its next send) is
  // answered: direct again one RTT later.
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.a->PathTo(*p.b).direct(); },
                                     restarted_at + kPeriod + TwoNodes::DirectRtt()));
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Direct(TwoNodes::PublicB()));
  // And B's new run finds A too.
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.b->PathTo(*p.a).direct(); },
                                     p.w.world.now() + kPaths.ping_interval * 2));
  // Data from B's new run reaches A.
  const size_t before = p.a->Received(*p.b, Path::Kind::kDirect, "b2a");
  p.w.world.RunFor(Sec(2));
  EXPECT_GT(p.a->Received(*p.b, Path::Kind::kDirect, "b2a"), before + 10);
}

TEST(Restart, CleanRestartRemovesAndReaddsThePeer) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  GoDirect(p, At(Sec(60)));
  const Timestamp restart = p.w.world.now();
  p.w.Restart(*p.b, VirtualWorld::Departure::kClose);

  // The server sees the old connection close (the node is removed) and the
  // new registration (added again, with the new disco key).
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] {
        return !p.a->EventsOf<node::PeerRemoved>().empty() && p.a->node->HasPeer(p.b->pub());
      },
      restart + ControlTrip() * 8));
  const auto added = p.a->EventsOf<node::PeerAdded>();
  EXPECT_EQ(added.back().second.disco_key, p.b->node->disco_key());
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->PathTo(*p.b).direct() && p.b->PathTo(*p.a).direct(); },
      p.w.world.now() + kPaths.ping_interval * 2));
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
