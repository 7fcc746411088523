// Host on loopback TCP: connect, accept, large writes that the kernel
// takes only in part, close after flush, EOF and refused connects.
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "support/raw-stream.h"

namespace punchlab::realio {
namespace {

const Duration kBound = Duration::Seconds(10);

using testsupport::RawStream;

// Echoes every byte back on the connection it came from (keeping none).
void Echo(RawStream& s) {
  s.keep_received = false;
  s.on_stream = [&s](ConnectionId conn, ByteView bytes) { s.Write(conn, bytes.ToBytes()); };
}

// Greets every connection, then closes it at once: the greeting must still
// arrive whole, since the host closes only after flushing.
void GreetAndClose(RawStream& s, size_t size) {
  s.on_connected = [&s, size](ConnectionId conn) {
    s.Write(conn, Bytes(size, 0x5a));
    s.Close(conn, "done");
  };
}

// Connects as id 1, sends `payload` once connected, collects what comes back
// (received[1]) and, if asked, closes once all of it has.
void Client(RawStream& s, const Endpoint& server, Bytes payload, bool close_when_echoed) {
  s.Connect(1, server);
  const size_t size = payload.size();
  s.on_connected = [&s, payload = std::move(payload)](ConnectionId conn) {
    if (!payload.empty()) s.Write(conn, payload);
  };
  if (close_when_echoed) {
    s.on_stream = [&s, size](ConnectionId conn, ByteView) {
      if (s.received[conn].size() == size) s.Close(conn, "done");
    };
  }
}

Bytes Pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 7 + i / 251) & 0xff);
  return b;
}

const Endpoint kLoopbackAnyPort(IpAddress::V4(127, 0, 0, 1), 0);

TEST(StreamHost, EchoesSixteenMegabytesThroughPartialWritesThenSeesEof) {
  EventLoop loop;
  RawStream server;
  Echo(server);
  Host server_host(loop, server, [&] {
    if (!server.closed.empty()) loop.Stop();
  });
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);
  ASSERT_NE(listening.port, 0);

  const Bytes payload = Pattern(16 << 20);
  RawStream client;
  Client(client, listening, payload, /*close_when_echoed=*/true);
  size_t most_pending = 0;
  Host* client_host_ptr = nullptr;
  Host client_host(loop, client, [&] {
    most_pending = std::max(most_pending, client_host_ptr->PendingOutput(1));
  });
  client_host_ptr = &client_host;
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(client.connected, std::set<ConnectionId>{1});
  ASSERT_EQ(client.received[1].size(), payload.size());
  EXPECT_TRUE(client.received[1] == payload);
  // One loop thread writes both directions, so the kernel cannot have taken
  // 16 MiB at once: the host buffered and resumed partial writes.
  EXPECT_GT(most_pending, 0u);
  // The server saw the connection under a host-assigned id, and the client's
  // close as EOF.
  ASSERT_EQ(server.connected.size(), 1u);
  EXPECT_GE(*server.connected.begin(), Host::kFirstAcceptedId);
  EXPECT_EQ(server.closed, server.connected);
  EXPECT_EQ(server.remotes.begin()->second.ip, kLoopbackAnyPort.ip);
  EXPECT_EQ(client.closed.size(), 0u);  // it closed itself: no HandleClosed
  EXPECT_EQ(server_host.stats().closed_by_peer, 1u);
  EXPECT_EQ(client_host.stats().closed_by_machine, 1u);
  EXPECT_EQ(client_host.ConnectionCount(), 0u);
  EXPECT_EQ(server_host.ConnectionCount(), 0u);
}

// Echoes like Echo, but builds every write in a buffer the host gave back,
// so a buffer handed back while still in use would garble the echo.
struct RecyclingEcho {
  RecyclingEcho() {
    raw.keep_received = false;
    raw.on_stream = [this](ConnectionId conn, ByteView bytes) {
      Bytes out;
      if (!spares.empty()) {
        out = std::move(spares.back());
        spares.pop_back();
        ++reused;
      }
      out.assign(bytes.begin(), bytes.end());
      raw.Write(conn, std::move(out));
      ++writes;
    };
  }
  void Recycle(Bytes&& spare) {
    if (!spare.empty() || spare.capacity() == 0) ++bad_spares;
    spares.push_back(std::move(spare));
  }

  RawStream raw;
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
      loop, server.raw, [&] { if (!server.raw.closed.empty()) loop.Stop(); }, std::move(options));
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);

  const Bytes payload = Pattern(16 << 20);
  RawStream client;
  Client(client, listening, payload, /*close_when_echoed=*/true);
  Host client_host(loop, client);
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  ASSERT_EQ(client.received[1].size(), payload.size());
  EXPECT_TRUE(client.received[1] == payload);
  EXPECT_EQ(server.bad_spares, 0u);  // empty, memory kept
  // Every write's buffer came back but the last one's (freed with the
  // connection), and they were used again.
  EXPECT_GT(server.writes, 10u);
  EXPECT_GE(server.reused + server.spares.size() + 1, server.writes);
  EXPECT_GT(server.reused, server.writes / 2);
}

TEST(StreamHost, CloseAfterWriteDeliversEverythingBeforeEof) {
  EventLoop loop;
  RawStream server;
  GreetAndClose(server, 4 << 20);
  Host server_host(loop, server);
  const Endpoint listening = server_host.Listen(kLoopbackAnyPort);

  RawStream client;
  Client(client, listening, {}, false);
  Host client_host(loop, client, [&] {
    if (!client.closed.empty()) loop.Stop();
  });
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(client.received[1], Bytes(4 << 20, 0x5a));
  EXPECT_EQ(client.closed, std::set<ConnectionId>{1});
  EXPECT_EQ(client_host.stats().closed_by_peer, 1u);
  EXPECT_EQ(server.closed.size(), 0u);
}

TEST(StreamHost, RefusedConnectIsReportedAsClosed) {
  EventLoop loop;
  Endpoint unused;
  {
    // Learn a free port, then stop listening on it.
    RawStream nobody;
    Host probe(loop, nobody);
    unused = probe.Listen(kLoopbackAnyPort);
  }
  RawStream client;
  Client(client, unused, Bytes{1, 2, 3}, false);
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
  RawStream machine;
  Host host(loop, machine);
  machine.Write(42, Bytes{1});
  machine.Close(43);
  host.Drain();
  EXPECT_EQ(host.stats().bad_actions, 2u);
}

}  // namespace
}  // namespace punchlab::realio
