// A NAT and/or stateful firewall on an ns-3 node, translating and filtering
// real IPv4 UDP and TCP packets between its inside and outside interfaces.
//
// Hook: ns-3.37 has no netfilter, and Ipv4ListRouting delivers packets for
// the node's own addresses before any routing protocol in the list sees them,
// which would swallow inbound traffic to the NAT's external address. So the
// middlebox is the node's top-level Ipv4RoutingProtocol and wraps the one the
// node had (as ns-3's MPLS module does): RouteInput sees every received
// packet first, translates what crosses between inside and outside, forwards
// it with the unicast-forward callback along a route the wrapped protocol
// picks, and hands everything else to the wrapped protocol unchanged.
// Locally sent packets (RouteOutput) are not translated.
//
// What happens to a received packet:
//  * inside -> outside (the wrapped routing sends it out an outside
//    interface), or inside -> one of the NAT's external addresses (hairpin):
//    firewall Outbound, then NAT Outbound; forwarded translated or dropped.
//  * outside -> an external address: NAT Inbound, then firewall Inbound on the
//    translated tuple. Without a mapping it is dropped and counted, not
//    delivered to the node's own stack.
//  * inside -> the box's own address, UDP port 5351, with port mapping
//    enabled: answered by the port-mapping server (NAT-PMP / PCP).
//  * inside -> the box's own address or 239.255.255.250, UDP port 1900, with
//    port mapping enabled: an SSDP search, answered by the UPnP IGD
//    (nat/upnp-igd.h); its HTTP/SOAP control runs on a TCP listener of the
//    box's own stack on port 2869 (a MachineHost), reached like any local
//    address.
//  * outside -> an inside address without translation: dropped (a NAT does
//    not route into its private side); on a firewall-only node it is the
//    inbound path and the firewall decides.
//  * anything else (other interfaces, broadcast, the node's own addresses):
//    the wrapped protocol.
// IPv4 fragments and malformed UDP/TCP headers crossing the box are dropped
// and counted; other IP protocols are dropped by the NAT (it cannot translate
// them) and passed by a firewall-only box.
//
// With both on one box, the NAT's counters say what the NAT decided: an
// inbound packet it translated may still be dropped by the firewall after it.
//
// Expiry runs on one simulator event at the core's NextExpiry(), so counters
// and the Expired trace keep time even when no packets flow.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/nat-packet.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-routing-protocol.h"
#include "ns3/ipv4.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/ipv4-routing-helper.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/traced-callback.h"
#include "ns3/traffic-control-layer.h"
#include "punchlab/nat/firewall.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping-server.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "punchlab/random.h"

namespace ns3 {

class MachineHost;

class NatMiddlebox : public Ipv4RoutingProtocol {
 public:
  static TypeId GetTypeId();
  NatMiddlebox();
  ~NatMiddlebox() override;

  // Packets the middlebox refused or could not parse, beyond the core counters.
  struct PacketCounters {
    uint64_t malformed = 0;     // truncated/inconsistent UDP/TCP header or bad checksum
    uint64_t fragments = 0;     // IPv4 fragments crossing the box
    uint64_t unsupported = 0;   // other IP protocols crossing a NAT
    uint64_t not_routed = 0;    // outside -> inside without translation, or no route
  };

  // --- Wiring (NatHelper does this) ---
  // The routing protocol the node had; it keeps routing everything not translated.
  // Ipv4StaticRoutingHelper::GetStaticRouting(ipv4) cannot see through the
  // middlebox: read the node's routes with GetInnerRouting() and change them
  // with ChangeInnerRoutes(), which forgets the routes the box remembers
  // (Ipv4StaticRouting tells no one of a change; a pointer to it kept from
  // before NatHelper::Install must not change routes).
  void SetInnerRouting(Ptr<Ipv4RoutingProtocol> inner);
  Ptr<const Ipv4RoutingProtocol> GetInnerRouting() const { return m_inner; }
  // Calls `change` with the inner static routing (aborts if it is not one).
  void ChangeInnerRoutes(const std::function<void(Ipv4StaticRouting&)>& change);
  void AddInsideInterface(uint32_t interface);
  void AddOutsideInterface(uint32_t interface);
  // Translate with `config`, using `external` (addresses of an outside
  // interface) as the pool. Random ports are drawn from `random`.
  void EnableNat(const punchlab::nat::NatConfig& config, const std::vector<Ipv4Address>& external,
                 punchlab::DeterministicRandom random);
  void EnableFirewall(const punchlab::nat::FirewallConfig& config);
  // The router answers NAT-PMP / PCP (port-mapping-server.h) at its address
  // on every inside interface, port 5351, granting leases in its NAT table.
  // Needs EnableNat first. Answers "from the LAN address" come from the
  // inside subnet's last host address. The UPnP IGD answers when the config
  // offers upnp (its HTTP listener is there whenever port mapping is).
  void EnablePortMapping(const punchlab::nat::PortMappingConfig& config);

  // --- Faults, callable at any simulated time (e.g. via Simulator::Schedule) ---
  // All mappings lost; with addresses, the outside interface trades its
  // external addresses for these (same mask) and the NAT comes back on them.
  void Reboot();
  void RebootWithAddresses(std::vector<Ipv4Address> newExternal);
  // New flows are mapped by `mapping`, live ones keep their mappings.
  void SetMappingBehaviour(punchlab::nat::Dependence mapping);
  void BlockUdp(bool block);
  // The router's port-mapping knobs change (leases stay).
  void SetPortMapping(const punchlab::nat::PortMappingConfig& config);

  // --- The fast path (scenario worlds) ---
  // Lets the box's ShapedNetDevices hand it every packet they deliver
  // (ReceiveFast) before ns-3's IPv4 stack sees it. Per translated packet
  // ns-3's receive and forward path costs some 30 k instructions (four
  // callbacks made and destroyed per packet, header copies, the traffic
  // control layer); the fast path does the same steps in a few thousand:
  // what Ipv4L3Protocol::Receive does before routing (copy, header removal,
  // padding trim, checksum), this box's RouteInput with a forward callback of
  // its own, and IpForward, SendRealOut, Ipv4Interface::Send and
  // TrafficControlLayer::Send for a device without a queue disc. Packets,
  // bytes on the wire, events and verdicts are the same as on the slow path.
  // What it skips is only what nothing here observes: Ipv4L3Protocol's Rx,
  // Tx, UnicastForward and Drop traces and raw sockets on the box's node.
  // So it is for owners who connect none of those (the scenario runner);
  // everything else (the box's own addresses, port mapping and SSDP,
  // hairpins, broadcast and multicast, TTL <= 1, packets larger than an
  // interface's MTU, bad checksums) goes to ns-3's stack as before.
  void EnableFastPath();
  // True when the packet (its IPv4 header first) was handled here.
  bool ReceiveFast(Ptr<NetDevice> device, Ptr<const Packet> packet);

  // --- Inspection ---
  bool HasNat() const { return m_nat != nullptr; }
  bool HasFirewall() const { return m_firewall != nullptr; }
  const punchlab::nat::NatTable& GetNat() const;  // only if HasNat()
  const punchlab::nat::Firewall& GetFirewall() const;  // only if HasFirewall()
  bool HasPortMapping() const { return m_portMapping != nullptr; }
  const punchlab::nat::PortMappingServer& GetPortMapping() const;  // only if HasPortMapping()
  const punchlab::nat::UpnpIgd& GetUpnp() const;                   // only if HasPortMapping()
  const PacketCounters& GetPacketCounters() const { return m_counters; }
  std::vector<Ipv4Address> GetExternalAddresses() const;

  // --- Ipv4RoutingProtocol ---
  Ptr<Ipv4Route> RouteOutput(Ptr<Packet> p, const Ipv4Header& header, Ptr<NetDevice> oif,
                             Socket::SocketErrno& sockerr) override;
  bool RouteInput(Ptr<const Packet> p, const Ipv4Header& header, Ptr<const NetDevice> idev,
                  UnicastForwardCallback ucb, MulticastForwardCallback mcb,
                  LocalDeliverCallback lcb, ErrorCallback ecb) override;
  void NotifyInterfaceUp(uint32_t interface) override;
  void NotifyInterfaceDown(uint32_t interface) override;
  void NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
  void NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
  // Only remembers `ipv4`: the wrapped protocol is already bound to it.
  void SetIpv4(Ptr<Ipv4> ipv4) override;
  void PrintRoutingTable(Ptr<OutputStreamWrapper> stream,
                         Time::Unit unit = Time::S) const override;

  // Trace signatures. Packets are the payload after the IPv4 header.
  typedef void (*PacketTracedCallback)(const Ipv4Header& header, Ptr<const Packet> packet);
  typedef void (*DropTracedCallback)(const Ipv4Header& header, Ptr<const Packet> packet,
                                     const std::string& reason);
  typedef void (*ExpiredTracedCallback)(uint8_t protocol, const Address& inside,
                                        const Address& external);

 protected:
  void DoDispose() override;

 private:
  // What RouteInput does with a packet that arrived on interface `iif`
  // (-1: not an interface of this node) when it is the box's to handle;
  // false: the wrapped protocol's. With `fast` (ReceiveFast), the rarer
  // cases (SSDP, port mapping, hairpins) answer false too, for ns-3's stack.
  // `checksums`: Node::ChecksumEnabled, read once per packet (~350
  // instructions a read) and handed to every parse of it.
  bool Dispatch(Ptr<const Packet> p, const Ipv4Header& header, int32_t iif,
                UnicastForwardCallback& ucb, bool fast, bool checksums);
  // The fast path's forward callback: IpForward and what it calls, for a
  // packet whose TTL is above 1 and that fits every MTU (ReceiveFast checked).
  void FastForward(Ptr<Ipv4Route> route, Ptr<const Packet> p, const Ipv4Header& header);
  // Forwards `packet` with `header` towards its destination; false if no route.
  // `route` is the route to that destination when the caller already looked
  // it up (routing depends on the destination only), else null.
  bool Forward(Ptr<Packet> packet, const Ipv4Header& header, UnicastForwardCallback& ucb,
               Ptr<Ipv4Route> route = nullptr);
  Ptr<Ipv4Route> Lookup(const Ipv4Header& header);
  bool IsOwnAddress(Ipv4Address dst, uint32_t in);  // IsDestinationAddress, remembered
  void ForgetAddressAnswers();  // IsOwnAddress's and Lookup's
  bool IsInside(uint32_t interface) const { return m_inside.count(interface) != 0; }
  bool IsOutside(uint32_t interface) const { return m_outside.count(interface) != 0; }
  bool IsExternal(Ipv4Address a) const;

  // `route`: the route to header's destination if RouteInput looked it up, so
  // a packet translated without changing its destination is routed once.
  void HandleOutbound(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                      Ptr<Ipv4Route> route, UnicastForwardCallback& ucb);
  void HandleInbound(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                     UnicastForwardCallback& ucb);
  // Firewall-only box: check and pass without translation.
  void HandleFiltered(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                      punchlab::nat::Direction dir, Ptr<Ipv4Route> route,
                      UnicastForwardCallback& ucb);
  // Parses for the box; false (after counting and tracing the drop) if it can't be translated.
  bool ParseOrDrop(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                   NatPacket* parsed);
  void DropUnparsed(Ptr<const Packet> p, const Ipv4Header& header, NatParseStatus status);
  void Drop(Ptr<const Packet> p, const Ipv4Header& header, punchlab::nat::DropReason reason);
  void Drop(Ptr<const Packet> p, const Ipv4Header& header, const std::string& reason);

  // A datagram from inside to the box's own address on `interface`, port 5351.
  void HandlePortMapping(const NatPacket& packet, uint32_t interface,
                         UnicastForwardCallback& ucb);
  // An SSDP datagram from inside, to the box or the SSDP group, port 1900.
  void HandleSsdp(const NatPacket& packet, uint32_t interface, UnicastForwardCallback& ucb);
  // The router's address on `interface` that `dst` names (or its first one)
  // and the LAN address answers come from with AnswerFrom::kLanAddress: the
  // inside subnet's last host address.
  void LanAddresses(uint32_t interface, Ipv4Address dst, Ipv4Address* gateway,
                    Ipv4Address* lan) const;
  void ArmExpiryTimer();
  void OnExpiryTimer();
  void OnMappingExpired(punchlab::nat::Protocol protocol, const punchlab::Endpoint& inside,
                        const punchlab::Endpoint& external);

  Ptr<Ipv4> m_ipv4;
  Ptr<Ipv4L3Protocol> m_l3;                   // set by EnableFastPath
  UnicastForwardCallback m_fastForward;       // FastForward, made once
  Ptr<TrafficControlLayer> m_tc;               // set by EnableFastPath
  std::vector<Ptr<NetDevice>> m_fastDevices;  // the devices that call ReceiveFast
  std::vector<Ptr<NetDevice>> m_directDevices;  // those of them FastForward sends on itself
  // IsOwnAddress's answers by (interface << 32 | address), forgotten when
  // the box's addresses or interfaces change.
  std::unordered_map<uint64_t, bool> m_ownAddress;
  // Lookup's routes by destination, until an address, an interface or the
  // inner routes change (Notify*, ChangeInnerRoutes).
  std::unordered_map<uint32_t, Ptr<Ipv4Route>> m_routes;
  std::vector<Ptr<NetDevice>> m_interfaceDevices;  // interface i's device, as ReceiveFast met them
  Ptr<Ipv4RoutingProtocol> m_inner;
  bool m_innerIsStatic = false;  // an Ipv4StaticRouting: Lookup may remember its answers
  std::set<uint32_t> m_inside;
  std::set<uint32_t> m_outside;
  std::unique_ptr<punchlab::DeterministicRandom> m_random;  // before m_nat, which uses it
  std::unique_ptr<punchlab::nat::NatTable> m_nat;
  std::unique_ptr<punchlab::nat::Firewall> m_firewall;
  std::unique_ptr<punchlab::nat::PortMappingServer> m_portMapping;
  std::unique_ptr<punchlab::nat::UpnpIgd> m_upnp;
  std::unique_ptr<punchlab::nat::UpnpIgdHttp> m_upnpHttp;
  Ptr<MachineHost> m_upnpHost;  // the IGD's HTTP listener on this node
  PacketCounters m_counters;
  EventId m_expiryEvent;

  TracedCallback<const Ipv4Header&, Ptr<const Packet>> m_translatedTrace;
  TracedCallback<const Ipv4Header&, Ptr<const Packet>> m_hairpinnedTrace;
  TracedCallback<const Ipv4Header&, Ptr<const Packet>> m_filteredTrace;
  TracedCallback<const Ipv4Header&, Ptr<const Packet>> m_poolExhaustedTrace;
  TracedCallback<const Ipv4Header&, Ptr<const Packet>, const std::string&> m_dropTrace;
  TracedCallback<uint8_t, const Address&, const Address&> m_expiredTrace;
};

}  // namespace ns3
