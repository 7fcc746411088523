#include "run-sim/counters.h"

#include "results/portmap-counters.h"

namespace punchlab {
namespace runsim {
namespace {

using Group = std::map<std::string, uint64_t>;

// One "name": value entry per field; the field's name is the counter's.
#define PL_COUNT(group, stats, field) (group)[#field] = (stats).field

Group NatGroup(const ns3::NatMiddlebox& box) {
  Group g;
  const nat::NatCounters& c = box.GetNat().counters();
  PL_COUNT(g, c, translated_outbound);
  PL_COUNT(g, c, translated_inbound);
  PL_COUNT(g, c, hairpinned);
  PL_COUNT(g, c, filtered);
  PL_COUNT(g, c, no_mapping);
  PL_COUNT(g, c, pool_exhausted);
  PL_COUNT(g, c, no_external_address);
  PL_COUNT(g, c, hairpin_refused);
  PL_COUNT(g, c, mappings_created);
  PL_COUNT(g, c, mappings_expired);
  PL_COUNT(g, c, mappings_lost);
  PL_COUNT(g, c, flows_expired);
  PL_COUNT(g, c, reboots);
  return g;
}

Group FirewallGroup(const ns3::NatMiddlebox& box) {
  Group g;
  const nat::FirewallCounters& c = box.GetFirewall().counters();
  PL_COUNT(g, c, passed_outbound);
  PL_COUNT(g, c, passed_inbound);
  PL_COUNT(g, c, dropped_unsolicited);
  PL_COUNT(g, c, dropped_udp_blocked);
  PL_COUNT(g, c, dropped_not_allowed);
  PL_COUNT(g, c, flows_expired);
  return g;
}

void AddPacketCounters(Group& g, const ns3::NatMiddlebox& box) {
  const ns3::NatMiddlebox::PacketCounters& c = box.GetPacketCounters();
  PL_COUNT(g, c, malformed);
  PL_COUNT(g, c, fragments);
  PL_COUNT(g, c, unsupported);
  PL_COUNT(g, c, not_routed);
}

// The router's NAT-PMP/PCP server (simulation only: miniupnpd counts nothing
// it tells), as "portmap_<field>" in the NAT's group.
void AddPortMappingServer(Group& g, const nat::PortMappingServerCounters& c) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"pmp_requests", c.pmp_requests},
      {"pcp_requests", c.pcp_requests},
      {"granted", c.granted},
      {"deleted", c.deleted},
      {"refused", c.refused},
      {"out_of_resources", c.out_of_resources},
      {"unsupported_version", c.unsupported_version},
      {"unsupported", c.unsupported},
      {"address_mismatch", c.address_mismatch},
      {"delete_not_authorized", c.delete_not_authorized},
      {"dropped_malformed", c.dropped_malformed},
      {"dropped_not_offered", c.dropped_not_offered}};
  for (const auto& [name, value] : fields) g[std::string("portmap_") + name] = value;
}

// The router's UPnP IGD, as "upnp_<field>" in the NAT's group (only when the
// NAT offers upnp: the other port-mapping routers' groups stay as they were).
void AddUpnpIgd(Group& g, const nat::UpnpIgdCounters& c) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"searches", c.searches},
      {"searches_answered", c.searches_answered},
      {"searches_ignored", c.searches_ignored},
      {"ssdp_malformed", c.ssdp_malformed},
      {"http_requests", c.http_requests},
      {"http_errors", c.http_errors},
      {"descriptions", c.descriptions},
      {"soap_calls", c.soap_calls},
      {"granted", c.granted},
      {"renewed", c.renewed},
      {"faults", c.faults},
      {"lease_refused", c.lease_refused},
      {"deleted", c.deleted},
      {"delete_absent", c.delete_absent}};
  for (const auto& [name, value] : fields) g[std::string("upnp_") + name] = value;
}

Group NodeGroup(const node::NodeStats& c) {
  Group g;
  PL_COUNT(g, c, datagrams_received);
  PL_COUNT(g, c, stun_datagrams);
  PL_COUNT(g, c, disco_datagrams);
  PL_COUNT(g, c, data_datagrams);
  PL_COUNT(g, c, unknown_datagrams);
  PL_COUNT(g, c, portmap_datagrams);
  PL_COUNT(g, c, disco_pings_sent);
  PL_COUNT(g, c, disco_pongs_sent);
  PL_COUNT(g, c, disco_call_me_maybes_sent);
  PL_COUNT(g, c, disco_pings_received);
  PL_COUNT(g, c, disco_pongs_received);
  PL_COUNT(g, c, disco_call_me_maybes_received);
  PL_COUNT(g, c, disco_dropped);
  PL_COUNT(g, c, disco_not_opened);
  PL_COUNT(g, c, disco_sender_mismatch);
  PL_COUNT(g, c, disco_node_key_mismatch);
  PL_COUNT(g, c, disco_call_me_maybe_over_udp);
  PL_COUNT(g, c, disco_pongs_rejected);
  PL_COUNT(g, c, disco_pings_not_answered);
  PL_COUNT(g, c, pings_without_local);
  PL_COUNT(g, c, data_sent_direct);
  PL_COUNT(g, c, data_sent_derp);
  PL_COUNT(g, c, data_received);
  PL_COUNT(g, c, data_dropped);
  PL_COUNT(g, c, data_unknown_sender);
  PL_COUNT(g, c, data_bad_box);
  PL_COUNT(g, c, data_sender_mismatch);
  PL_COUNT(g, c, sends_unknown_peer);
  PL_COUNT(g, c, sends_too_large);
  PL_COUNT(g, c, sends_no_route);
  PL_COUNT(g, c, derp_queue_dropped);
  PL_COUNT(g, c, derp_send_failed);
  PL_COUNT(g, c, derp_unknown_packets);
  PL_COUNT(g, c, derp_peer_gone);
  PL_COUNT(g, c, peers_rejected);
  PL_COUNT(g, c, patches_unknown_peer);
  return g;
}

Group WireGuardGroup(const wireguard::PeerCounters& c) {
  Group g;
  PL_COUNT(g, c, initiations_sent);
  PL_COUNT(g, c, handshakes);
  PL_COUNT(g, c, rekeys);
  PL_COUNT(g, c, handshake_timeouts);
  PL_COUNT(g, c, keepalives_sent);
  PL_COUNT(g, c, keepalives_received);
  PL_COUNT(g, c, data_sent);
  PL_COUNT(g, c, data_received);
  PL_COUNT(g, c, replayed);
  PL_COUNT(g, c, late);
  PL_COUNT(g, c, cookies_received);
  PL_COUNT(g, c, staged_dropped);
  return g;
}

Group DerpGroup(const ns3::DerpServerApplication& server) {
  Group g;
  const derp::ServerStats& c = server.GetStats();
  PL_COUNT(g, c, connections_accepted);
  PL_COUNT(g, c, clients_registered);
  PL_COUNT(g, c, duplicate_clients);
  PL_COUNT(g, c, packets_relayed);
  PL_COUNT(g, c, bytes_relayed);
  PL_COUNT(g, c, packets_dropped_unknown_dest);
  PL_COUNT(g, c, packets_dropped_queue_overflow);
  PL_COUNT(g, c, packets_dropped_gone);
  PL_COUNT(g, c, control_frames_dropped);
  PL_COUNT(g, c, peer_gone_not_here_sent);
  PL_COUNT(g, c, peer_gone_disconnected_sent);
  PL_COUNT(g, c, protocol_errors);
  PL_COUNT(g, c, handshake_timeouts);
  PL_COUNT(g, c, keepalives_sent);
  const stun::StunServerStats& s = server.GetStunStats();
  g["stun_requests"] = s.requests;
  g["stun_success_responses"] = s.success_responses;
  g["stun_dropped_malformed"] = s.dropped_malformed;
  // Named as the lab's (DERP runs over TLS in both; model/tls-model.h).
  const ns3::MachineHostCounters t = server.GetTcpCounters();
  g["tls_handshakes"] = t.tlsHandshakes;
  g["tls_failures"] = t.tlsFailures;
  return g;
}

Group ControlGroup(const control::ServerStats& c) {
  Group g;
  PL_COUNT(g, c, connections);
  PL_COUNT(g, c, messages);
  PL_COUNT(g, c, oversized);
  PL_COUNT(g, c, undecryptable);
  PL_COUNT(g, c, malformed);
  PL_COUNT(g, c, out_of_order);
  PL_COUNT(g, c, unexpected);
  PL_COUNT(g, c, registrations);
  PL_COUNT(g, c, refused);
  PL_COUNT(g, c, netmaps_sent);
  PL_COUNT(g, c, handshake_timeouts);
  PL_COUNT(g, c, idle_timeouts);
  return g;
}

#undef PL_COUNT

}  // namespace

results::CounterGroups CollectCounters(const ScenarioWorld& world) {
  results::CounterGroups groups;
  for (const WorldBox& b : world.boxes) {
    if (b.nat) {
      Group g = NatGroup(*b.box);
      AddPacketCounters(g, *b.box);
      if (b.box->HasPortMapping()) AddPortMappingServer(g, b.box->GetPortMapping().counters());
      if (b.box->HasPortMapping() && b.box->GetUpnp().config().upnp) {
        AddUpnpIgd(g, b.box->GetUpnp().counters());
      }
      groups["nat/" + b.name] = std::move(g);
    } else {
      Group g = FirewallGroup(*b.box);
      AddPacketCounters(g, *b.box);
      groups["firewall/" + b.name] = std::move(g);
    }
  }
  for (const WorldNode& n : world.nodes) {
    groups["node/" + n.name] = NodeGroup(n.app->GetStats());
    const node::Node* machine = n.app->GetMachine();
    if (machine == nullptr) continue;
    if (machine->portmap() != nullptr) {
      groups["portmap/" + n.name] = results::PortMapClientCounters(
          machine->portmap()->stats(), machine->upnp() ? &machine->upnp()->stats() : nullptr);
    }
    // WireGuard per pair and direction, for the peers a node's (last run's)
    // device knows: only with data_plane: wireguard.
    for (const WorldNode& peer : world.nodes) {
      if (const wireguard::PeerCounters* c = machine->FindWireGuardCounters(peer.key)) {
        groups["wireguard/" + n.name + "->" + peer.name] = WireGuardGroup(*c);
      }
    }
  }
  for (const WorldRegion& r : world.regions) groups["derp/" + r.def->name] = DerpGroup(*r.server);
  groups["control"] = ControlGroup(world.control->GetStats());
  for (size_t i = 0; i < world.links.size(); ++i) {
    const uint64_t lost = world.LinkLost(i);
    const uint64_t down = world.LinkDroppedDown(i);
    if (lost == 0 && down == 0) continue;
    groups["link/" + world.links[i].name] = {{"lost", lost}, {"dropped_down", down}};
  }
  if (world.internet->GetUnroutable() != 0) {
    groups["internet"] = {{"unroutable", world.internet->GetUnroutable()}};
  }
  return groups;
}

}  // namespace runsim
}  // namespace punchlab
