// Host and EventLoop on loopback sockets: real datagrams, real time,
// every wait bounded by a loop deadline.
#include <gtest/gtest.h>

#include <csignal>
#include <deque>

#include "punchlab/stun/client.h"
#include "punchlab/stun/server.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/socket-error.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"
#include "support/queued-datagram.h"

namespace punchlab::realio {
namespace {

const Duration kBound = Duration::Seconds(5);

// Answers every datagram with "echo:" + payload, from the address it arrived
// on, and remembers what `local` each one reported.
class EchoMachine final : public testsupport::QueuedDatagramMachine {
 public:
  void HandleDatagram(Timestamp, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override {
    locals.push_back(local);
    Bytes reply = {'e', 'c', 'h', 'o', ':'};
    reply.insert(reply.end(), payload.begin(), payload.end());
    Queue(Transmit{local, remote, reply});
  }
  std::vector<Endpoint> locals;
};

// Sends one datagram at start (and again from every timeout, until answered),
// records the answer and where it came from.
class PingMachine final : public DatagramMachine {
 public:
  PingMachine(Endpoint local, Endpoint peer) : local_(local), peer_(peer) {}
  void Start(Timestamp now) { Send(now); }
  void HandleDatagram(Timestamp, const Endpoint&, const Endpoint& remote,
                      ByteView payload) override {
    answer = payload.ToBytes();
    answered_by = remote;
    next_.reset();
  }
  void HandleTimeout(Timestamp now) override {
    ++timeouts;
    Send(now);
  }
  std::optional<Transmit> PollTransmit() override {
    if (out.empty()) return std::nullopt;
    Transmit t = out.front();
    out.pop_front();
    return t;
  }
  std::optional<Timestamp> PollTimeout() const override { return next_; }

  std::optional<Bytes> answer;
  Endpoint answered_by;
  int timeouts = 0;
  std::deque<Transmit> out;

 private:
  void Send(Timestamp now) {
    out.push_back(Transmit{local_, peer_, Bytes{'h', 'i'}});
    next_ = now + Duration::Millis(50);
  }
  Endpoint local_, peer_;
  std::optional<Timestamp> next_;
};

Endpoint Loopback(uint8_t last, uint16_t port = 0) {
  return Endpoint(IpAddress::V4(127, 0, 0, last), port);
}

TEST(UdpSocket, BindReportsTheActualPortAndFailsLoudly) {
  UdpSocket a = UdpSocket::Bind(Loopback(1));
  EXPECT_EQ(a.local().ip, IpAddress::V4(127, 0, 0, 1));
  EXPECT_NE(a.local().port, 0);
  EXPECT_FALSE(a.is_wildcard());
  try {
    UdpSocket::Bind(a.local());
    FAIL() << "binding the same endpoint twice must throw";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.error(), EADDRINUSE);
    EXPECT_NE(std::string(e.what()).find(a.local().ToString()), std::string::npos) << e.what();
  }
}

TEST(DatagramHost, EchoesBetweenTwoMachinesAndReportsEndpoints) {
  EventLoop loop;
  EchoMachine echo;
  Host echo_host(loop, echo);
  echo_host.AddSocket(UdpSocket::Bind(Loopback(1)));
  const Endpoint echo_at = echo_host.LocalEndpoints().at(0);

  UdpSocket ping_socket = UdpSocket::Bind(Loopback(1));
  PingMachine ping(ping_socket.local(), echo_at);
  const Endpoint ping_at = ping_socket.local();
  Host ping_host(loop, ping, [&] {
    if (ping.answer) loop.Stop();
  });
  ping_host.AddSocket(std::move(ping_socket));
  ping.Start(MonotonicNow());
  ping_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  ASSERT_TRUE(ping.answer);
  EXPECT_EQ(*ping.answer, (Bytes{'e', 'c', 'h', 'o', ':', 'h', 'i'}));
  EXPECT_EQ(ping.answered_by, echo_at);
  ASSERT_FALSE(echo.locals.empty());
  EXPECT_EQ(echo.locals.front(), echo_at);
  EXPECT_GE(echo_host.stats().datagrams_received, 1u);
  EXPECT_GE(ping_host.stats().datagrams_sent, 1u);
  EXPECT_EQ(ping_at.port, ping_host.LocalEndpoints().at(0).port);
}

TEST(DatagramHost, WildcardSocketLearnsAndAnswersFromTheAddressHit) {
  // 127.0.0.0/8 is all loopback: 127.0.0.2 reaches a socket bound to 0.0.0.0.
  EventLoop loop;
  EchoMachine echo;
  Host echo_host(loop, echo);
  echo_host.AddSocket(UdpSocket::Bind(Endpoint(IpAddress(), 0)));
  const uint16_t port = echo_host.LocalEndpoints().at(0).port;
  ASSERT_TRUE(echo_host.LocalEndpoints().at(0).ip.IsUnspecified());

  UdpSocket ping_socket = UdpSocket::Bind(Loopback(1));
  PingMachine ping(ping_socket.local(), Loopback(2, port));
  Host ping_host(loop, ping, [&] {
    if (ping.answer) loop.Stop();
  });
  ping_host.AddSocket(std::move(ping_socket));
  ping.Start(MonotonicNow());
  ping_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  ASSERT_FALSE(echo.locals.empty());
  EXPECT_EQ(echo.locals.front(), Loopback(2, port));
  // The answer left from 127.0.0.2, not from whatever the kernel would pick.
  EXPECT_EQ(ping.answered_by, Loopback(2, port));
  EXPECT_EQ(echo_host.stats().no_source_socket, 0u);
}

TEST(DatagramHost, TimersFireAndTransmitsFromUnknownSourcesAreCounted) {
  EventLoop loop;
  // Nobody listens on the peer port, so the machine keeps timing out.
  UdpSocket socket = UdpSocket::Bind(Loopback(1));
  UdpSocket silent = UdpSocket::Bind(Loopback(1));
  PingMachine ping(socket.local(), silent.local());
  Host host(loop, ping, [&] {
    if (ping.timeouts >= 3) loop.Stop();
  });
  host.AddSocket(std::move(socket));
  ping.Start(MonotonicNow());
  host.Drain();
  const Timestamp start = MonotonicNow();
  ASSERT_EQ(loop.Run(start + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(ping.timeouts, 3);
  // Three 50 ms timers: never early.
  EXPECT_GE(MonotonicNow() - start, Duration::Millis(150));

  PingMachine stray(Loopback(1, 9), silent.local());  // a source no socket has
  Host stray_host(loop, stray);
  stray.Start(MonotonicNow());
  stray_host.Drain();
  EXPECT_EQ(stray_host.stats().no_source_socket, 1u);
}

TEST(EventLoop, DeadlineEndsAnIdleLoop) {
  EventLoop loop;
  const Timestamp start = MonotonicNow();
  EXPECT_EQ(loop.Run(start + Duration::Millis(30)), EventLoop::StopReason::kDeadline);
  EXPECT_GE(MonotonicNow() - start, Duration::Millis(30));
  EXPECT_LT(MonotonicNow() - start, kBound);
}

TEST(EventLoop, StopBeforeRunWinsAndTimersCanBeDisarmed) {
  EventLoop loop;
  int fired = 0;
  const auto a = loop.CreateTimer([&](Timestamp) { ++fired; });
  const auto b = loop.CreateTimer([&](Timestamp) { fired += 10; loop.Stop(); });
  loop.ArmTimer(a, MonotonicNow());
  loop.ArmTimer(a, std::nullopt);
  loop.ArmTimer(b, MonotonicNow() + Duration::Millis(5));
  EXPECT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  EXPECT_EQ(fired, 10);
  loop.Stop();
  EXPECT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
}

TEST(StopOnSignals, SigtermStopsTheLoopAndHandlersAreRestored) {
  EventLoop loop;
  {
    StopOnSignals stop(loop);
    const auto t = loop.CreateTimer([](Timestamp) { std::raise(SIGTERM); });
    loop.ArmTimer(t, MonotonicNow() + Duration::Millis(10));
    EXPECT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
    EXPECT_EQ(stop.received(), SIGTERM);
    // A signal that lands while the loop is not running still stops the next run.
    std::raise(SIGINT);
    EXPECT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
    EXPECT_EQ(stop.received(), SIGINT);
  }
  struct sigaction now {};
  ::sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(DatagramHost, HostsTheStunMachinesEndToEnd) {
  EventLoop loop;
  stun::StunServerConfig config;
  UdpSocket server_socket = UdpSocket::Bind(Loopback(1));
  config.primary = server_socket.local();
  stun::StunServer server(config);
  Host server_host(loop, server);
  server_host.AddSocket(std::move(server_socket));

  OsRandom rng;
  stun::StunClient client(rng);
  std::optional<stun::StunClientEvent> result;
  Host client_host(loop, client, [&] {
    while (auto ev = client.PollEvent()) {
      result = ev;
      loop.Stop();
    }
  });
  UdpSocket client_socket = UdpSocket::Bind(Loopback(1));
  const Endpoint client_at = client_socket.local();
  client_host.AddSocket(std::move(client_socket));
  client.StartBinding(MonotonicNow(), client_at, config.primary);
  client_host.Drain();

  ASSERT_EQ(loop.Run(MonotonicNow() + kBound), EventLoop::StopReason::kStopped);
  ASSERT_TRUE(result);
  const auto* ok = std::get_if<stun::StunSuccess>(&*result);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->mapped, client_at);
  EXPECT_EQ(server.stats().success_responses, 1u);
}

}  // namespace
}  // namespace punchlab::realio
