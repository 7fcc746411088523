// DERP servers and clients wired through the in-memory StreamTestDriver,
// with every event recorded and timestamped as it happens.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "derp/stream-test-driver.h"
#include "punchlab/derp/client.h"
#include "punchlab/derp/frames.h"
#include "punchlab/derp/server.h"
#include "punchlab/random.h"

namespace punchlab {
namespace testing {

template <typename Event>
struct Timed {
  Timestamp at;
  Event event;
};

struct DerpServerHost {
  Endpoint address;
  std::unique_ptr<DeterministicRandom> rng;
  std::unique_ptr<derp::Server> server;
  std::vector<Timed<derp::ServerEvent>> events;

  std::vector<Timed<derp::ServerEvent>> Events(derp::ServerEvent::Kind kind) const {
    std::vector<Timed<derp::ServerEvent>> out;
    for (const auto& e : events) {
      if (e.event.kind == kind) out.push_back(e);
    }
    return out;
  }
};

struct DerpClientHost {
  Endpoint address;
  std::unique_ptr<DeterministicRandom> rng;
  std::unique_ptr<derp::Client> client;
  std::vector<Timed<derp::ClientEvent>> events;

  const NodePublicKey& key() const { return client->public_key(); }
  std::vector<Timed<derp::ClientEvent>> Events(derp::ClientEvent::Kind kind) const {
    std::vector<Timed<derp::ClientEvent>> out;
    for (const auto& e : events) {
      if (e.event.kind == kind) out.push_back(e);
    }
    return out;
  }
  // Packets received from `source`, as strings, in order.
  std::vector<std::string> ReceivedFrom(const NodePublicKey& source) const {
    std::vector<std::string> out;
    for (const auto& e : Events(derp::ClientEvent::Kind::kReceived)) {
      if (e.event.key == source) out.emplace_back(e.event.data.begin(), e.event.data.end());
    }
    return out;
  }
};

inline ByteView Text(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class DerpWorld {
 public:
  explicit DerpWorld(Duration latency = Duration::Millis(10)) : driver(latency) {
    driver.observer = [this](Timestamp now) { Collect(now); };
  }

  DerpServerHost& AddServer(const std::string& address, uint64_t seed,
                            derp::ServerConfig config = {}) {
    auto host = std::make_unique<DerpServerHost>();
    host->address = *Endpoint::Parse(address);
    host->rng = std::make_unique<DeterministicRandom>(seed);
    auto key = NodePrivateKey::Generate(*host->rng);
    host->server = std::make_unique<derp::Server>(std::move(key), *host->rng, config);
    driver.AddServer(host->address, *host->server);
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
    host->rng = std::make_unique<DeterministicRandom>(seed * 7919 + 1);
    config.server = server;
    host->client = std::make_unique<derp::Client>(std::move(key), *host->rng, config);
    driver.AddClient(host->address, *host->client);
    clients_.push_back(std::move(host));
    return *clients_.back();
  }

  // Starts every client and runs until all of them are connected.
  void ConnectAll() {
    for (auto& c : clients_) c->client->Start(driver.now());
    driver.RunFor(Duration::Seconds(1));
    for (auto& c : clients_) ASSERT_TRUE(c->client->connected()) << c->address.ToString();
  }

  // Drains every machine's events (also called after every driver step).
  void Collect(Timestamp now) {
    for (auto& s : servers_) {
      while (auto e = s->server->PollEvent()) s->events.push_back({now, std::move(*e)});
    }
    for (auto& c : clients_) {
      while (auto e = c->client->PollEvent()) c->events.push_back({now, std::move(*e)});
    }
  }

  StreamTestDriver driver;

 private:
  std::vector<std::unique_ptr<DerpServerHost>> servers_;
  std::vector<std::unique_ptr<DerpClientHost>> clients_;
};

}  // namespace testing
}  // namespace punchlab
