// The host core's rules, each test run over two transports (wireguard-go
// style): in-memory sockets in virtual time (MemoryWorld) and the POSIX
// adapter on loopback (PosixWorld). Rules only virtual time can pin exactly
// (watermarks with a small window, the arming of the one timer, the drain
// order) run in memory only.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>

#include "support/queued-datagram.h"
#include "support/queued-stream.h"
#include "worlds.h"

namespace punchlab::hosts::testing {
namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string S(ByteView b) { return std::string(b.begin(), b.end()); }

// A datagram peer: sends what it is told, records what comes back.
class Pinger final : public testsupport::QueuedDatagramMachine {
 public:
  void Send(const Endpoint& from, const Endpoint& to, Bytes payload) {
    Queue(Transmit{from, to, std::move(payload)});
  }
  void HandleDatagram(Timestamp, const Endpoint&, const Endpoint&, ByteView p) override {
    replies.push_back(S(p));
  }
  std::vector<std::string> replies;
};

// A stream server that writes back what it reads.
class StreamEcho final : public testsupport::QueuedStreamMachine {
 public:
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    accepted.push_back(conn);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    read += bytes.size();
    if (echo) Queue(StreamAction::Write(conn, Bytes(bytes.begin(), bytes.end())));
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.push_back(conn); }
  bool echo = true;
  size_t read = 0;
  Bytes received;
  std::vector<ConnectionId> accepted;
  std::vector<ConnectionId> closed;
};

// A machine of both shapes (like node::Node): a datagram becomes a write on
// its one stream connection (opened on first use); bytes read back become a
// datagram to the last sender. It wants one timeout, `wake_after` past its
// start.
class Bridge final : public DatagramMachine, public StreamMachine {
 public:
  static constexpr ConnectionId kConn = 7;
  Bridge(Endpoint server, Timestamp wake_at) : server_(server), wake_at_(wake_at) {}

  void HandleDatagram(Timestamp, const Endpoint& local, const Endpoint& remote,
                      ByteView p) override {
    local_ = local;
    sender_ = remote;
    if (!opened_) {
      opened_ = true;
      actions_.push_back(StreamAction::Connect(kConn, server_));
    }
    actions_.push_back(StreamAction::Write(kConn, Bytes(p.begin(), p.end())));
  }
  void HandleConnected(Timestamp, ConnectionId, const Endpoint&) override { ++connected; }
  void HandleStream(Timestamp, ConnectionId, ByteView bytes) override {
    transmits_.push_back(Transmit{local_, sender_, Bytes(bytes.begin(), bytes.end())});
  }
  void HandleClosed(Timestamp, ConnectionId) override {}
  // One override for both faces, as in node::Node.
  void HandleTimeout(Timestamp now) override {
    ++timeouts;
    if (wake_at_ && *wake_at_ <= now) wake_at_.reset();
  }
  std::optional<Timestamp> PollTimeout() const override { return wake_at_; }
  std::optional<Transmit> PollTransmit() override {
    if (transmits_.empty()) return std::nullopt;
    Transmit t = std::move(transmits_.front());
    transmits_.pop_front();
    return t;
  }
  std::optional<StreamAction> PollStreamAction() override {
    if (actions_.empty()) return std::nullopt;
    StreamAction a = std::move(actions_.front());
    actions_.pop_front();
    return a;
  }
  int connected = 0;
  int timeouts = 0;

 private:
  Endpoint server_;
  std::optional<Timestamp> wake_at_;
  Endpoint local_;
  Endpoint sender_;
  bool opened_ = false;
  std::deque<Transmit> transmits_;
  std::deque<StreamAction> actions_;
};

// Writes `chunks` of `size` bytes on connect, then (if asked) closes.
class Writer final : public testsupport::QueuedStreamMachine {
 public:
  Writer(Endpoint server, size_t chunks, size_t size, bool close_after)
      : chunks_(chunks), size_(size), close_after_(close_after) {
    Queue(StreamAction::Connect(1, server));
    // Queued before the connect completes: the host holds them until then.
    for (size_t i = 0; i < chunks_; ++i) {
      Bytes chunk(size_);
      for (size_t j = 0; j < size_; ++j) chunk[j] = static_cast<uint8_t>((i * size_ + j) % 251);
      Queue(StreamAction::Write(1, std::move(chunk)));
    }
  }
  // A close while the connect is pending would drop the queue with it.
  void HandleConnected(Timestamp, ConnectionId, const Endpoint&) override {
    ++connected;
    if (close_after_) Queue(StreamAction::Close(1));
  }
  void HandleStream(Timestamp, ConnectionId, ByteView) override {}
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.push_back(conn); }
  Bytes Expected() const {
    Bytes all(chunks_ * size_);
    for (size_t k = 0; k < all.size(); ++k) all[k] = static_cast<uint8_t>(k % 251);
    return all;
  }
  int connected = 0;
  std::vector<ConnectionId> closed;

 private:
  size_t chunks_;
  size_t size_;
  bool close_after_;
};

enum class Transport { kMemory, kMemorySmallWindow, kPosix };

std::unique_ptr<World> MakeWorld(Transport t) {
  switch (t) {
    case Transport::kMemory: return std::make_unique<MemoryWorld>();
    case Transport::kMemorySmallWindow: return std::make_unique<MemoryWorld>(1500);
    case Transport::kPosix: return std::make_unique<PosixWorld>();
  }
  return nullptr;
}

class HostOverTransports : public ::testing::TestWithParam<Transport> {};

// One host runs both faces of a machine: a datagram in makes a connect and a
// write in the same drain; bytes read back make a datagram out; the machine's
// one deadline fires once.
TEST_P(HostOverTransports, OneHostCarriesBothShapesOfOneMachine) {
  std::unique_ptr<World> world = MakeWorld(GetParam());
  StreamEcho echo;
  const HostId server = world->AddHost(nullptr, &echo);
  const Endpoint server_ep = world->Listen(server);

  Bridge bridge(server_ep, world->Now() + Duration::Millis(30));
  const HostId bridge_host = world->AddHost(&bridge, &bridge);
  const Endpoint bridge_ep = world->BindUdp(bridge_host);
  world->Drain(bridge_host);  // arms the bridge's timer

  Pinger pinger;
  const HostId pinger_host = world->AddHost(&pinger, nullptr);
  const Endpoint pinger_ep = world->BindUdp(pinger_host);
  pinger.Send(pinger_ep, bridge_ep, B("hello over both shapes"));
  world->Drain(pinger_host);

  ASSERT_TRUE(world->RunUntil([&] { return !pinger.replies.empty() && bridge.timeouts > 0; }))
      << world->name();
  EXPECT_EQ(pinger.replies, std::vector<std::string>{"hello over both shapes"});
  EXPECT_EQ(bridge.connected, 1);
  EXPECT_EQ(echo.accepted.size(), 1u);
  EXPECT_GE(echo.accepted.at(0), Host::kFirstAcceptedId);
  const Stats& s = world->StatsOf(bridge_host);
  EXPECT_EQ(s.datagrams_received, 1u);
  EXPECT_EQ(s.datagrams_sent, 1u);
  EXPECT_EQ(s.connects_started, 1u);
  EXPECT_EQ(s.bytes_written, 22u);
  EXPECT_EQ(s.bytes_read, 22u);
  // One timer for both faces: the deadline fired once, and nothing re-arms it.
  world->RunUntil([] { return false; }, Duration::Millis(100));
  EXPECT_EQ(bridge.timeouts, 1);
  EXPECT_EQ(s.timeouts, 1u);
}

// Writes queued before the connect completes go first, in order; a close
// after them delivers every byte before EOF, and the writer hears no close.
TEST_P(HostOverTransports, CloseAfterWritesDeliversEverythingInOrderThenEof) {
  std::unique_ptr<World> world = MakeWorld(GetParam());
  StreamEcho reader;
  reader.echo = false;
  const HostId server = world->AddHost(nullptr, &reader);
  const Endpoint server_ep = world->Listen(server);
  Writer writer(server_ep, 40, 10000, true);
  const HostId client = world->AddHost(nullptr, &writer);
  world->Drain(client);

  ASSERT_TRUE(world->RunUntil([&] { return !reader.closed.empty(); })) << world->name();
  EXPECT_EQ(reader.received, writer.Expected());
  EXPECT_TRUE(writer.closed.empty());
  EXPECT_EQ(world->StatsOf(client).closed_by_machine, 1u);
  EXPECT_EQ(world->StatsOf(client).bytes_written, 400000u);
  EXPECT_EQ(world->StatsOf(server).closed_by_peer, 1u);
  EXPECT_EQ(world->StatsOf(server).bytes_read, 400000u);
}

// A datagram from a source the host has no socket for is dropped and counted.
TEST_P(HostOverTransports, TransmitFromAnUnknownSourceIsCounted) {
  std::unique_ptr<World> world = MakeWorld(GetParam());
  Pinger pinger;
  const HostId host = world->AddHost(&pinger, nullptr);
  const Endpoint mine = world->BindUdp(host);
  pinger.Send(Endpoint(IpAddress::V4(127, 0, 0, 99), 9), mine, B("x"));
  world->Drain(host);
  EXPECT_EQ(world->StatsOf(host).no_source_socket, 1u);
  EXPECT_EQ(world->StatsOf(host).datagrams_sent, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, HostOverTransports,
                         ::testing::Values(Transport::kMemory, Transport::kMemorySmallWindow,
                                           Transport::kPosix),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case Transport::kMemory: return std::string("Memory");
                             case Transport::kMemorySmallWindow: return std::string("MemorySmallWindow");
                             case Transport::kPosix: return std::string("Posix");
                           }
                           return std::string("?");
                         });

// ---- virtual time only ---------------------------------------------------------

// Above high water the machine is told to hold back, once; at low water it
// may write again; the queue drains in order.
TEST(HostInMemory, WatermarksBlockAboveHighAndReleaseAtLow) {
  MemoryWorld world(1000);
  StreamEcho reader;
  reader.echo = false;
  const HostId server = world.AddHost(nullptr, &reader);
  const Endpoint server_ep = world.Listen(server);
  world.SetReading(server, false);

  Writer writer(server_ep, 10, 1000, false);
  std::vector<std::pair<char, size_t>> hooks;
  Host::Options options;
  options.high_water = 5000;
  options.low_water = 2000;
  HostId client = 0;
  options.on_write_blocked = [&](Timestamp, ConnectionId conn) {
    hooks.push_back({'b', world.PendingOutput(client, conn)});
  };
  options.on_writable = [&](Timestamp, ConnectionId conn) {
    hooks.push_back({'w', world.PendingOutput(client, conn)});
  };
  client = world.AddHost(nullptr, &writer, {}, options);
  world.Drain(client);
  ASSERT_TRUE(world.RunUntil([&] { return writer.connected == 1; }));
  world.RunUntil([] { return false; }, Duration::Seconds(10));
  // 1000 bytes sit in the window, 9000 wait: blocked once, at 9000 pending
  // (the hook runs after the connect, with everything queued).
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0], std::make_pair('b', size_t{9000}));
  EXPECT_EQ(world.StatsOf(client).write_blocked, 1u);

  world.SetReading(server, true);
  ASSERT_TRUE(world.RunUntil([&] { return reader.received.size() == 10000; }));
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[1].first, 'w');
  EXPECT_LE(hooks[1].second, 2000u);
  EXPECT_EQ(reader.received, writer.Expected());
  EXPECT_EQ(world.PendingOutput(client, 1), 0u);
}

// A big write does not keep its buffer: once the socket has taken a quarter
// of it, the rest moves to a buffer of its own size, and once the socket has
// taken everything the buffer goes (here to the recycle hook) at once, not at
// the connection's next write. A server that writes a netmap to each of a
// thousand members would otherwise keep a thousand of them.
TEST(HostInMemory, ABigWriteLeavesNoBigBufferBehind) {
  for (const size_t window : {MemoryWorld::kNoWindow, size_t{150000}}) {
    SCOPED_TRACE(window);
    MemoryWorld world(window);
    StreamEcho reader;
    reader.echo = false;
    const HostId server = world.AddHost(nullptr, &reader);
    const Endpoint server_ep = world.Listen(server);
    world.SetReading(server, false);
    Writer writer(server_ep, 1, 400000, false);
    std::vector<std::pair<size_t, size_t>> recycled;  // (capacity, pending then)
    Host::Options options;
    HostId client = 0;
    options.recycle = [&](Bytes&& spare) {
      recycled.push_back({spare.capacity(), world.PendingOutput(client, 1)});
    };
    client = world.AddHost(nullptr, &writer, {}, options);
    world.Drain(client);
    ASSERT_TRUE(world.RunUntil([&] { return writer.connected == 1; }));
    ASSERT_EQ(recycled.size(), 1u);
    EXPECT_GE(recycled[0].first, 400000u);
    if (window == MemoryWorld::kNoWindow) {
      // Taken whole: the buffer went as soon as it was empty.
      EXPECT_EQ(recycled[0].second, 0u);
    } else {
      // The socket took 150,000: the rest waits in a buffer of its size.
      EXPECT_EQ(recycled[0].second, 250000u);
    }
    world.SetReading(server, true);
    ASSERT_TRUE(world.RunUntil([&] { return reader.received.size() == 400000; }));
    EXPECT_EQ(reader.received, writer.Expected());
    EXPECT_EQ(world.PendingOutput(client, 1), 0u);
    // Every later buffer was smaller than the one before; the last went when
    // it drained, or was small enough to keep.
    for (size_t k = 1; k < recycled.size(); ++k) {
      EXPECT_LT(recycled[k].first, recycled[k - 1].first);
      EXPECT_GT(recycled[k].first, Host::kKeptOutputCapacity);
    }
    if (window != MemoryWorld::kNoWindow) {
      EXPECT_GE(recycled.size(), 2u);
    }
  }
}

// Unsent output beyond max_output closes the connection as an error.
TEST(HostInMemory, OutputBeyondTheBoundClosesTheConnection) {
  MemoryWorld world(100);
  StreamEcho reader;
  reader.echo = false;
  const HostId server = world.AddHost(nullptr, &reader);
  const Endpoint server_ep = world.Listen(server);
  world.SetReading(server, false);
  Writer writer(server_ep, 1, 0, false);
  Host::Options options;
  options.max_output = 5000;
  const HostId client = world.AddHost(nullptr, &writer, {}, options);
  world.Drain(client);
  ASSERT_TRUE(world.RunUntil([&] { return writer.connected == 1; }));
  writer.Queue(StreamAction::Write(1, Bytes(6000, 1)));
  world.Drain(client);
  EXPECT_EQ(writer.closed, std::vector<ConnectionId>{1});
  EXPECT_EQ(world.StatsOf(client).closed_output_overflow, 1u);
  ASSERT_FALSE(world.closes(client).empty());
  EXPECT_EQ(world.closes(client).back().second, CloseReason::kOutputOverflow);
}

// A command given inside the events callback (Drain() from there) repeats the
// round, and the one timer is armed once per input, at the end.
TEST(HostInMemory, EventsCallbackCommandsRepeatTheRoundAndTheTimerIsArmedOnce) {
  MemoryWorld world;
  StreamEcho echo;
  const HostId server = world.AddHost(nullptr, &echo);
  const Endpoint server_ep = world.Listen(server);
  Bridge bridge(server_ep, world.Now() + Duration::Seconds(5));
  HostId host = 0;
  int rounds = 0;
  const HostId h = world.AddHost(&bridge, &bridge, [&] {
    // The first round's events make one more datagram's worth of work.
    if (++rounds == 1) {
      bridge.HandleDatagram(world.Now(), Endpoint(), Endpoint(), B("from the events"));
      world.Drain(host);
    }
  });
  host = h;
  world.Drain(host);
  EXPECT_EQ(rounds, 4);  // two rounds (events twice per round: both faces)
  EXPECT_EQ(world.arms(host), 1u);
  EXPECT_EQ(world.timer(host), world.Now() + Duration::Seconds(5));
  EXPECT_EQ(world.StatsOf(host).connects_started, 1u);
  ASSERT_TRUE(world.RunUntil([&] { return echo.read > 0; }));
  EXPECT_EQ(bridge.connected, 1);
  EXPECT_EQ(echo.received, B("from the events"));
}

// Logs every poll the host makes: "T" PollTransmit, "A" PollStreamAction,
// "E" the events callback. Produces nothing.
class PollLog final : public DatagramMachine, public StreamMachine {
 public:
  void HandleDatagram(Timestamp, const Endpoint&, const Endpoint&, ByteView) override {}
  void HandleConnected(Timestamp, ConnectionId, const Endpoint&) override {}
  void HandleStream(Timestamp, ConnectionId, ByteView) override {}
  void HandleClosed(Timestamp, ConnectionId) override {}
  void HandleTimeout(Timestamp) override { wake.reset(); }
  std::optional<Transmit> PollTransmit() override {
    log += "T";
    return std::nullopt;
  }
  std::optional<StreamAction> PollStreamAction() override {
    log += "A";
    return std::nullopt;
  }
  std::optional<Timestamp> PollTimeout() const override { return wake; }
  std::string Take() { return std::exchange(log, std::string()); }
  std::string log;
  std::optional<Timestamp> wake;
};

// The drain order of a machine of both shapes: the side that had the input
// first, events, the other side, events, then the stream side again; a timer drains the
// side opposite to the one whose drain armed it (what two hosts did).
TEST(HostInMemory, DrainOrderFollowsTheInputAndTheTimerTheOtherSide) {
  MemoryWorld world;
  PollLog m;
  const HostId h = world.AddHost(&m, &m, [&] { m.log += "E"; });
  Host& host = world.HostOf(h);
  m.wake = world.Now() + Duration::Millis(5);
  host.OnDatagram(world.Now(), Endpoint(), Endpoint(), B("x"));
  EXPECT_EQ(m.Take(), "TEAEA");
  world.RunUntil([&] { return !m.wake; });
  EXPECT_EQ(m.Take(), "AETEA");

  const ConnectionId conn = host.Accept(Endpoint());
  host.OnConnected(world.Now(), conn);
  EXPECT_EQ(m.Take(), "AETEA");
  m.wake = world.Now() + Duration::Millis(5);
  host.OnStream(world.Now(), conn, B("y"));
  EXPECT_EQ(m.Take(), "AETEA");
  world.RunUntil([&] { return !m.wake; });
  EXPECT_EQ(m.Take(), "TEAEA");
  // A command: the datagram side first.
  host.Drain();
  EXPECT_EQ(m.Take(), "TEAEA");
}

// Accepted connections are numbered from kFirstAcceptedId up; a connect to a
// machine id already in use and a write to an unknown id are counted.
TEST(HostInMemory, AcceptedIdsCountUpAndBadActionsAreCounted) {
  MemoryWorld world;
  StreamEcho echo;
  const HostId server = world.AddHost(nullptr, &echo);
  const Endpoint server_ep = world.Listen(server);
  Writer a(server_ep, 0, 0, false);
  Writer b(server_ep, 0, 0, false);
  const HostId ha = world.AddHost(nullptr, &a);
  const HostId hb = world.AddHost(nullptr, &b);
  world.Drain(ha);
  world.Drain(hb);
  ASSERT_TRUE(world.RunUntil([&] { return a.connected == 1 && b.connected == 1; }));
  EXPECT_EQ(echo.accepted, (std::vector<ConnectionId>{Host::kFirstAcceptedId,
                                                      Host::kFirstAcceptedId + 1}));
  a.Queue(StreamAction::Connect(1, server_ep));
  a.Queue(StreamAction::Write(99, B("x")));
  world.Drain(ha);
  EXPECT_EQ(world.StatsOf(ha).bad_actions, 2u);
}

}  // namespace
}  // namespace punchlab::hosts::testing
