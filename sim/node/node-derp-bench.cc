// punchlab-node derp-bench: load for a DERP server. Connects N pairs of DERP
// clients (derp::Client machines, one Host each, all on one event
// loop) and relays packets between the two clients of every pair, both ways,
// as fast as the server takes them, for a fixed time.
//
// Flow control keeps it from measuring its own buffers: each client has at
// most --window packets in flight to its partner (sent, not yet received or
// known lost) and tops the window up once half of it has arrived; and it
// stops sending while its socket buffer is above the host's high-water mark.
// Every packet carries a sequence number and its sender's tag (the first 8
// bytes of its node key) over a per-sender body (bench-packet.h), so a packet
// delivered to the wrong client, corrupted, duplicated or reordered counts as
// misdelivered, and a sequence gap as lost (dropped by the server).
//
// With --raw the same load goes through `punchlab-node raw-relay` (a plain
// byte forwarder) with u32 length framing instead of DERP: the machine's
// loopback TCP relay throughput, for comparison (bench/derp-bench.sh).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/bench-packet.h"
#include "node/tls-flags.h"
#include "punchlab/derp/client.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

constexpr size_t kDefaultWindowBytes = 256 * 1024;
// Far below the hosts' bound on unsent output (64 MiB), which closes a
// connection that exceeds it.
constexpr size_t kMaxWindowBytes = 16 * 1024 * 1024;
constexpr uint64_t kRawHelloMagic = 0x504c52415752454cULL;  // "PLRAWREL"

CommandSpec Spec() {
  CommandSpec spec{
      "derp-bench", "derp-bench --server ADDR:PORT [options]",
      "Connects --pairs pairs of DERP clients to the server and relays packets of\n"
      "--size bytes between the two clients of each pair, both ways, as fast as\n"
      "the server allows, for --duration (timed from when every client is\n"
      "connected). Prints packets_sent, packets_delivered, packets_lost (sequence\n"
      "gaps: dropped by the server), misdelivered (to the wrong client, corrupted,\n"
      "duplicated or reordered: must be 0), pps, mbps (Mbit/s) and mbytes_per_s of\n"
      "delivered packet payload. Exit 0 when packets were delivered, none was\n"
      "misdelivered and no client lost its connection; 1 otherwise; 4 when the\n"
      "clients cannot all connect within --connect-timeout.\n"
      "With --raw, --server is a `punchlab-node raw-relay` and the packets travel\n"
      "length-prefixed on plain TCP: the baseline a relay could reach here.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("server", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "the DERP server (or raw-relay with --raw)")
      ("pairs", po::value<int>()->default_value(1)->value_name("N"), "client pairs, 1-512")
      ("duration", po::value<std::string>()->default_value("5s")->value_name("DURATION"),
       "how long to relay")
      ("size", po::value<size_t>()->default_value(1200)->value_name("BYTES"),
       "packet size, 16-65536")
      ("window", po::value<size_t>()->value_name("PACKETS"),
       "packets in flight per client (default: 256 KiB worth, at least 8)")
      ("connect-timeout",
       po::value<std::string>()->default_value("10s")->value_name("DURATION"),
       "give up when not every client is connected by then")
      ("raw", po::bool_switch(), "load a raw-relay instead of a DERP server")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  AddTlsDialOptions(spec.options);
  return spec;
}

struct BenchConfig {
  Endpoint server;
  size_t pairs = 1;
  Duration duration;
  size_t size = 0;
  size_t window = 0;
  Duration connect_timeout;
  bool raw = false;
  std::optional<TlsDial> tls;  // the DERP clients' (a raw-relay has no TLS)
};

// What a link reports to the benchmark.
class LinkListener {
 public:
  virtual ~LinkListener() = default;
  virtual void OnReady(size_t link) = 0;
  virtual void OnPacket(size_t link, bool from_partner, ByteView packet) = 0;
  virtual void OnTrouble(size_t link, const std::string& what) = 0;
  virtual void OnBlocked(size_t link, bool blocked) = 0;
  // After every drain of the link's host: the moment to send more.
  virtual void OnDrained(size_t link) = 0;
};

// One client connection of the benchmark.
class BenchLink {
 public:
  virtual ~BenchLink() = default;
  virtual void Start() = 0;
  virtual bool ready() const = 0;
  virtual void Send(Timestamp now, ByteView packet) = 0;
  // Carries out what Send() queued (Host::Drain).
  virtual void Drain() = 0;
};

// `recycle`: where the host hands emptied write buffers back (both kinds of
// link reuse them, so neither side of the comparison pays for fresh memory).
realio::Host::Options HostOptions(size_t index, LinkListener& listener,
                                        std::function<void(Bytes&&)> recycle) {
  realio::Host::Options options;
  options.recycle = std::move(recycle);
  options.on_write_blocked = [index, &listener](Timestamp, ConnectionId) {
    listener.OnBlocked(index, true);
  };
  options.on_writable = [index, &listener](Timestamp, ConnectionId) {
    listener.OnBlocked(index, false);
  };
  return options;
}

uint64_t TagOf(const NodePublicKey& key) {
  uint64_t tag = 0;
  for (size_t i = 0; i < 8; ++i) tag = (tag << 8) | key.raw()[i];
  return tag;
}

derp::ClientConfig ClientConfig(const Endpoint& server, const std::optional<TlsDial>& tls) {
  derp::ClientConfig config;
  config.server = server;
  config.tls = tls;
  return config;
}

class DerpLink final : public BenchLink {
 public:
  DerpLink(size_t index, LinkListener& listener, realio::EventLoop& loop, RandomSource& rng,
           const Endpoint& server, const std::optional<TlsDial>& tls)
      : index_(index),
        listener_(listener),
        client_(NodePrivateKey::Generate(rng), rng, ClientConfig(server, tls)),
        host_(loop, client_, [this] { OnDrain(); },
              HostOptions(index, listener,
                          [this](Bytes&& spare) { client_.RecycleWriteBuffer(std::move(spare)); })) {}

  const NodePublicKey& key() const { return client_.public_key(); }
  void set_partner(const NodePublicKey& partner) { partner_ = partner; }

  void Start() override {
    client_.Start(realio::MonotonicNow());
    host_.Drain();
  }
  bool ready() const override { return client_.connected(); }
  void Send(Timestamp now, ByteView packet) override { client_.Send(now, partner_, packet); }
  void Drain() override { host_.Drain(); }

 private:
  void OnDrain() {
    while (auto ev = client_.PollEvent()) {
      if (std::holds_alternative<derp::Connected>(*ev)) {
        listener_.OnReady(index_);
      } else if (auto* packet = std::get_if<derp::Received>(&*ev)) {
        listener_.OnPacket(index_, packet->source == partner_, packet->data);
        client_.RecycleReceived(std::move(packet->data));
      } else if (const auto* lost = std::get_if<derp::Disconnected>(&*ev)) {
        listener_.OnTrouble(index_, "lost the server: " + lost->reason);
      } else if (const auto* gone = std::get_if<derp::PeerGone>(&*ev)) {
        listener_.OnTrouble(index_, std::string("server says partner is gone (") +
                                        derp::PeerGoneReasonName(gone->reason) + ")");
      }
    }
    listener_.OnDrained(index_);
  }

  size_t index_;
  LinkListener& listener_;
  NodePublicKey partner_;
  derp::Client client_;
  realio::Host host_;
};

// raw-relay's side of the comparison: a 16-byte hello (magic, pair id) and
// then packets as u32 big-endian length + bytes.
class RawLink final : public BenchLink, public StreamMachine {
 public:
  static constexpr ConnectionId kConn = 1;

  RawLink(size_t index, LinkListener& listener, realio::EventLoop& loop, const Endpoint& server,
          uint64_t pair)
      : index_(index),
        listener_(listener),
        server_(server),
        pair_(pair),
        host_(loop, *this, [this] { listener_.OnDrained(index_); },
              HostOptions(index, listener, [this](Bytes&& spare) {
                if (out_.empty() && out_.capacity() < spare.capacity()) out_ = std::move(spare);
              })) {}

  void Start() override {
    connect_pending_ = true;
    host_.Drain();
  }
  bool ready() const override { return connected_; }
  void Send(Timestamp, ByteView packet) override {
    ByteWriter w(out_);
    w.U32(static_cast<uint32_t>(packet.size()));
    w.Append(packet);
  }
  void Drain() override { host_.Drain(); }

  void HandleConnected(Timestamp, ConnectionId, const Endpoint&) override {
    connected_ = true;
    Bytes hello;
    ByteWriter w(hello);
    w.U64(kRawHelloMagic);
    w.U64(pair_);
    out_.insert(out_.begin(), hello.begin(), hello.end());
    listener_.OnReady(index_);
  }
  // Packets are read where the host put them, as the DERP client's frames
  // are (FrameReader::Borrow); only a packet that continues in the next read
  // is assembled in in_, from just the bytes it lacks.
  void HandleStream(Timestamp, ConnectionId, ByteView bytes) override {
    while (!in_.empty() && !bytes.empty()) {
      const size_t need = in_.size() < 4 ? 4 : 4 + PacketSize(in_);
      const size_t take = std::min(need - in_.size(), bytes.size());
      in_.insert(in_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
      bytes = bytes.sub(take);
      if (in_.size() >= 4 && in_.size() == 4 + PacketSize(in_)) {
        listener_.OnPacket(index_, true, ByteView(in_).sub(4));
        in_.clear();
      }
    }
    if (!in_.empty()) return;  // the read ended inside that packet
    while (bytes.size() >= 4 && bytes.size() - 4 >= PacketSize(bytes)) {
      const size_t n = PacketSize(bytes);
      listener_.OnPacket(index_, true, bytes.sub(4, n));
      bytes = bytes.sub(4 + n);
    }
    in_.assign(bytes.begin(), bytes.end());
  }
  static size_t PacketSize(ByteView b) {
    return (size_t{b[0]} << 24) | (size_t{b[1]} << 16) | (size_t{b[2]} << 8) | b[3];
  }

  void HandleClosed(Timestamp, ConnectionId) override {
    connected_ = false;
    listener_.OnTrouble(index_, "raw-relay closed the connection");
  }
  void HandleTimeout(Timestamp) override {}
  std::optional<StreamAction> PollStreamAction() override {
    if (connect_pending_) {
      connect_pending_ = false;
      return StreamAction::Connect(kConn, server_);
    }
    if (!connected_ || out_.empty()) return std::nullopt;
    StreamAction a = StreamAction::Write(kConn, std::move(out_));
    out_.clear();
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override { return std::nullopt; }

 private:
  size_t index_;
  LinkListener& listener_;
  Endpoint server_;
  uint64_t pair_;
  bool connect_pending_ = false;
  bool connected_ = false;
  Bytes out_;
  Bytes in_;
  realio::Host host_;
};

struct BenchResult {
  Duration elapsed;
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t lost = 0;
  uint64_t misdelivered = 0;
  uint64_t troubles = 0;
  std::string first_trouble;
};

class Bench final : public LinkListener {
 public:
  Bench(const BenchConfig& config, realio::EventLoop& loop, RandomSource& rng)
      : config_(config), loop_(loop) {
    std::vector<uint64_t> tags;
    for (size_t i = 0; i < 2 * config.pairs; ++i) {
      if (config.raw) {
        links_.emplace_back();
        links_.back().link = std::make_unique<RawLink>(i, *this, loop, config.server, i / 2);
        tags.push_back(rng.NextU64());
      } else {
        auto link = std::make_unique<DerpLink>(i, *this, loop, rng, config.server, config.tls);
        tags.push_back(TagOf(link->key()));
        links_.emplace_back();
        links_.back().link = std::move(link);
      }
    }
    for (size_t i = 0; i < links_.size(); ++i) {
      const size_t partner = i ^ 1;
      if (!config.raw) {
        auto& mine = static_cast<DerpLink&>(*links_[i].link);
        mine.set_partner(static_cast<DerpLink&>(*links_[partner].link).key());
      }
      links_[i].sender = std::make_unique<BenchPacketSender>(tags[i], config.size);
      links_[i].checker = std::make_unique<BenchPacketChecker>(tags[partner], config.size);
    }
  }

  BenchResult Run() {
    for (auto& l : links_) l.link->Start();
    if (ready_ < links_.size()) loop_.Run(realio::MonotonicNow() + config_.connect_timeout);
    if (ready_ < links_.size()) {
      throw std::runtime_error("only " + std::to_string(ready_) + " of " +
                               std::to_string(links_.size()) + " clients connected to " +
                               config_.server.ToString() + " within " +
                               config_.connect_timeout.ToString() +
                               (first_trouble_.empty() ? "" : " (" + first_trouble_ + ")"));
    }
    troubles_ = 0;
    first_trouble_.clear();
    running_ = true;
    const Timestamp start = realio::MonotonicNow();
    for (size_t i = 0; i < links_.size(); ++i) {
      Pump(i);
      links_[i].link->Drain();
    }
    loop_.Run(start + config_.duration);
    running_ = false;

    BenchResult r;
    r.elapsed = realio::MonotonicNow() - start;
    for (const auto& l : links_) r.sent += l.sender->sent();
    r.delivered = delivered_;
    r.lost = lost_;
    r.misdelivered = misdelivered_;
    r.troubles = troubles_;
    r.first_trouble = first_trouble_;
    return r;
  }

  void OnReady(size_t) override {
    if (++ready_ == links_.size() && !running_) loop_.Stop();
  }
  void OnPacket(size_t link, bool from_partner, ByteView packet) override {
    if (!running_) return;
    uint64_t lost = 0;
    if (!from_partner || !links_[link].checker->Check(packet, lost)) {
      ++misdelivered_;
      return;
    }
    ++delivered_;
    lost_ += lost;
    Link& sender = links_[link ^ 1];
    sender.in_flight -= std::min(sender.in_flight, 1 + lost);
    if (sender.in_flight <= config_.window / 2) sender.link->Drain();
  }
  void OnTrouble(size_t link, const std::string& what) override {
    ++troubles_;
    if (first_trouble_.empty()) first_trouble_ = "client " + std::to_string(link) + ": " + what;
  }
  void OnBlocked(size_t link, bool blocked) override { links_[link].blocked = blocked; }
  void OnDrained(size_t link) override { Pump(link); }

 private:
  struct Link {
    std::unique_ptr<BenchLink> link;
    std::unique_ptr<BenchPacketSender> sender;
    std::unique_ptr<BenchPacketChecker> checker;  // packets from the partner
    uint64_t in_flight = 0;
    bool blocked = false;
  };

  // Tops the window up once half of it has drained: sends go out in batches,
  // one write each.
  void Pump(size_t i) {
    Link& l = links_[i];
    if (!running_ || l.blocked || !l.link->ready() || l.in_flight > config_.window / 2) return;
    const Timestamp now = realio::MonotonicNow();
    while (l.in_flight < config_.window) {
      l.link->Send(now, l.sender->Next());
      ++l.in_flight;
    }
  }

  BenchConfig config_;
  realio::EventLoop& loop_;
  std::vector<Link> links_;
  size_t ready_ = 0;
  bool running_ = false;
  uint64_t delivered_ = 0;
  uint64_t lost_ = 0;
  uint64_t misdelivered_ = 0;
  uint64_t troubles_ = 0;
  std::string first_trouble_;
};

// To `decimals` places, so the JSON shows 1234.5, not 1234.5000000000002.
double Round(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  BenchConfig config;
  config.server = ParseEndpointFlag("--server", vm["server"].as<std::string>());
  const int pairs = vm["pairs"].as<int>();
  if (pairs < 1 || pairs > 512) throw UsageError("--pairs: must be from 1 to 512");
  config.pairs = static_cast<size_t>(pairs);
  config.duration =
      ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  config.size = vm["size"].as<size_t>();
  if (config.size < kBenchHeaderSize || config.size > derp::kMaxPacketSize) {
    throw UsageError("--size: must be from 16 to 65536 bytes");
  }
  config.window = vm.count("window") ? vm["window"].as<size_t>()
                                     : std::max<size_t>(8, kDefaultWindowBytes / config.size);
  if (config.window < 2 || config.window * config.size > kMaxWindowBytes) {
    throw UsageError("--window: must be at least 2 packets and at most 16 MiB of them");
  }
  config.connect_timeout =
      ParseDurationFlag("--connect-timeout", vm["connect-timeout"].as<std::string>(),
                        kSecondsOrDuration);
  config.raw = vm["raw"].as<bool>();
  config.tls = TlsDialFromFlags(vm);
  if (config.raw && config.tls && (config.tls->insecure_for_tests || !config.tls->cert_name.empty())) {
    throw UsageError("--raw: a raw-relay has no TLS (no --cert-name/--insecure-for-tests)");
  }
  if (config.raw) config.tls.reset();

  realio::EventLoop loop;
  realio::OsRandom rng;
  Bench bench(config, loop, rng);
  const BenchResult r = bench.Run();

  const double seconds = r.elapsed.seconds();
  const double bytes = static_cast<double>(r.delivered) * static_cast<double>(config.size);
  nlohmann::json j;
  j["mode"] = config.raw ? "raw" : "derp";
  j["tls"] = config.tls.has_value();
  j["server"] = config.server.ToString();
  j["pairs"] = config.pairs;
  j["size"] = config.size;
  j["window"] = config.window;
  j["duration_s"] = Round(seconds, 6);
  j["packets_sent"] = r.sent;
  j["packets_delivered"] = r.delivered;
  j["packets_lost"] = r.lost;
  j["misdelivered"] = r.misdelivered;
  j["disconnects"] = r.troubles;
  j["pps"] = Round(static_cast<double>(r.delivered) / seconds, 1);
  j["mbps"] = Round(bytes * 8 / 1e6 / seconds, 3);
  j["mbytes_per_s"] = Round(bytes / 1e6 / seconds, 3);
  if (!r.first_trouble.empty()) j["first_disconnect"] = r.first_trouble;
  if (vm["json"].as<bool>()) {
    std::cout << j.dump() << "\n";
  } else {
    for (const auto& [k, v] : j.items()) {
      std::cout << k << " " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
  }
  const bool good = r.delivered > 0 && r.misdelivered == 0 && r.troubles == 0;
  return good ? kExitOk : kExitExpectationFailed;
}

const SubcommandRegistration kRegistration(
    "derp-bench", "load a DERP server (or raw-relay) with pairs of clients; report packets/s", Run);

}  // namespace
}  // namespace punchlab::cli
