#include "node/wire-engine.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace punchlab::wire {
namespace {

constexpr size_t kMaxFrame = 65536 + 14;
constexpr size_t kEthernetHeader = 14;
// Frames read from one device per loop turn, so one busy link cannot starve
// the others' deliveries.
constexpr int kReadBurst = 64;

int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string ErrnoText() { return std::strerror(errno); }

bool IsIpv4(const uint8_t* frame, size_t size) {
  return size >= kEthernetHeader && frame[12] == 0x08 && frame[13] == 0x00;
}

std::string NetnsPath(const std::string& netns) {
  return netns.find('/') == std::string::npos ? "/run/netns/" + netns : netns;
}

// A TAP device `ifname` in `netns`, read and written through the returned fd
// (non-blocking). It exists as long as the fd is open.
realio::UniqueFd OpenTap(const std::string& netns, const std::string& ifname, int home_netns) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    throw std::runtime_error("interface name '" + ifname + "' is empty or longer than 15 characters");
  }
  realio::UniqueFd ns(open(NetnsPath(netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) throw std::runtime_error("open " + NetnsPath(netns) + ": " + ErrnoText());
  if (setns(ns.get(), CLONE_NEWNET) != 0) {
    throw std::runtime_error("setns " + NetnsPath(netns) + ": " + ErrnoText());
  }
  realio::UniqueFd tap(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  std::string error;
  if (!tap.valid()) {
    error = "open /dev/net/tun: " + ErrnoText();
  } else {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    if (ioctl(tap.get(), TUNSETIFF, &ifr) != 0) {
      error = "TUNSETIFF " + ifname + " in " + netns + ": " + ErrnoText();
    }
  }
  if (setns(home_netns, CLONE_NEWNET) != 0) {
    throw std::runtime_error("setns back home: " + ErrnoText());
  }
  if (!error.empty()) throw std::runtime_error(error);
  return tap;
}

template <typename D>
nlohmann::json CountersJson(const D& d) {
  const link::Counters& c = d.model.counters();
  return {{"sent", c.sent},
          {"late_over_500us", d.late_over_500us},
          {"lateness_max_us", d.lateness_max_ns / 1000},
          {"lateness_mean_us", d.timed == 0 ? 0 : d.lateness_sum_ns / d.timed / 1000},
          {"lost", c.lost},
          {"dropped_down", c.dropped_down},
          {"dropped_queue", c.dropped_queue},
          {"delivered", d.delivered},
          {"passed_unshaped", d.passed},
          {"write_errors", d.write_errors}};
}

}  // namespace

WireEngine::WireEngine(uint64_t seed)
    : seed_(seed), epoch_ns_(MonotonicNanos()), buffer_(kMaxFrame) {
  home_netns_ = realio::UniqueFd(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home_netns_.valid()) throw std::runtime_error("open /proc/self/ns/net: " + ErrnoText());
  // Wake-ups within a microsecond of the asked time, not the default 50 us.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

WireEngine::~WireEngine() = default;

Duration WireEngine::Now() const { return Duration::Nanos(MonotonicNanos() - epoch_ns_); }

std::string WireEngine::Execute(const std::string& line) {
  link::WireReply reply;
  try {
    const link::WireCommand c = link::ParseWireCommand(line);
    reply.seq = c.seq;
    if (const auto* l = std::get_if<link::WireLinkCommand>(&c.what)) {
      if (by_name_.count(l->name)) throw std::runtime_error("link '" + l->name + "' exists");
      auto link = std::make_unique<Link>();
      link->name = l->name;
      link->fd_a = OpenTap(l->netns_a, l->if_a, home_netns_.get());
      link->fd_b = OpenTap(l->netns_b, l->if_b, home_netns_.get());
      const DeterministicRandom root(seed_);
      link->ab.model.SetRandom(root.Fork("wire/" + l->name + "/ab"));
      link->ba.model.SetRandom(root.Fork("wire/" + l->name + "/ba"));
      link->ab.in_fd = link->fd_a.get();
      link->ab.out_fd = link->fd_b.get();
      link->ba.in_fd = link->fd_b.get();
      link->ba.out_fd = link->fd_a.get();
      by_name_[l->name] = link.get();
      links_.push_back(std::move(link));
    } else if (const auto* s = std::get_if<link::WireShapeCommand>(&c.what)) {
      const auto it = by_name_.find(s->name);
      if (it == by_name_.end()) throw std::runtime_error("no link '" + s->name + "'");
      (s->a_to_b ? it->second->ab : it->second->ba).model.SetShape(s->shape);
    } else if (std::holds_alternative<link::WireStatsCommand>(c.what)) {
      reply.text = Stats();
    } else {
      reply.text = Flows();
    }
    reply.ok = true;
  } catch (const std::exception& e) {
    reply.ok = false;
    reply.text = e.what();
  }
  return link::FormatWireReply(reply);
}

std::string WireEngine::Stats() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& l : links_) {
    out[l->name] = {
        {"ab", CountersJson(l->ab)}, {"ba", CountersJson(l->ba)}};
  }
  return out.dump();
}

void WireEngine::Account(Direction& d, const uint8_t* frame, size_t size) {
  constexpr size_t kIpv4Header = 20;
  if (!IsIpv4(frame, size) || size < kEthernetHeader + kIpv4Header) return;
  FlowKey key;
  key.bin = MonotonicNanos() / link::kFlowBinNanos;
  std::memcpy(&key.src, frame + kEthernetHeader + 12, 4);
  std::memcpy(&key.dst, frame + kEthernetHeader + 16, 4);
  auto it = d.flows.find(key);
  if (it == d.flows.end()) {
    if (flow_entries_ >= link::kMaxFlowEntries) {
      ++d.untracked;
      return;
    }
    ++flow_entries_;
    it = d.flows.emplace(key, FlowCount{}).first;
  }
  ++it->second.packets;
  it->second.bytes += size - kEthernetHeader;
}

std::string WireEngine::Flows() const {
  const auto address = [](uint32_t a) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a, text, sizeof text);
    return std::string(text);
  };
  nlohmann::json out = nlohmann::json::object();
  for (const auto& l : links_) {
    nlohmann::json link = nlohmann::json::object();
    for (const auto& [name, d] : {std::pair{"ab", &l->ab}, std::pair{"ba", &l->ba}}) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& [key, count] : d->flows) {
        rows.push_back({key.bin * (link::kFlowBinNanos / 1000000), address(key.src),
                        address(key.dst), count.packets, count.bytes});
      }
      link[name] = std::move(rows);
      link[std::string("untracked_") + name] = d->untracked;
    }
    out[l->name] = std::move(link);
  }
  return out.dump();
}

void WireEngine::Write(Direction& d, const uint8_t* frame, size_t size) {
  ssize_t n;
  do {
    n = write(d.out_fd, frame, size);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(size)) {
    ++d.delivered;
    Account(d, frame, size);
  } else {
    ++d.write_errors;
  }
}

void WireEngine::Deliver(Direction& d, const Pending& p, Duration now) {
  const uint64_t late = static_cast<uint64_t>(std::max<int64_t>(0, (now - p.at).nanos()));
  ++d.timed;
  d.lateness_sum_ns += late;
  d.lateness_max_ns = std::max(d.lateness_max_ns, late);
  if (late > 500000) ++d.late_over_500us;
  Write(d, p.frame.data(), p.frame.size());
}

bool WireEngine::MakeRealtime(int priority) {
  sched_param param{};
  param.sched_priority = priority;
  return sched_setscheduler(0, SCHED_FIFO, &param) == 0;
}

void WireEngine::OnReadable(Direction& d, Duration now) {
  for (int i = 0; i < kReadBurst; ++i) {
    const ssize_t n = read(d.in_fd, buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: drained
    const size_t size = static_cast<size_t>(n);
    if (!IsIpv4(buffer_.data(), size)) {
      if (d.model.shape().down) {
        d.model.CountDroppedDown();
      } else {
        ++d.passed;
        Write(d, buffer_.data(), size);
      }
      continue;
    }
    const Duration tx = link::TxTime(size - kEthernetHeader, d.model.shape().rate_bps);
    const std::optional<Duration> arrives = d.model.Transmit(now, tx);
    if (!arrives) continue;
    const Duration at = d.model.InOrder(*arrives);
    if (at <= now && d.queue.empty()) {
      Write(d, buffer_.data(), size);
    } else {
      d.queue.push_back(Pending{at, std::vector<uint8_t>(buffer_.data(), buffer_.data() + size)});
    }
  }
}

Duration WireEngine::Flush(Duration now) {
  Duration next = Duration::Max();
  for (auto& l : links_) {
    for (Direction* d : {&l->ab, &l->ba}) {
      while (!d->queue.empty() && d->queue.front().at <= now) {
        const Pending& p = d->queue.front();
        // A link that went down while the packet was on it loses it, as the
        // simulation's receiving device does.
        if (d->model.shape().down) {
          d->model.CountDroppedDown();
        } else {
          Deliver(*d, p, now);
        }
        d->queue.pop_front();
      }
      if (!d->queue.empty()) next = std::min(next, d->queue.front().at);
    }
  }
  return next;
}

int WireEngine::Run(int control_fd, int reply_fd) {
  std::string pending_input;
  std::vector<pollfd> fds;
  std::vector<Direction*> readers;
  Duration next = Duration::Max();
  for (;;) {
    fds.clear();
    readers.clear();
    fds.push_back({control_fd, POLLIN, 0});
    for (auto& l : links_) {
      fds.push_back({l->fd_a.get(), POLLIN, 0});
      readers.push_back(&l->ab);
      fds.push_back({l->fd_b.get(), POLLIN, 0});
      readers.push_back(&l->ba);
    }
    timespec timeout{};
    timespec* timeout_ptr = nullptr;
    if (next != Duration::Max()) {
      const int64_t wait = std::max<int64_t>(0, (next - Now()).nanos());
      timeout.tv_sec = static_cast<time_t>(wait / 1000000000);
      timeout.tv_nsec = static_cast<long>(wait % 1000000000);
      timeout_ptr = &timeout;
    }
    const int ready = ppoll(fds.data(), fds.size(), timeout_ptr, nullptr);
    if (ready < 0 && errno != EINTR) throw std::runtime_error("ppoll: " + ErrnoText());
    const Duration now = Now();
    if (ready > 0) {
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) OnReadable(*readers[i - 1], now);
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char chunk[4096];
        const ssize_t n = read(control_fd, chunk, sizeof chunk);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return 0;  // runner gone
        if (n > 0) pending_input.append(chunk, static_cast<size_t>(n));
        for (size_t eol; (eol = pending_input.find('\n')) != std::string::npos;) {
          const std::string line = pending_input.substr(0, eol);
          pending_input.erase(0, eol + 1);
          if (line.empty()) continue;
          const std::string reply = Execute(line) + "\n";
          size_t written = 0;
          while (written < reply.size()) {
            const ssize_t w = write(reply_fd, reply.data() + written, reply.size() - written);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return 1;
            written += static_cast<size_t>(w);
          }
        }
      }
    }
    next = Flush(Now());
  }
}

}  // namespace punchlab::wire
