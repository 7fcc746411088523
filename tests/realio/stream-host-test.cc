// Host on loopback TCP: connect, accept, large writes that the kernel
// takes only in part, close after flush, EOF and refused connects.
#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"

namespace punchlab::realio {
namespace {

const Duration kBound = Duration::Seconds(10);

class QueueMachine : public StreamMachine {
 public:
  void HandleTimeout(Timestamp) override {}
  std::optional<StreamAction> PollStreamAction() override {
    if (actions.empty()) return std::nullopt;
    StreamAction a = std::move(actions.front());
    actions.pop_front();
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override { return std::nullopt; }

  void Write(ConnectionId conn, Bytes data) {
    StreamAction a;
    a.kind = StreamAction::Kind::kWrite;
    a.conn = conn;
    a.data = std::move(data);
    actions.push_back(std::move(a));
  }
  void Close(ConnectionId conn) {
    StreamAction a;
    a.kind = StreamAction::Kind::kClose;
    a.conn = conn;
    a.reason = "done";
    actions.push_back(std::move(a));
  }
  void Connect(ConnectionId conn, const Endpoint& remote) {
    StreamAction a;
    a.kind = StreamAction::Kind::kConnect;
    a.conn = conn;
    a.remote = remote;
    actions.push_back(std::move(a));
  }

  std::deque<StreamAction> actions;
  std::set<ConnectionId> connected;
  std::set<ConnectionId> closed;
  std::vector<Endpoint> remotes;
};

// Echoes every byte back on the connection it came from.
class EchoServer final : public QueueMachine {
 public:
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint& remote) override {
    connected.insert(conn);
    remotes.push_back(remote);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    Write(conn, bytes.ToBytes());
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.insert(conn); }
};

// Greets every connection, then closes it at once: the greeting must still
// arrive whole, since the host closes only after flushing.
class GreetAndClose final : public QueueMachine {
 public:
  explicit GreetAndClose(size_t size) : size_(size) {}
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    connected.insert(conn);
    Write(conn, Bytes(size_, 0x5a));
    Close(conn);
  }
  void HandleStream(Timestamp, ConnectionId, ByteView) override {}
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.insert(conn); }

 private:
  size_t size_;
};

// Connects as id 1, sends `payload` once connected, collects what comes back.
class Client final : public QueueMachine {
 public:
  Client(Endpoint server, Bytes payload, bool close_when_echoed)
      : payload_(std::move(payload)), close_when_echoed_(close_when_echoed) {
    Connect(1, server);
  }
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint& remote) override {
    connected.insert(conn);
    remotes.push_back(remote);
    if (!payload_.empty()) Write(conn, payload_);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    received.insert(received.end(), bytes.begin(), bytes.end());
    if (close_when_echoed_ && received.size() == payload_.size()) Close(conn);
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.insert(conn); }

  Bytes received;

 private:
  Bytes payload_;
  bool close_when_echoed_;
};

Bytes Pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 7 + i / 251) & 0xff);
  return b;
}

const Endpoint kLoopbackAnyPort(IpAddress::V4(127, 0, 0, 1), 0);

TEST(StreamHost, EchoesSixteenMegabytesThroughPartialWritesThenSeesEof) {
  EventLoop loop;
  EchoServer server;
  Host server_host(loop, server, [&] {
    if (!server.closed.empty()) loop.Stop();
  });
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);
  ASSERT_NE(listening.port, 0);

  const Bytes payload = Pattern(16 << 20);
  Client client(listening, payload, /*close_when_echoed=*/true);
  size_t most_pending = 0;
  Host* client_host_ptr = nullptr;
  Host client_host(loop, client, [&] {
    most_pending = std::max(most_pending, client_host_ptr->PendingOutput(1));
  });
  client_host_ptr = &client_host;
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(client.connected, std::set<ConnectionId>{1});
  ASSERT_EQ(client.received.size(), payload.size());
  EXPECT_TRUE(client.received == payload);
  // One loop thread writes both directions, so the kernel cannot have taken
  // 16 MiB at once: the host buffered and resumed partial writes.
  EXPECT_GT(most_pending, 0u);
  // The server saw the connection under a host-assigned id, and the client's
  // close as EOF.
  ASSERT_EQ(server.connected.size(), 1u);
  EXPECT_GE(*server.connected.begin(), Host::kFirstAcceptedId);
  EXPECT_EQ(server.closed, server.connected);
  EXPECT_EQ(server.remotes.at(0).ip, kLoopbackAnyPort.ip);
  EXPECT_EQ(client.closed.size(), 0u);  // it closed itself: no HandleClosed
  EXPECT_EQ(server_host.stats().closed_by_peer, 1u);
  EXPECT_EQ(client_host.stats().closed_by_machine, 1u);
  EXPECT_EQ(client_host.ConnectionCount(), 0u);
  EXPECT_EQ(server_host.ConnectionCount(), 0u);
}

// Echoes like EchoServer, but builds every write in a buffer the host gave
// back, so a buffer handed back while still in use would garble the echo.
class RecyclingEcho final : public QueueMachine {
 public:
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    connected.insert(conn);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    Bytes out;
    if (!spares.empty()) {
      out = std::move(spares.back());
      spares.pop_back();
      ++reused;
    }
    out.assign(bytes.begin(), bytes.end());
    Write(conn, std::move(out));
    ++writes;
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.insert(conn); }
  void Recycle(Bytes&& spare) {
    if (!spare.empty() || spare.capacity() == 0) ++bad_spares;
    spares.push_back(std::move(spare));
  }

  std::vector<Bytes> spares;
  size_t writes = 0;
  size_t reused = 0;
  size_t bad_spares = 0;
};

TEST(StreamHost, HandsBackWriteBuffersOnlyOnceItIsDoneWithThem) {
  EventLoop loop;
  RecyclingEcho server;
  Host::Options options;
  options.recycle = [&](Bytes&& spare) { server.Recycle(std::move(spare)); };
  Host server_host(
      loop, server, [&] { if (!server.closed.empty()) loop.Stop(); }, std::move(options));
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);

  const Bytes payload = Pattern(16 << 20);
  Client client(listening, payload, /*close_when_echoed=*/true);
  Host client_host(loop, client);
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  ASSERT_EQ(client.received.size(), payload.size());
  EXPECT_TRUE(client.received == payload);
  EXPECT_EQ(server.bad_spares, 0u);  // empty, memory kept
  // Every write's buffer came back but the last one's (freed with the
  // connection), and they were used again.
  EXPECT_GT(server.writes, 10u);
  EXPECT_GE(server.reused + server.spares.size() + 1, server.writes);
  EXPECT_GT(server.reused, server.writes / 2);
}

TEST(StreamHost, CloseAfterWriteDeliversEverythingBeforeEof) {
  EventLoop loop;
  GreetAndClose server(4 << 20);
  Host server_host(loop, server);
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);

  Client client(listening, {}, false);
  Host client_host(loop, client, [&] {
    if (!client.closed.empty()) loop.Stop();
  });
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(client.received, Bytes(4 << 20, 0x5a));
  EXPECT_EQ(client.closed, std::set<ConnectionId>{1});
  EXPECT_EQ(client_host.stats().closed_by_peer, 1u);
  EXPECT_EQ(server.closed.size(), 0u);
}

TEST(StreamHost, RefusedConnectIsReportedAsClosed) {
  EventLoop loop;
  Endpoint unused;
  {
    // Learn a free port, then stop listening on it.
    EchoServer nobody;
    Host probe(loop, nobody);
    unused = probe.Listen(kLoopbackAnyPort);
  }
  Client client(unused, Bytes{1, 2, 3}, false);
  Host client_host(loop, client, [&] {
    if (!client.closed.empty()) loop.Stop();
  });
  client_host.Drain();
  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(client.closed, std::set<ConnectionId>{1});
  EXPECT_TRUE(client.connected.empty());
  EXPECT_EQ(client_host.stats().connects_failed, 1u);
  EXPECT_EQ(client_host.stats().last_error, ECONNREFUSED);
}

TEST(StreamHost, ActionsForUnknownConnectionsAreCountedNotFatal) {
  EventLoop loop;
  EchoServer machine;
  Host host(loop, machine);
  machine.Write(42, Bytes{1});
  machine.Close(43);
  host.Drain();
  EXPECT_EQ(host.stats().bad_actions, 2u);
}

}  // namespace
}  // namespace punchlab::realio
