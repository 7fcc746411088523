// A NetcheckClient behind the test NAT (mini-nat), with StunServer machines as DERP
// regions at modeled round-trip times, in the virtual world: each server IP
// is a host whose access link is half its round trip (the client's is
// instant), so regions sit at different distances; a dropped server's link
// loses everything. The test NAT is the world's `intercept`; the client's
// host holds its public address.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/netcheck/client.h"
#include "punchlab/random.h"
#include "punchlab/stun/server.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace netcheck_test {

using netcheck::NetcheckClient;
using netcheck::NetcheckConfig;
using netcheck::NetcheckEvent;
using netcheck::Region;
using netcheck::RegionId;
using netcheck::Report;

const Endpoint kLocal(IpAddress::V4(10, 0, 0, 2), 41641);
const IpAddress kPublicIp = IpAddress::V4(203, 0, 113, 7);
const Endpoint kLocal6(*IpAddress::Parse("2001:db8:1::2"), 41641);

// The client's NAT in front of kLocal (IPv6 passes untouched): the one test
// NAT (tests/support/mini-nat, the NAT library's rules and port pool).
// Easy: one external port for every destination, the local port preserved,
// open to anyone (EIM + EIF). Hard: a fresh external port per destination IP
// (address-dependent mapping), so each server sees a different endpoint.
class ClientNat {
 public:
  ClientNat(bool hard, uint64_t seed) : nat_(kPublicIp, Config(hard), seed) {}

  // The world's intercept: translates the client's datagrams and the answers
  // to its public address; false drops (no mapping).
  bool operator()(Timestamp now, Transmit& t) {
    if (t.source == kLocal) {
      const std::optional<Endpoint> external = nat_.Outbound(now, kLocal, t.destination);
      if (!external) return false;
      t.source = *external;
      return true;
    }
    if (t.destination.ip == kPublicIp) {
      const std::optional<Endpoint> inside = nat_.Inbound(now, t.source, t.destination.port);
      if (!inside) return false;
      t.destination = *inside;
    }
    return true;
  }

 private:
  static testsupport::NatConfig Config(bool hard) {
    testsupport::NatConfig c = testsupport::NatConfig::FullCone();
    if (hard) {
      c.mapping = nat::Dependence::kAddressDependent;
      c.ports = nat::PortAssignment::kSequential;
    }
    return c;
  }
  testsupport::MiniNat nat_;
};

struct ServerSpec {
  Endpoint at;
  Duration rtt;
};
struct RegionSpec {
  RegionId id;
  std::string name;
  std::vector<ServerSpec> servers;
};

struct World {
  World(std::vector<RegionSpec> specs, bool hard_nat = false, uint64_t seed = 1,
        NetcheckConfig config = {})
      : rng(seed), client(rng, std::move(config)), nat(hard_nat, seed) {
    std::vector<Region> regions;
    for (const RegionSpec& spec : specs) {
      Region r{spec.id, spec.name, {}};
      for (const ServerSpec& s : spec.servers) {
        stun::StunServerConfig c;
        c.primary = s.at;
        servers.push_back(std::make_unique<stun::StunServer>(c));
        auto host = server_hosts.find(s.at.ip);
        if (host == server_hosts.end()) {
          host = server_hosts
                     .emplace(s.at.ip, net.AddHost(s.at.ToString(), testsupport::VirtualWorld::kInternet,
                                                   {s.at.ip}))
                     .first;
        }
        net.Attach(host->second, testsupport::MachineSpec{s.at.ToString(), servers.back().get(),
                                                          nullptr, {s.at}, {}, {}});
        SetRtt(s.at, s.rtt);
        r.stun.push_back(s.at);
      }
      regions.push_back(std::move(r));
    }
    client.SetRegions(std::move(regions));
    client.SetLocalEndpoints({kLocal});
    const testsupport::HostId client_host =
        net.AddHost("client", testsupport::VirtualWorld::kInternet,
                    {kLocal.ip, kPublicIp, kLocal6.ip}, testsupport::LinkParams{Duration::Zero(), 0.0});
    client_id = net.Attach(client_host,
                           testsupport::MachineSpec{"client", &client, nullptr, {kLocal, kLocal6}, {},
                                                    [this](Timestamp now) { Collect(now); }});
    net.intercept = [this](testsupport::MachineId, Transmit& t) { return nat(net.now(), t); };
  }

  // Starts a report now and runs `for_` of virtual time.
  void RunReport(Duration for_ = Duration::Seconds(6)) {
    net.Do(client_id, [this](Timestamp now) { client.StartReport(now); });
    net.RunUntil(net.now() + for_);
  }
  // Sends what a command given to the client directly wants sent.
  void Drain() {
    net.Do(client_id, [](Timestamp) {});
  }

  struct TimedEvent {
    Timestamp at;  // when the world drained it
    NetcheckEvent event;
  };
  // Every event queued since the last call.
  std::vector<TimedEvent> Events() {
    Collect(net.now());  // what commands given to the client directly queued
    return std::exchange(recorded_, {});
  }
  // The reports among Events(); home changes go to `home_changes`.
  std::vector<netcheck::Report> Reports() {
    std::vector<netcheck::Report> out;
    for (TimedEvent& ev : Events()) {
      if (auto* report = std::get_if<Report>(&ev.event)) {
        out.push_back(std::move(*report));
      } else {
        home_changes.push_back(std::get<netcheck::HomeRegionChange>(ev.event));
      }
    }
    return out;
  }
  netcheck::Report OnlyReport() {
    std::vector<netcheck::Report> r = Reports();
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? netcheck::Report() : r.front();
  }

  void SetRtt(const Endpoint& server, Duration d) {
    rtt[server.ip] = d;
    ApplyLink(server.ip);
  }
  void Drop(const Endpoint& server) {
    dropping.insert(server.ip);
    ApplyLink(server.ip);
  }
  void ApplyLink(const IpAddress& ip) {
    net.SetAccess(server_hosts.at(ip),
                  testsupport::LinkParams{rtt[ip] / 2, dropping.count(ip) != 0 ? 1.0 : 0.0});
  }

  DeterministicRandom rng;  // before `client`, which keeps a reference
  NetcheckClient client;
  testsupport::VirtualWorld net;
  testsupport::MachineId client_id = 0;
  std::map<IpAddress, testsupport::HostId> server_hosts;
  std::map<IpAddress, Duration> rtt;
  std::set<IpAddress> dropping;
  std::vector<netcheck::HomeRegionChange> home_changes;
  ClientNat nat;
  std::vector<std::unique_ptr<stun::StunServer>> servers;

 private:
  void Collect(Timestamp now) {
    while (auto ev = client.PollEvent()) recorded_.push_back({now, std::move(*ev)});
  }
  std::vector<TimedEvent> recorded_;
};

}  // namespace netcheck_test
}  // namespace punchlab
