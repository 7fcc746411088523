// Host flow control on loopback TCP: the blocked / writable hooks
// around the high- and low-water marks, the bound on unsent output, and the
// clock offset a machine can run on.
#include <gtest/gtest.h>

#include <vector>

#include "loopback-helpers.h"

namespace punchlab::realio {
namespace {

// Writes `size` bytes to every connection it accepts, in one action.
class Blaster final : public StreamMachine {
 public:
  explicit Blaster(size_t size) : size_(size) {}
  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint&) override {
    connected_at = now;
    conn_ = conn;
    pending_ = StreamAction::Write(conn, Bytes(size_, 0xa5));
  }
  void HandleStream(Timestamp, ConnectionId, ByteView) override {}
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.push_back(conn); }
  void HandleTimeout(Timestamp now) override {
    timeouts.push_back(now);
    wake_at.reset();
  }
  std::optional<StreamAction> PollStreamAction() override {
    std::optional<StreamAction> a = std::move(pending_);
    pending_.reset();
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override { return wake_at; }

  std::optional<Timestamp> connected_at;
  std::optional<Timestamp> wake_at;
  std::vector<Timestamp> timeouts;
  std::vector<ConnectionId> closed;

 private:
  size_t size_;
  ConnectionId conn_ = 0;
  std::optional<StreamAction> pending_;
};

struct HookLog {
  std::vector<std::pair<char, size_t>> calls;  // 'b' / 'w', pending output at the call
};

Host::Options Hooked(HookLog& log, Host*& host, size_t high, size_t low) {
  Host::Options options;
  options.high_water = high;
  options.low_water = low;
  options.on_write_blocked = [&log, &host](Timestamp, ConnectionId conn) {
    log.calls.push_back({'b', host->PendingOutput(conn)});
  };
  options.on_writable = [&log, &host](Timestamp, ConnectionId conn) {
    log.calls.push_back({'w', host->PendingOutput(conn)});
  };
  return options;
}

TEST(StreamHostFlow, BlockedAboveHighWaterThenWritableAtLowWater) {
  EventLoop loop;
  constexpr size_t kSize = 32 << 20;  // more than loopback's socket buffers hold
  Blaster blaster(kSize);
  HookLog log;
  Host* host_ptr = nullptr;
  Host host(loop, blaster, {}, Hooked(log, host_ptr, 256 << 10, 64 << 10));
  host_ptr = &host;
  const Endpoint at = host.Listen(kLoopbackAnyPort);

  ScriptedPeer reader(loop, at);
  ASSERT_TRUE(RunUntil(loop, [&] { return reader.received().size() == kSize; }));
  EXPECT_TRUE(reader.received() == Bytes(kSize, 0xa5));
  ASSERT_EQ(log.calls.size(), 2u);
  EXPECT_EQ(log.calls[0].first, 'b');
  EXPECT_GT(log.calls[0].second, size_t{256} << 10);
  EXPECT_EQ(log.calls[1].first, 'w');
  EXPECT_LE(log.calls[1].second, size_t{64} << 10);
  EXPECT_EQ(host.stats().write_blocked, 1u);
  EXPECT_TRUE(blaster.closed.empty());
}

TEST(StreamHostFlow, NoHooksNoCallsButTheSameBytes) {
  EventLoop loop;
  constexpr size_t kSize = 8 << 20;
  Blaster blaster(kSize);
  HookLog log;
  Host* host_ptr = nullptr;
  Host::Options options = Hooked(log, host_ptr, 1024, 0);
  options.on_writable = nullptr;  // one hook alone is no flow control
  Host host(loop, blaster, {}, std::move(options));
  host_ptr = &host;
  ScriptedPeer reader(loop, host.Listen(kLoopbackAnyPort));
  ASSERT_TRUE(RunUntil(loop, [&] { return reader.received().size() == kSize; }));
  EXPECT_TRUE(log.calls.empty());
  EXPECT_EQ(host.stats().write_blocked, 0u);
}

TEST(StreamHostFlow, OutputBeyondTheBoundClosesTheConnection) {
  EventLoop loop;
  Blaster blaster(8 << 20);
  Host::Options options;
  options.max_output = 1 << 20;
  Host host(loop, blaster, {}, std::move(options));
  ScriptedPeer peer(loop, host.Listen(kLoopbackAnyPort));
  ASSERT_TRUE(RunUntil(loop, [&] { return peer.closed() && !blaster.closed.empty(); }));
  EXPECT_EQ(host.stats().closed_output_overflow, 1u);
  EXPECT_EQ(host.ConnectionCount(), 0u);
  // The kernel took at most what its buffers hold; the rest was never queued.
  EXPECT_LT(peer.received().size(), size_t{8} << 20);
}

TEST(StreamHostFlow, ClockOffsetShiftsTheMachinesTimeNotTheTimers) {
  EventLoop loop;
  Blaster blaster(1);
  const Duration offset = Duration::Seconds(1000000);
  Host::Options options;
  options.clock_offset = offset;
  Host host(loop, blaster, {}, std::move(options));
  ScriptedPeer peer(loop, host.Listen(kLoopbackAnyPort));
  ASSERT_TRUE(RunUntil(loop, [&] { return blaster.connected_at.has_value(); }));
  const Duration skew = *blaster.connected_at - (MonotonicNow() + offset);
  EXPECT_LE(skew, Duration::Zero());
  EXPECT_GT(skew, Duration::Seconds(-1));

  // A timeout 50 ms ahead on the machine's clock fires 50 ms from now.
  const Timestamp started = MonotonicNow();
  blaster.wake_at = MonotonicNow() + offset + Duration::Millis(50);
  host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] { return !blaster.timeouts.empty(); }, Duration::Seconds(5)));
  EXPECT_GE(MonotonicNow() - started, Duration::Millis(50));
  EXPECT_GE(blaster.timeouts[0], MonotonicNow() + offset - Duration::Seconds(1));
}

}  // namespace
}  // namespace punchlab::realio
