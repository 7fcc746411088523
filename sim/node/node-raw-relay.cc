// punchlab-node raw-relay: the baseline for derp-bench. Pairs TCP connections
// by a 16-byte hello (magic "PLRAWREL", pair id u64, both big-endian) and
// then forwards bytes between the two of a pair without looking at them: what
// this machine's loopback TCP and one poll(2) thread can relay at best. No
// keys, no framing, no copies beyond the one read buffer per direction; a
// direction stops reading while its partner's socket is full.
#include <sys/socket.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "punchlab/bytes.h"
#include "realio/event-loop.h"
#include "realio/monotonic-clock.h"
#include "realio/stop-on-signals.h"
#include "realio/tcp-socket.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

constexpr uint64_t kHelloMagic = 0x504c52415752454cULL;  // "PLRAWREL"
constexpr size_t kHelloSize = 16;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerWakeup = 16;

CommandSpec Spec() {
  CommandSpec spec{
      "raw-relay", "raw-relay --listen ADDR:PORT [--duration DURATION]",
      "Forwards bytes between pairs of TCP connections (paired by a 16-byte hello:\n"
      "\"PLRAWREL\" + pair id u64), untouched: the raw relay throughput that\n"
      "`derp-bench --raw` measures as a baseline for the DERP server. Prints one\n"
      "'raw-relay listening on ADDR:PORT' line when ready, one line of statistics\n"
      "to stderr when it stops (SIGINT, SIGTERM or --duration).",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("listen", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "TCP endpoint; port 0 picks a free one")
      ("duration", po::value<std::string>()->value_name("DURATION"), "stop after this long");
  return spec;
}

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

class RawRelay {
 public:
  struct Stats {
    uint64_t connections = 0;
    uint64_t pairs = 0;
    uint64_t bytes = 0;
    uint64_t bad_hellos = 0;
  };

  RawRelay(realio::EventLoop& loop, realio::TcpListener listener)
      : loop_(loop), listener_(std::move(listener)) {
    loop_.Watch(listener_.fd.get(), POLLIN, [this](short) { Accept(); });
  }
  ~RawRelay() {
    loop_.Unwatch(listener_.fd.get());
    for (const auto& [fd, c] : conns_) loop_.Unwatch(fd);
  }
  const Stats& stats() const { return stats_; }

 private:
  struct Conn {
    realio::UniqueFd fd;
    Bytes hello;
    Conn* partner = nullptr;
    // Read from this connection, not yet written to the partner.
    Bytes pending;
    size_t pending_sent = 0;
    size_t Pending() const { return pending.size() - pending_sent; }
  };

  void Accept() {
    for (;;) {
      Endpoint remote;
      int error = 0;
      realio::UniqueFd fd = realio::AcceptTcp(listener_.fd.get(), remote, error);
      if (!fd.valid()) return;  // EAGAIN, or a failure a benchmark need not survive
      ++stats_.connections;
      const int raw = fd.get();
      auto c = std::make_unique<Conn>();
      c->fd = std::move(fd);
      conns_[raw] = std::move(c);
      loop_.Watch(raw, POLLIN, [this, raw](short revents) { OnReady(raw, revents); });
    }
  }

  bool CanRead(const Conn& c) const {
    return c.hello.size() < kHelloSize || (c.partner && c.Pending() == 0);
  }

  void SetInterest(const Conn& c) {
    short events = CanRead(c) ? POLLIN : 0;
    if (c.partner && c.partner->Pending() > 0) events |= POLLOUT;
    loop_.SetEvents(c.fd.get(), events);
  }

  void OnReady(int fd, short revents) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    if ((revents & POLLOUT) && c.partner && !Forward(*c.partner)) return Close(c);
    if (revents & POLLIN) {
      if (!Read(c)) return Close(c);
    } else if (revents & (POLLERR | POLLHUP)) {
      return Close(c);
    }
    SetInterest(c);
    if (c.partner) SetInterest(*c.partner);
  }

  // false when the connection (or its pair) is done.
  bool Read(Conn& c) {
    for (int i = 0; i < kMaxReadsPerWakeup && CanRead(c); ++i) {
      if (c.hello.size() < kHelloSize) {
        const size_t have = c.hello.size();
        c.hello.resize(kHelloSize);
        const ssize_t n = ::recv(c.fd.get(), c.hello.data() + have, kHelloSize - have, MSG_DONTWAIT);
        c.hello.resize(have + (n > 0 ? static_cast<size_t>(n) : 0));
        if (n == 0) return false;
        if (n < 0) return WouldBlock(errno) || errno == EINTR;
        if (c.hello.size() == kHelloSize && !Pair(c)) return false;
        continue;
      }
      const ssize_t n = ::recv(c.fd.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n == 0) return false;
      if (n < 0) return WouldBlock(errno) || errno == EINTR;
      // Straight from the read buffer; only what the partner's socket does
      // not take now is copied aside.
      size_t sent = 0;
      if (!Send(*c.partner, buffer_.data(), static_cast<size_t>(n), sent)) return false;
      if (sent < static_cast<size_t>(n)) {
        c.pending.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(sent),
                         buffer_.begin() + n);
        c.pending_sent = 0;
      }
    }
    return true;
  }

  // Sends what the socket takes of [data, data + size); false on an error.
  bool Send(Conn& to, const uint8_t* data, size_t size, size_t& sent) {
    while (sent < size) {
      const ssize_t n =
          ::send(to.fd.get(), data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (WouldBlock(errno)) return true;
        if (errno == EINTR) continue;
        return false;
      }
      sent += static_cast<size_t>(n);
      stats_.bytes += static_cast<uint64_t>(n);
    }
    return true;
  }

  bool Pair(Conn& c) {
    ByteReader r(c.hello);
    uint64_t magic = 0;
    uint64_t id = 0;
    r.ReadU64(magic);
    r.ReadU64(id);
    if (magic != kHelloMagic) {
      ++stats_.bad_hellos;
      return false;
    }
    auto [it, inserted] = waiting_.emplace(id, &c);
    if (inserted) return true;
    c.partner = it->second;
    it->second->partner = &c;
    waiting_.erase(it);
    ++stats_.pairs;
    SetInterest(*c.partner);
    return true;
  }

  // Writes `from`'s pending bytes to its partner; false on a write error.
  bool Forward(Conn& from) {
    if (!Send(*from.partner, from.pending.data(), from.pending.size(), from.pending_sent)) {
      return false;
    }
    if (from.Pending() == 0) {
      from.pending.clear();
      from.pending_sent = 0;
    }
    return true;
  }

  // A pair lives and dies together.
  void Close(Conn& c) {
    Conn* partner = c.partner;
    Forget(c);
    if (partner) Forget(*partner);
  }

  void Forget(Conn& c) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (it->second == &c) {
        waiting_.erase(it);
        break;
      }
    }
    const int fd = c.fd.get();
    loop_.Unwatch(fd);
    conns_.erase(fd);  // closes it
  }

  realio::EventLoop& loop_;
  realio::TcpListener listener_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<uint64_t, Conn*> waiting_;
  Bytes buffer_ = Bytes(kReadChunk);
  Stats stats_;
};

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  const Endpoint listen = ParseEndpointFlag("--listen", vm["listen"].as<std::string>());
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration =
        ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }

  realio::EventLoop loop;
  realio::TcpListener listener = realio::ListenTcp(listen, 128);
  const Endpoint local = listener.local;
  RawRelay relay(loop, std::move(listener));
  realio::StopOnSignals stop(loop);
  std::cout << "raw-relay listening on " << local.ToString() << std::endl;

  const Timestamp deadline = duration ? realio::MonotonicNow() + *duration : Timestamp::Max();
  loop.Run(deadline);
  const auto& s = relay.stats();
  const std::string why =
      stop.received() ? " by signal " + std::to_string(stop.received()) : std::string();
  std::cerr << "raw-relay stopped" << why << ": " << s.connections << " connections, " << s.pairs
            << " pairs, " << s.bytes << " bytes forwarded, " << s.bad_hellos << " bad hellos\n";
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "raw-relay", "forward bytes between paired TCP connections (derp-bench's baseline)", Run);

}  // namespace
}  // namespace punchlab::cli
