#include "support/virtual-world.h"

#include <algorithm>
#include <stdexcept>

namespace punchlab {
namespace testsupport {
namespace {

// A machine that keeps asking to be woken at the same instant would spin the
// loop forever; this many steps without the clock moving is a bug.
constexpr uint64_t kMaxStepsPerInstant = 1000000;

}  // namespace

VirtualWorld::VirtualWorld(uint64_t seed) : rng_(seed), seed_(seed) { realms_.push_back(Realm{}); }

VirtualWorld::~VirtualWorld() = default;

// ---- topology ----------------------------------------------------------------

NatId VirtualWorld::AddNat(const std::string& name, RealmId outside, IpAddress external,
                           NatConfig config, LinkParams uplink) {
  const NatId id = nats_.size();
  Nat n;
  n.name = name;
  n.outside = outside;
  n.inside = realms_.size();
  // Each NAT draws its ports from its own stream: adding one shifts no other.
  n.table = std::make_unique<MiniNat>(external, config, seed_ * 1000003 + id + 1);
  n.uplink = uplink;
  realms_.push_back(Realm{id});
  nats_.push_back(std::move(n));
  return id;
}

RealmId VirtualWorld::InsideOf(NatId nat) const { return nats_.at(nat).inside; }

MiniNat& VirtualWorld::nat(NatId nat) { return *nats_.at(nat).table; }

void VirtualWorld::SetUplink(NatId nat, LinkParams uplink) { nats_.at(nat).uplink = uplink; }

HostId VirtualWorld::AddHost(const std::string& name, RealmId realm,
                             std::vector<IpAddress> addresses, LinkParams access) {
  if (realm >= realms_.size()) throw std::logic_error("virtual world: no such realm");
  hosts_.push_back(Host{name, realm, std::move(addresses), access});
  return hosts_.size() - 1;
}

void VirtualWorld::SetAccess(HostId host, LinkParams access) { hosts_.at(host).access = access; }

void VirtualWorld::SetPair(const IpAddress& a, const IpAddress& b, Duration extra_latency,
                           double loss) {
  pairs_[std::minmax(a, b)] = PairParams{extra_latency, loss};
}

const VirtualWorld::PairParams* VirtualWorld::Pair(const IpAddress& a, const IpAddress& b) const {
  auto it = pairs_.find(std::minmax(a, b));
  return it == pairs_.end() ? nullptr : &it->second;
}

bool VirtualWorld::HostHas(HostId host, const IpAddress& ip) const {
  const auto& a = hosts_.at(host).addresses;
  return std::find(a.begin(), a.end(), ip) != a.end();
}

std::optional<HostId> VirtualWorld::HostWith(RealmId realm, const IpAddress& ip) const {
  for (HostId h = 0; h < hosts_.size(); ++h) {
    if (hosts_[h].realm == realm && HostHas(h, ip)) return h;
  }
  return std::nullopt;
}

std::optional<NatId> VirtualWorld::NatWith(RealmId realm, const IpAddress& ip) const {
  for (NatId n = 0; n < nats_.size(); ++n) {
    if (nats_[n].outside == realm && nats_[n].table->external() == ip) return n;
  }
  return std::nullopt;
}

// ---- machines ----------------------------------------------------------------

MachineId VirtualWorld::Attach(HostId host, MachineSpec spec) {
  const MachineId id = machines_.size();
  for (const Endpoint& e : spec.udp) {
    if (!HostHas(host, e.ip)) throw std::logic_error("virtual world: bind to a foreign address");
    udp_bound_[e] = id;
  }
  for (const Endpoint& e : spec.listen) {
    if (!HostHas(host, e.ip)) throw std::logic_error("virtual world: listen on a foreign address");
    listening_[e] = id;
  }
  auto m = std::make_unique<Machine>();
  m->host = host;
  m->one_object = spec.datagram != nullptr && spec.stream != nullptr &&
                  dynamic_cast<void*>(spec.datagram) == dynamic_cast<void*>(spec.stream);
  m->spec = std::move(spec);
  machines_.push_back(std::move(m));
  return id;
}

void VirtualWorld::Detach(MachineId id, Departure how) {
  Machine& m = *machines_.at(id);
  if (!m.attached) return;
  m.attached = false;
  for (auto it = udp_bound_.begin(); it != udp_bound_.end();) {
    it = it->second == id ? udp_bound_.erase(it) : std::next(it);
  }
  for (auto it = listening_.begin(); it != listening_.end();) {
    it = it->second == id ? listening_.erase(it) : std::next(it);
  }
  for (StreamLinkId l = 0; l < links_.size(); ++l) {
    StreamLink& link = links_[l];
    const bool is_client = link.client == id;
    const bool is_server = link.server && *link.server == id;
    if (!is_client && !is_server) continue;
    bool& mine = is_client ? link.client_open : link.server_open;
    const bool theirs = is_client ? link.server_open : link.client_open;
    if (!mine) continue;
    mine = false;
    if (how == Departure::kSilent) {
      link.blackholed = true;
    } else if (theirs && !link.blackholed && (is_server || link.server)) {
      Schedule(now_ + link.latency, StreamItem{l, is_client, StreamItem::Kind::kClosed, {}});
    }
  }
}

void VirtualWorld::Bind(MachineId m, const Endpoint& udp) {
  if (!HostHas(machines_.at(m)->host, udp.ip)) {
    throw std::logic_error("virtual world: bind to a foreign address");
  }
  udp_bound_[udp] = m;
}

void VirtualWorld::Unbind(const Endpoint& udp) { udp_bound_.erase(udp); }

void VirtualWorld::Listen(MachineId m, const Endpoint& tcp) {
  if (!HostHas(machines_.at(m)->host, tcp.ip)) {
    throw std::logic_error("virtual world: listen on a foreign address");
  }
  listening_[tcp] = m;
}

void VirtualWorld::Unlisten(const Endpoint& tcp) { listening_.erase(tcp); }

void VirtualWorld::Do(MachineId m, const std::function<void(Timestamp)>& command) {
  command(now_);
  Pump(m);
}

const std::string& VirtualWorld::MachineName(MachineId m) const {
  return machines_.at(m)->spec.name;
}

void VirtualWorld::Pump(MachineId id) {
  Machine& m = *machines_.at(id);
  for (bool first = true;; first = false) {
    bool any = false;
    if (m.attached && m.spec.datagram != nullptr) {
      while (auto t = m.spec.datagram->PollTransmit()) {
        any = true;
        Send(id, std::move(*t));
      }
    }
    if (m.attached && m.spec.stream != nullptr) {
      while (auto a = m.spec.stream->PollStreamAction()) {
        any = true;
        OnAction(id, std::move(*a));
      }
    }
    if (!first && !any) return;
    if (!m.attached || !m.spec.after_input) return;
    m.spec.after_input(now_);
  }
}

std::optional<Timestamp> VirtualWorld::MachineTimeout(const Machine& m) const {
  std::optional<Timestamp> t;
  if (m.spec.datagram != nullptr) t = m.spec.datagram->PollTimeout();
  if (m.spec.stream != nullptr && !m.one_object) {
    const std::optional<Timestamp> s = m.spec.stream->PollTimeout();
    if (s && (!t || *s < *t)) t = s;
  }
  return t;
}

// ---- time --------------------------------------------------------------------

void VirtualWorld::Schedule(Timestamp at, Item item) {
  queue_.emplace(std::make_pair(at, seq_++), std::move(item));
}

bool VirtualWorld::Step(Timestamp until) {
  std::optional<Timestamp> next;
  if (!queue_.empty()) next = queue_.begin()->first.first;
  bool timer = false;
  for (const auto& m : machines_) {
    if (!m->attached) continue;
    const std::optional<Timestamp> t = MachineTimeout(*m);
    if (t && (!next || *t < *next)) {
      next = t;
      timer = true;
    }
  }
  if (!next || *next > until) return false;
  if (*next > now_) {
    now_ = *next;
    steps_at_now_ = 0;
  } else if (++steps_at_now_ > kMaxStepsPerInstant) {
    throw std::runtime_error("virtual world: no progress at " +
                             (now_ - Timestamp::Zero()).ToString());
  }
  if (!timer) {
    Item item = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (auto* f = std::get_if<Flight>(&item)) {
      Arrive(std::move(*f));
    } else if (auto* s = std::get_if<StreamItem>(&item)) {
      ArriveStream(*s);
    } else {
      std::get<Call>(item).fn();
    }
    return true;
  }
  for (MachineId id = 0; id < machines_.size(); ++id) {
    Machine& m = *machines_[id];
    if (!m.attached) continue;
    bool woke = false;
    if (m.spec.datagram != nullptr) {
      const std::optional<Timestamp> t = m.spec.datagram->PollTimeout();
      if (t && *t <= now_) {
        m.spec.datagram->HandleTimeout(now_);
        woke = true;
      }
    }
    if (m.spec.stream != nullptr && !m.one_object) {
      const std::optional<Timestamp> t = m.spec.stream->PollTimeout();
      if (t && *t <= now_) {
        m.spec.stream->HandleTimeout(now_);
        woke = true;
      }
    }
    if (woke) Pump(id);
  }
  return true;
}

void VirtualWorld::At(Timestamp at, std::function<void()> fn) {
  Schedule(std::max(at, now_), Call{std::move(fn)});
}

void VirtualWorld::RunUntil(Timestamp until) {
  while (Step(until)) {
  }
  if (until > now_) now_ = until;
}

bool VirtualWorld::RunUntilTrue(const std::function<bool()>& done, Timestamp deadline) {
  if (done()) return true;
  while (Step(deadline)) {
    if (done()) return true;
  }
  if (deadline > now_) now_ = deadline;
  return done();
}

// ---- datagrams ---------------------------------------------------------------

bool VirtualWorld::Lost(double loss) {
  if (loss <= 0.0) return false;
  if (loss >= 1.0) return true;
  constexpr uint32_t kScale = 1000000;
  return rng_.Uniform(kScale) < static_cast<uint32_t>(loss * kScale);
}

void VirtualWorld::Send(MachineId from, Transmit t) {
  ++stats_.datagrams_sent;
  if (intercept && !intercept(from, t)) {
    ++stats_.datagrams_intercepted;
    return;
  }
  const Host& h = hosts_.at(machines_.at(from)->host);
  if (!HostHas(machines_.at(from)->host, t.source.ip)) {
    ++stats_.datagrams_bad_source;
    return;
  }
  if (Lost(h.access.loss)) {
    ++stats_.datagrams_lost;
    return;
  }
  RouteIn(h.realm, h.access.latency, std::move(t), /*may_go_up=*/true);
}

// `so_far`: the delay from where the packet entered this realm.
void VirtualWorld::RouteIn(RealmId realm, Duration so_far, Transmit t, bool may_go_up) {
  if (const PairParams* p = Pair(t.source.ip, t.destination.ip)) {
    if (Lost(p->loss)) {
      ++stats_.datagrams_lost;
      return;
    }
    so_far += p->extra;
  }
  if (const std::optional<HostId> h = HostWith(realm, t.destination.ip)) {
    if (Lost(hosts_[*h].access.loss)) {
      ++stats_.datagrams_lost;
      return;
    }
    Schedule(now_ + so_far + hosts_[*h].access.latency, Flight{Stop::kHost, *h, std::move(t)});
    return;
  }
  if (const std::optional<NatId> n = NatWith(realm, t.destination.ip)) {
    if (Lost(nats_[*n].uplink.loss)) {
      ++stats_.datagrams_lost;
      return;
    }
    Schedule(now_ + so_far + nats_[*n].uplink.latency,
             Flight{Stop::kNatOutside, *n, std::move(t)});
    return;
  }
  if (may_go_up && realms_[realm].gateway) {
    Schedule(now_ + so_far, Flight{Stop::kNatInside, *realms_[realm].gateway, std::move(t)});
    return;
  }
  ++stats_.datagrams_undeliverable;
}

void VirtualWorld::Arrive(Flight f) {
  switch (f.stop) {
    case Stop::kHost: {
      auto b = udp_bound_.find(f.t.destination);
      if (b == udp_bound_.end() || machines_[b->second]->host != f.index) {
        ++stats_.datagrams_undeliverable;
        return;
      }
      Deliver(f.t.destination, f.t.source, f.t.payload);
      return;
    }
    case Stop::kNatOutside: NatInbound(f.index, std::move(f.t)); return;
    case Stop::kNatInside: {
      Nat& n = nats_[f.index];
      if (f.t.destination.ip.family() == n.table->external().family()) {
        const std::optional<Endpoint> mapped =
            n.table->Outbound(now_, f.t.source, f.t.destination);
        if (!mapped) {
          ++stats_.datagrams_nat_dropped;
          return;
        }
        f.t.source = *mapped;
        if (f.t.destination.ip == n.table->external()) {
          if (!n.table->config().hairpin) {
            ++stats_.datagrams_nat_dropped;
            return;
          }
          NatInbound(f.index, std::move(f.t));
          return;
        }
      }
      if (Lost(n.uplink.loss)) {
        ++stats_.datagrams_lost;
        return;
      }
      RouteIn(n.outside, n.uplink.latency, std::move(f.t), /*may_go_up=*/true);
      return;
    }
  }
}

void VirtualWorld::NatInbound(NatId id, Transmit t) {
  Nat& n = nats_[id];
  const std::optional<Endpoint> internal = n.table->Inbound(now_, t.source, t.destination.port);
  if (!internal) {
    ++stats_.datagrams_nat_dropped;
    return;
  }
  t.destination = *internal;
  RouteIn(n.inside, Duration::Zero(), std::move(t), /*may_go_up=*/false);
}

void VirtualWorld::Deliver(const Endpoint& local, const Endpoint& remote, const Bytes& payload) {
  auto b = udp_bound_.find(local);
  if (b == udp_bound_.end()) {
    ++stats_.datagrams_undeliverable;
    return;
  }
  const MachineId id = b->second;
  Machine& m = *machines_[id];
  ++stats_.datagrams_delivered;
  if (on_deliver) on_deliver(DatagramSeen{now_, id, local, remote, payload});
  m.spec.datagram->HandleDatagram(now_, local, remote, payload);
  Pump(id);
}

void VirtualWorld::InjectDatagram(const Endpoint& to, const Endpoint& from, Bytes payload) {
  Deliver(to, from, payload);
}

// ---- streams -----------------------------------------------------------------

VirtualWorld::Route VirtualWorld::ResolveStream(HostId from, const Endpoint& remote) {
  Host& h = hosts_.at(from);
  IpAddress src_ip = h.addresses.front();
  for (const IpAddress& a : h.addresses) {
    if (a.family() == remote.ip.family()) {
      src_ip = a;
      break;
    }
  }
  Route route{std::nullopt, h.access.latency, Endpoint(src_ip, h.next_port++)};
  RealmId realm = h.realm;
  for (size_t hop = 0; hop <= nats_.size(); ++hop) {
    if (const PairParams* p = Pair(route.seen_as.ip, remote.ip)) route.latency += p->extra;
    if (const std::optional<HostId> target = HostWith(realm, remote.ip)) {
      route.latency += hosts_[*target].access.latency;
      auto l = listening_.find(remote);
      if (l != listening_.end() && machines_[l->second]->host == *target) route.server = l->second;
      return route;
    }
    if (NatWith(realm, remote.ip) || !realms_[realm].gateway) return route;  // no port forwarding
    Nat& n = nats_[*realms_[realm].gateway];
    route.seen_as = Endpoint(n.table->external(), n.next_tcp_port++);
    route.latency += n.uplink.latency;
    realm = n.outside;
  }
  return route;
}

void VirtualWorld::OnAction(MachineId m, StreamAction a) {
  if (a.kind == StreamAction::Kind::kConnect) {
    StreamLink link;
    link.client = m;
    link.client_conn = a.conn;
    link.server_endpoint = a.remote;
    const StreamLinkId id = links_.size();
    const Route route = ResolveStream(machines_[m]->host, a.remote);
    link.latency = route.latency;
    if (!route.server || a.tls) {
      ++(a.tls ? stats_.streams_refused_tls : stats_.streams_refused);
      link.server_open = false;
      links_.push_back(std::move(link));
      link_ends_[{m, a.conn}] = id;
      Schedule(now_ + route.latency * 2, StreamItem{id, false, StreamItem::Kind::kClosed, {}});
      return;
    }
    ++stats_.streams_opened;
    link.server = route.server;
    link.server_conn = next_server_conn_++;
    link.client_seen_as = route.seen_as;
    links_.push_back(std::move(link));
    link_ends_[{m, a.conn}] = id;
    link_ends_[{*route.server, links_[id].server_conn}] = id;
    Schedule(now_ + route.latency, StreamItem{id, true, StreamItem::Kind::kConnected, {}});
    Schedule(now_ + route.latency * 2, StreamItem{id, false, StreamItem::Kind::kConnected, {}});
    return;
  }
  auto end = link_ends_.find({m, a.conn});
  if (end == link_ends_.end()) return;
  const StreamLinkId id = end->second;
  StreamLink& link = links_[id];
  const bool from_client = link.client == m && link.client_conn == a.conn;
  bool& mine = from_client ? link.client_open : link.server_open;
  if (!mine) return;
  if (a.kind == StreamAction::Kind::kClose) {
    mine = false;
    if (!link.blackholed && link.server) {
      Schedule(now_ + link.latency, StreamItem{id, from_client, StreamItem::Kind::kClosed, {}});
    }
    return;
  }
  if (capture_streams) {
    Bytes& log = from_client ? link.to_server : link.to_client;
    log.insert(log.end(), a.data.begin(), a.data.end());
  }
  if (link.blackholed || !link.server) return;
  for (size_t off = 0; off < a.data.size(); off += max_segment) {
    const size_t n = std::min(max_segment, a.data.size() - off);
    Bytes segment(a.data.begin() + static_cast<std::ptrdiff_t>(off),
                  a.data.begin() + static_cast<std::ptrdiff_t>(off + n));
    Schedule(now_ + link.latency,
             StreamItem{id, from_client, StreamItem::Kind::kData, std::move(segment)});
  }
}

void VirtualWorld::ArriveStream(const StreamItem& item) {
  StreamLink& link = links_[item.link];
  if (link.blackholed && item.kind != StreamItem::Kind::kClosed) return;
  bool& open = item.to_server ? link.server_open : link.client_open;
  if (!open) return;
  const MachineId id = item.to_server ? *link.server : link.client;
  Machine& m = *machines_[id];
  if (!m.attached) return;
  const ConnectionId conn = item.to_server ? link.server_conn : link.client_conn;
  switch (item.kind) {
    case StreamItem::Kind::kConnected:
      m.spec.stream->HandleConnected(now_, conn,
                                     item.to_server ? link.client_seen_as : link.server_endpoint);
      break;
    case StreamItem::Kind::kData: m.spec.stream->HandleStream(now_, conn, item.data); break;
    case StreamItem::Kind::kClosed:
      open = false;
      m.spec.stream->HandleClosed(now_, conn);
      break;
  }
  Pump(id);
}

std::vector<StreamLinkId> VirtualWorld::StreamLinksTo(const Endpoint& server) const {
  std::vector<StreamLinkId> out;
  for (StreamLinkId l = 0; l < links_.size(); ++l) {
    if (links_[l].server && links_[l].server_endpoint == server) out.push_back(l);
  }
  return out;
}

const Bytes& VirtualWorld::StreamBytesToServer(StreamLinkId link) const {
  return links_.at(link).to_server;
}

const Bytes& VirtualWorld::StreamBytesToClient(StreamLinkId link) const {
  return links_.at(link).to_client;
}

std::vector<StreamLinkId> VirtualWorld::StreamLinksFrom(MachineId client) const {
  std::vector<StreamLinkId> out;
  for (StreamLinkId l = 0; l < links_.size(); ++l) {
    if (links_[l].client == client) out.push_back(l);
  }
  return out;
}

bool VirtualWorld::StreamOpenAtServer(StreamLinkId link) const {
  return links_.at(link).server_open;
}

std::optional<ConnectionId> VirtualWorld::StreamServerConn(StreamLinkId link) const {
  const StreamLink& l = links_.at(link);
  if (!l.server) return std::nullopt;
  return l.server_conn;
}

void VirtualWorld::InjectStream(StreamLinkId id, Bytes bytes) {
  StreamLink& link = links_.at(id);
  if (capture_streams) link.to_server.insert(link.to_server.end(), bytes.begin(), bytes.end());
  if (link.blackholed || !link.server) return;
  Schedule(now_ + link.latency, StreamItem{id, true, StreamItem::Kind::kData, std::move(bytes)});
}

void VirtualWorld::CutStream(StreamLinkId id) {
  StreamLink& link = links_.at(id);
  if (link.client_open) Schedule(now_, StreamItem{id, false, StreamItem::Kind::kClosed, {}});
  if (link.server && link.server_open) {
    Schedule(now_, StreamItem{id, true, StreamItem::Kind::kClosed, {}});
  }
}

void VirtualWorld::BlackholeStream(StreamLinkId id) { links_.at(id).blackholed = true; }

}  // namespace testsupport
}  // namespace punchlab
