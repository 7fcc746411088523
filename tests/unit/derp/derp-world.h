// DERP servers and clients in the virtual world (tests/support), with every
// event recorded and timestamped as it happens.
//
// Each IP address is a host on the internet whose access link is half the
// one-way latency, so any two hosts are `latency` apart (10 ms by default):
// bytes take one latency, a connect reaches the listener after one latency
// and the connecting side after two (a refused one fails after two).
//
// Commands go through the world (DerpWorld::Do, or the hosts' Start, Send,
// ... which wrap it) so that what they make the machine send leaves at once
// by the world's drain rule.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/derp/client.h"
#include "punchlab/derp/frames.h"
#include "punchlab/derp/server.h"
#include "punchlab/overloaded.h"
#include "punchlab/random.h"
#include "support/raw-stream.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace testing {

using testsupport::MachineId;
using testsupport::RawStream;
using testsupport::VirtualWorld;

template <typename Event>
struct Timed {
  Timestamp at;
  Event event;
};

// The events of one kind, as recorded.
template <typename Kind, typename Event>
std::vector<Timed<Kind>> EventsOf(const std::vector<Timed<Event>>& events) {
  std::vector<Timed<Kind>> out;
  for (const auto& e : events) {
    if (const Kind* k = std::get_if<Kind>(&e.event)) out.push_back({e.at, *k});
  }
  return out;
}

// "Connecting", "Received", ...: for tests that pin the order of kinds.
inline std::string EventName(const derp::ClientEvent& e) {
  return std::visit(Overloaded{
                        [](const derp::Connecting&) { return "Connecting"; },
                        [](const derp::Connected&) { return "Connected"; },
                        [](const derp::Disconnected&) { return "Disconnected"; },
                        [](const derp::Received&) { return "Received"; },
                        [](const derp::PeerGone&) { return "PeerGone"; },
                        [](const derp::PeerPresent&) { return "PeerPresent"; },
                        [](const derp::Health&) { return "Health"; },
                        [](const derp::Pong&) { return "Pong"; },
                        [](const derp::Restarting&) { return "Restarting"; },
                    },
                    e);
}

struct DerpServerHost {
  Endpoint address;
  MachineId id = 0;
  std::unique_ptr<DeterministicRandom> rng;
  std::unique_ptr<derp::Server> server;
  std::vector<Timed<derp::ServerEvent>> events;

  template <typename Kind>
  std::vector<Timed<Kind>> Events() const {
    return EventsOf<Kind>(events);
  }
};

struct DerpClientHost {
  Endpoint address;
  MachineId id = 0;
  VirtualWorld* net = nullptr;
  std::unique_ptr<DeterministicRandom> rng;
  std::unique_ptr<derp::Client> client;
  std::vector<Timed<derp::ClientEvent>> events;

  const NodePublicKey& key() const { return client->public_key(); }
  template <typename Kind>
  std::vector<Timed<Kind>> Events() const {
    return EventsOf<Kind>(events);
  }
  // The kinds of every event so far, in order (EventName).
  std::vector<std::string> EventNames() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(EventName(e.event));
    return out;
  }
  // Packets received from `source`, as strings, in order.
  std::vector<std::string> ReceivedFrom(const NodePublicKey& source) const {
    std::vector<std::string> out;
    for (const auto& e : Events<derp::Received>()) {
      if (e.event.source == source) out.emplace_back(e.event.data.begin(), e.event.data.end());
    }
    return out;
  }
  // The client's own connection in the world (its newest).
  testsupport::StreamLinkId link() const { return net->StreamLinksFrom(id).back(); }

  // The client's commands, given at the world's current time.
  void Start() {
    net->Do(id, [this](Timestamp now) { client->Start(now); });
  }
  void Stop() {
    net->Do(id, [this](Timestamp now) { client->Stop(now); });
  }
  bool Send(const NodePublicKey& to, ByteView packet) {
    bool ok = false;
    net->Do(id, [&](Timestamp now) { ok = client->Send(now, to, packet); });
    return ok;
  }
  bool Ping(const derp::PingData& data) {
    bool ok = false;
    net->Do(id, [&](Timestamp now) { ok = client->Ping(now, data); });
    return ok;
  }
  void SetPreferred(bool preferred) {
    net->Do(id, [&](Timestamp now) { client->SetPreferred(now, preferred); });
  }
};

inline ByteView Text(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class DerpWorld {
 public:
  explicit DerpWorld(Duration latency = Duration::Millis(10)) : access_(latency / 2) {}

  DerpServerHost& AddServer(const std::string& address, uint64_t seed,
                            derp::ServerConfig config = {}) {
    auto host = std::make_unique<DerpServerHost>();
    host->address = *Endpoint::Parse(address);
    host->rng = std::make_unique<DeterministicRandom>(seed);
    auto key = NodePrivateKey::Generate(*host->rng);
    host->server = std::make_unique<derp::Server>(std::move(key), *host->rng, config);
    DerpServerHost* h = host.get();
    host->id = net.Attach(HostAt(host->address.ip),
                          testsupport::MachineSpec{address, nullptr, h->server.get(), {},
                                                   {h->address}, [this, h](Timestamp now) {
                                                     while (auto e = h->server->PollEvent()) {
                                                       h->events.push_back({now, std::move(*e)});
                                                     }
                                                     if (observer) observer(now);
                                                   }});
    servers_.push_back(std::move(host));
    return *servers_.back();
  }

  // A client whose node key comes from `seed`.
  DerpClientHost& AddClient(const std::string& address, uint64_t seed, const DerpServerHost& server,
                            derp::ClientConfig config = {}) {
    return AddClient(address, seed, server.address, config);
  }
  // ... connecting to whatever listens at `server` (e.g. a scripted RawStream).
  DerpClientHost& AddClient(const std::string& address, uint64_t seed, const Endpoint& server,
                            derp::ClientConfig config = {}) {
    DeterministicRandom key_rng(seed);
    return AddClientWithKey(address, seed, NodePrivateKey::Generate(key_rng), server, config);
  }
  DerpClientHost& AddClientWithKey(const std::string& address, uint64_t seed, NodePrivateKey key,
                                   const DerpServerHost& server, derp::ClientConfig config = {}) {
    return AddClientWithKey(address, seed, std::move(key), server.address, config);
  }
  DerpClientHost& AddClientWithKey(const std::string& address, uint64_t seed, NodePrivateKey key,
                                   const Endpoint& server, derp::ClientConfig config = {}) {
    auto host = std::make_unique<DerpClientHost>();
    host->address = *Endpoint::Parse(address);
    host->net = &net;
    host->rng = std::make_unique<DeterministicRandom>(seed * 7919 + 1);
    config.server = server;
    host->client = std::make_unique<derp::Client>(std::move(key), *host->rng, config);
    DerpClientHost* h = host.get();
    host->id = net.Attach(HostAt(host->address.ip),
                          testsupport::MachineSpec{address, nullptr, h->client.get(), {}, {},
                                                   [this, h](Timestamp now) {
                                                     while (auto e = h->client->PollEvent()) {
                                                       h->events.push_back({now, std::move(*e)});
                                                     }
                                                     if (observer) observer(now);
                                                   }});
    clients_.push_back(std::move(host));
    return *clients_.back();
  }

  // A scripted machine at `address` (a host of its own IP): a raw client, or
  // a server if `listen` is set.
  MachineId AddRaw(const std::string& address, RawStream& raw, bool listen = false) {
    const Endpoint at = *Endpoint::Parse(address);
    std::vector<Endpoint> listening;
    if (listen) listening.push_back(at);
    return net.Attach(HostAt(at.ip),
                      testsupport::MachineSpec{address, nullptr, &raw, {}, listening, {}});
  }

  // Starts every client and runs until all of them are connected.
  void ConnectAll() {
    for (auto& c : clients_) c->Start();
    net.RunFor(Duration::Seconds(1));
    for (auto& c : clients_) ASSERT_TRUE(c->client->connected()) << c->address.ToString();
  }

  // A command to a machine at the current time, then the drain rule.
  void Do(MachineId machine, const std::function<void(Timestamp)>& command) {
    net.Do(machine, command);
  }
  void Do(const DerpServerHost& host, const std::function<void(Timestamp)>& command) {
    net.Do(host.id, command);
  }

  // The server-side id of a client's (newest) connection.
  ConnectionId ServerConn(const DerpClientHost& client) const {
    const std::optional<ConnectionId> conn = net.StreamServerConn(client.link());
    EXPECT_TRUE(conn) << client.address.ToString() << " has no accepted connection";
    return conn.value_or(0);
  }

  Timestamp now() const { return net.now(); }
  void RunFor(Duration d) { net.RunFor(d); }

  // Called after every machine's input, once its events are recorded.
  std::function<void(Timestamp)> observer;

  VirtualWorld net;

 private:
  testsupport::HostId HostAt(const IpAddress& ip) {
    auto it = hosts_.find(ip);
    if (it == hosts_.end()) {
      it = hosts_
               .emplace(ip, net.AddHost(ip.ToString(), VirtualWorld::kInternet, {ip},
                                        testsupport::LinkParams{access_, 0.0}))
               .first;
    }
    return it->second;
  }

  Duration access_;
  std::map<IpAddress, testsupport::HostId> hosts_;
  std::vector<std::unique_ptr<DerpServerHost>> servers_;
  std::vector<std::unique_ptr<DerpClientHost>> clients_;
};

}  // namespace testing
}  // namespace punchlab
