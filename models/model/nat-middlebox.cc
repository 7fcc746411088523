#include "model/nat-middlebox.h"

#include <algorithm>

#include "model/ipv4-fast-path.h"
#include "model/machine-host.h"
#include "model/punchlab-ns3-convert.h"
#include "model/shaped-net-device.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/net-device-queue-interface.h"
#include "ns3/queue-disc.h"
#include "ns3/socket.h"
#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-route.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/output-stream-wrapper.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("NatMiddlebox");
NS_OBJECT_ENSURE_REGISTERED(NatMiddlebox);

using punchlab::nat::Direction;
using punchlab::nat::DropReason;
using punchlab::nat::InboundResult;
using punchlab::nat::OutboundResult;

TypeId NatMiddlebox::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::NatMiddlebox")
          .SetParent<Ipv4RoutingProtocol>()
          .SetGroupName("Punchlab")
          .AddConstructor<NatMiddlebox>()
          .AddTraceSource("Translated",
                          "A packet forwarded translated (either direction), as it leaves.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_translatedTrace),
                          "ns3::NatMiddlebox::PacketTracedCallback")
          .AddTraceSource("Hairpinned",
                          "A packet from inside to an external address, looped back inside, "
                          "as it leaves.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_hairpinnedTrace),
                          "ns3::NatMiddlebox::PacketTracedCallback")
          .AddTraceSource("Filtered",
                          "An inbound packet refused by the NAT's filtering or the firewall.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_filteredTrace),
                          "ns3::NatMiddlebox::PacketTracedCallback")
          .AddTraceSource("PoolExhausted",
                          "An outbound packet dropped because no external port was free.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_poolExhaustedTrace),
                          "ns3::NatMiddlebox::PacketTracedCallback")
          .AddTraceSource("Drop", "Every packet the middlebox dropped, with the reason.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_dropTrace),
                          "ns3::NatMiddlebox::DropTracedCallback")
          .AddTraceSource("Expired",
                          "A mapping's idle timeout ran out: protocol number, inside and "
                          "external endpoint.",
                          MakeTraceSourceAccessor(&NatMiddlebox::m_expiredTrace),
                          "ns3::NatMiddlebox::ExpiredTracedCallback");
  return tid;
}

NatMiddlebox::NatMiddlebox() = default;
NatMiddlebox::~NatMiddlebox() = default;

void NatMiddlebox::DoDispose() {
  m_expiryEvent.Cancel();
  for (Ptr<NetDevice>& device : m_fastDevices) {
    DynamicCast<ShapedNetDevice>(device)->SetFastReceiveCallback(
        ShapedNetDevice::FastReceiveCallback());
  }
  m_fastDevices.clear();
  m_directDevices.clear();
  m_interfaceDevices.clear();
  m_fastForward = UnicastForwardCallback();
  m_tc = nullptr;
  m_l3 = nullptr;
  if (m_upnpHost) m_upnpHost->Dispose();
  m_upnpHost = nullptr;
  if (m_inner) m_inner->Dispose();
  m_inner = nullptr;
  ForgetAddressAnswers();
  m_ipv4 = nullptr;
  Ipv4RoutingProtocol::DoDispose();
}

void NatMiddlebox::SetInnerRouting(Ptr<Ipv4RoutingProtocol> inner) {
  ForgetAddressAnswers();
  m_inner = inner;
  m_innerIsStatic = DynamicCast<Ipv4StaticRouting>(inner) != nullptr;
}

void NatMiddlebox::ChangeInnerRoutes(const std::function<void(Ipv4StaticRouting&)>& change) {
  Ptr<Ipv4StaticRouting> routes = Ipv4RoutingHelper::GetRouting<Ipv4StaticRouting>(m_inner);
  NS_ABORT_MSG_UNLESS(routes, "NatMiddlebox::ChangeInnerRoutes: the inner routing is not static");
  change(*routes);
  ForgetAddressAnswers();
}

void NatMiddlebox::ForgetAddressAnswers() {
  m_ownAddress.clear();
  m_routes.clear();
}
void NatMiddlebox::AddInsideInterface(uint32_t interface) { m_inside.insert(interface); }
void NatMiddlebox::AddOutsideInterface(uint32_t interface) { m_outside.insert(interface); }

void NatMiddlebox::EnableNat(const punchlab::nat::NatConfig& config,
                             const std::vector<Ipv4Address>& external,
                             punchlab::DeterministicRandom random) {
  std::vector<punchlab::IpAddress> pool;
  for (const Ipv4Address& a : external) pool.push_back(ToPunchlab(a));
  m_random = std::make_unique<punchlab::DeterministicRandom>(std::move(random));
  m_nat = std::make_unique<punchlab::nat::NatTable>(config, std::move(pool), *m_random);
  m_nat->SetExpiryObserver([this](punchlab::nat::Protocol protocol,
                                  const punchlab::Endpoint& inside,
                                  const punchlab::Endpoint& external_endpoint) {
    OnMappingExpired(protocol, inside, external_endpoint);
  });
}

void NatMiddlebox::EnableFirewall(const punchlab::nat::FirewallConfig& config) {
  m_firewall = std::make_unique<punchlab::nat::Firewall>(config);
}

const punchlab::nat::NatTable& NatMiddlebox::GetNat() const {
  NS_ABORT_MSG_UNLESS(m_nat, "NatMiddlebox::GetNat: this middlebox has no NAT");
  return *m_nat;
}

const punchlab::nat::Firewall& NatMiddlebox::GetFirewall() const {
  NS_ABORT_MSG_UNLESS(m_firewall, "NatMiddlebox::GetFirewall: this middlebox has no firewall");
  return *m_firewall;
}

std::vector<Ipv4Address> NatMiddlebox::GetExternalAddresses() const {
  std::vector<Ipv4Address> out;
  if (m_nat) {
    for (const punchlab::IpAddress& a : m_nat->external_addresses()) out.push_back(ToNs3Ipv4(a));
  }
  return out;
}

bool NatMiddlebox::IsExternal(Ipv4Address a) const {
  return m_nat && m_nat->IsExternalAddress(ToPunchlab(a));
}

// --- Faults ---

void NatMiddlebox::Reboot() {
  NS_ABORT_MSG_UNLESS(m_nat, "NatMiddlebox::Reboot: this middlebox has no NAT");
  const bool keep = m_portMapping && m_portMapping->config().keep_on_reboot;
  m_nat->Reboot(ToPunchlab(Simulator::Now()), std::nullopt, keep);
  if (m_portMapping) m_portMapping->Reboot(ToPunchlab(Simulator::Now()));
  ArmExpiryTimer();
}

void NatMiddlebox::RebootWithAddresses(std::vector<Ipv4Address> newExternal) {
  NS_ABORT_MSG_UNLESS(m_nat, "NatMiddlebox::RebootWithAddresses: this middlebox has no NAT");
  NS_ABORT_MSG_IF(newExternal.empty(), "NatMiddlebox::RebootWithAddresses: no addresses given");
  NS_ABORT_MSG_IF(m_outside.empty(), "NatMiddlebox::RebootWithAddresses: no outside interface");
  // Take the old external addresses off the outside interfaces and put the new
  // ones on the first interface that had one, with the same mask.
  uint32_t target = *m_outside.begin();
  Ipv4Mask mask("/32");
  bool found = false;
  for (uint32_t interface : m_outside) {
    for (uint32_t i = m_ipv4->GetNAddresses(interface); i-- > 0;) {
      const Ipv4InterfaceAddress address = m_ipv4->GetAddress(interface, i);
      if (!IsExternal(address.GetLocal())) continue;
      if (!found) {
        target = interface;
        mask = address.GetMask();
        found = true;
      }
      m_ipv4->RemoveAddress(interface, i);
    }
  }
  std::vector<punchlab::IpAddress> pool;
  for (const Ipv4Address& a : newExternal) {
    m_ipv4->AddAddress(target, Ipv4InterfaceAddress(a, mask));
    pool.push_back(ToPunchlab(a));
  }
  m_nat->Reboot(ToPunchlab(Simulator::Now()), std::move(pool));
  if (m_portMapping) m_portMapping->Reboot(ToPunchlab(Simulator::Now()));
  ArmExpiryTimer();
}

void NatMiddlebox::EnablePortMapping(const punchlab::nat::PortMappingConfig& config) {
  NS_ABORT_MSG_UNLESS(m_nat, "NatMiddlebox::EnablePortMapping: enable the NAT first");
  m_portMapping = std::make_unique<punchlab::nat::PortMappingServer>(
      config, *m_nat, ToPunchlab(Simulator::Now()));
  m_upnp = std::make_unique<punchlab::nat::UpnpIgd>(config, *m_nat);
  m_upnpHttp = std::make_unique<punchlab::nat::UpnpIgdHttp>(*m_upnp);
  Ptr<Node> node = m_ipv4->GetObject<Node>();
  NS_ABORT_MSG_UNLESS(node, "NatMiddlebox::EnablePortMapping: install the middlebox first");
  m_upnpHost = CreateObject<MachineHost>(node, static_cast<punchlab::StreamMachine*>(m_upnpHttp.get()));
  m_upnpHost->Listen(punchlab::Endpoint(punchlab::IpAddress::V4(0, 0, 0, 0),
                                        punchlab::nat::UpnpIgd::kHttpPort));
}

const punchlab::nat::UpnpIgd& NatMiddlebox::GetUpnp() const {
  NS_ABORT_MSG_UNLESS(m_upnp, "NatMiddlebox::GetUpnp: no port mapping here");
  return *m_upnp;
}

void NatMiddlebox::SetPortMapping(const punchlab::nat::PortMappingConfig& config) {
  NS_ABORT_MSG_UNLESS(m_portMapping, "NatMiddlebox::SetPortMapping: no port mapping here");
  m_portMapping->SetConfig(config);
  m_upnp->SetConfig(config);
}

const punchlab::nat::PortMappingServer& NatMiddlebox::GetPortMapping() const {
  NS_ABORT_MSG_UNLESS(m_portMapping, "NatMiddlebox::GetPortMapping: no port mapping here");
  return *m_portMapping;
}

void NatMiddlebox::HandlePortMapping(const NatPacket& packet, uint32_t interface,
                                     UnicastForwardCallback& ucb) {
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  const uint32_t size = packet.body()->GetSize();
  std::vector<uint8_t> request(size);
  packet.body()->CopyData(request.data(), size);
  Ipv4Address gateway;
  Ipv4Address lan;
  LanAddresses(interface, ToNs3Ipv4(packet.destination().ip), &gateway, &lan);
  auto answer = m_portMapping->HandleRequest(now, packet.source(), packet.destination().ip,
                                             ToPunchlab(lan),
                                             punchlab::ByteView(request.data(), request.size()));
  ArmExpiryTimer();  // a lease changes the table's next expiry
  if (!answer) return;
  Ipv4Header out;
  Ptr<Packet> reply = NatPacket::MakeUdp(answer->source, answer->destination,
                                         answer->payload.data(), answer->payload.size(), &out);
  Forward(reply, out, ucb);
}

void NatMiddlebox::LanAddresses(uint32_t interface, Ipv4Address dst, Ipv4Address* gateway,
                                Ipv4Address* lan) const {
  // The LAN address of #5502's router: the inside subnet's last host address.
  *gateway = m_ipv4->GetAddress(interface, 0).GetLocal();
  Ipv4Mask mask = m_ipv4->GetAddress(interface, 0).GetMask();
  for (uint32_t i = 0; i < m_ipv4->GetNAddresses(interface); ++i) {
    if (m_ipv4->GetAddress(interface, i).GetLocal() == dst) {
      *gateway = dst;
      mask = m_ipv4->GetAddress(interface, i).GetMask();
    }
  }
  *lan = Ipv4Address(gateway->CombineMask(mask).Get() | (~mask.Get() - 1));
}

void NatMiddlebox::HandleSsdp(const NatPacket& packet, uint32_t interface,
                              UnicastForwardCallback& ucb) {
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  const uint32_t size = packet.body()->GetSize();
  std::vector<uint8_t> datagram(size);
  packet.body()->CopyData(datagram.data(), size);
  Ipv4Address gateway;
  Ipv4Address lan;
  LanAddresses(interface, ToNs3Ipv4(packet.destination().ip), &gateway, &lan);
  auto answer = m_upnp->HandleSsdp(now, packet.source(), packet.destination().ip,
                                   ToPunchlab(gateway), ToPunchlab(lan),
                                   punchlab::ByteView(datagram.data(), datagram.size()));
  if (!answer) return;
  Ipv4Header out;
  Ptr<Packet> reply = NatPacket::MakeUdp(answer->source, answer->destination,
                                         answer->payload.data(), answer->payload.size(), &out);
  Forward(reply, out, ucb);
}

void NatMiddlebox::SetMappingBehaviour(punchlab::nat::Dependence mapping) {
  NS_ABORT_MSG_UNLESS(m_nat, "NatMiddlebox::SetMappingBehaviour: this middlebox has no NAT");
  m_nat->SetMappingBehaviour(mapping);
}

void NatMiddlebox::BlockUdp(bool block) {
  NS_ABORT_MSG_UNLESS(m_firewall, "NatMiddlebox::BlockUdp: this middlebox has no firewall");
  m_firewall->BlockUdp(block);
}

// --- Packet path ---

namespace {
// How many own-address answers and routes a box keeps (each), so that one
// that sends to many addresses (a CGNAT before thousands of nodes) holds a
// few tens of KB, not a copy per destination of a big world (a box sends to
// a few tens of addresses in the bench's crowds and tailnets).
constexpr size_t kRememberedAnswers = 256;
}  // namespace

Ptr<Ipv4Route> NatMiddlebox::Lookup(const Ipv4Header& header) {
  // Ipv4StaticRouting::RouteOutput for a unicast without an output device
  // (~2.8 k instructions: every route, the source address selection, a new
  // Ipv4Route) depends on the destination, the routes and the box's
  // addresses. Its answers are remembered per destination and forgotten when
  // an address or interface changes (Notify*, which also change the static
  // routes) or the routes do (ChangeInnerRoutes: the box holds the only
  // pointer that may change them). Nothing that takes a route changes it.
  Socket::SocketErrno error;
  const Ipv4Address dst = header.GetDestination();
  if (!m_innerIsStatic || dst.IsMulticast()) {
    return m_inner->RouteOutput(nullptr, header, nullptr, error);
  }
  const auto it = m_routes.find(dst.Get());
  if (it != m_routes.end()) return it->second;
  Ptr<Ipv4Route> route = m_inner->RouteOutput(nullptr, header, nullptr, error);
  if (route) {
    if (m_routes.size() >= kRememberedAnswers) m_routes.clear();
    m_routes.emplace(dst.Get(), route);
  }
  return route;
}

bool NatMiddlebox::Forward(Ptr<Packet> packet, const Ipv4Header& header,
                           UnicastForwardCallback& ucb, Ptr<Ipv4Route> route) {
  if (!route) route = Lookup(header);
  if (!route) {
    ++m_counters.not_routed;
    Drop(packet, header, std::string("no-route"));
    return false;
  }
  ucb(route, packet, header);
  return true;
}

bool NatMiddlebox::RouteInput(Ptr<const Packet> p, const Ipv4Header& header,
                              Ptr<const NetDevice> idev, UnicastForwardCallback ucb,
                              MulticastForwardCallback mcb, LocalDeliverCallback lcb,
                              ErrorCallback ecb) {
  if (Dispatch(p, header, m_ipv4->GetInterfaceForDevice(idev), ucb, false,
               Node::ChecksumEnabled())) {
    return true;
  }
  return m_inner->RouteInput(p, header, idev, ucb, mcb, lcb, ecb);
}

bool NatMiddlebox::Dispatch(Ptr<const Packet> p, const Ipv4Header& header, int32_t iif,
                            UnicastForwardCallback& ucb, bool fast, bool checksums) {
  const Ipv4Address dst = header.GetDestination();
  // SSDP from inside: to the box itself or to the group (which the box's own
  // stack would otherwise take as a multicast it has no route for).
  if (iif >= 0 && m_upnp && IsInside(static_cast<uint32_t>(iif)) &&
      (dst == Ipv4Address("239.255.255.250") ||
       m_ipv4->IsDestinationAddress(dst, static_cast<uint32_t>(iif)))) {
    if (fast) return false;
    NatPacket packet;
    if (NatPacket::Parse(p, header, checksums, &packet) == NatParseStatus::kOk &&
        packet.protocol() == punchlab::nat::Protocol::kUdp &&
        packet.destination().port == punchlab::portmap::upnp::kSsdpPort) {
      HandleSsdp(packet, static_cast<uint32_t>(iif), ucb);
      return true;
    }
  }
  if (iif >= 0 && !dst.IsBroadcast() && !dst.IsMulticast()) {
    const uint32_t in = static_cast<uint32_t>(iif);
    const bool inside = IsInside(in);
    const bool outside = IsOutside(in);
    if (IsExternal(dst) && (inside || outside)) {
      if (inside) {
        if (fast) return false;
        HandleOutbound(p, header, checksums, nullptr, ucb);  // hairpin
      } else {
        HandleInbound(p, header, checksums, ucb);
      }
      return true;
    }
    if (inside && m_portMapping && m_ipv4->IsDestinationAddress(dst, in)) {
      if (fast) return false;
      NatPacket packet;
      if (NatPacket::Parse(p, header, checksums, &packet) == NatParseStatus::kOk &&
          packet.protocol() == punchlab::nat::Protocol::kUdp &&
          packet.destination().port == punchlab::portmap::kServerPort) {
        HandlePortMapping(packet, in, ucb);
        return true;
      }
    }
    if ((inside || outside) && !IsOwnAddress(dst, in)) {
      Ptr<Ipv4Route> route = Lookup(header);
      const int32_t out = route ? m_ipv4->GetInterfaceForDevice(route->GetOutputDevice()) : -1;
      if (out >= 0 && inside && IsOutside(static_cast<uint32_t>(out))) {
        if (m_nat) {
          HandleOutbound(p, header, checksums, route, ucb);
        } else {
          HandleFiltered(p, header, checksums, Direction::kOutbound, route, ucb);
        }
        return true;
      }
      if (out >= 0 && outside && IsInside(static_cast<uint32_t>(out))) {
        if (m_nat) {
          ++m_counters.not_routed;
          Drop(p, header, std::string("not-routed"));
        } else {
          HandleFiltered(p, header, checksums, Direction::kInbound, route, ucb);
        }
        return true;
      }
    }
  }
  return false;
}

// --- The fast path ---

void NatMiddlebox::EnableFastPath() {
  m_l3 = DynamicCast<Ipv4L3Protocol>(m_ipv4);
  NS_ABORT_MSG_UNLESS(m_l3, "NatMiddlebox::EnableFastPath: install the middlebox first");
  Ptr<Node> node = m_l3->GetObject<Node>();
  m_tc = node->GetObject<TrafficControlLayer>();
  m_fastForward = MakeCallback(&NatMiddlebox::FastForward, this);
  for (uint32_t i = 0; i < node->GetNDevices(); ++i) {
    Ptr<ShapedNetDevice> device = DynamicCast<ShapedNetDevice>(node->GetDevice(i));
    if (!device) continue;
    device->SetFastReceiveCallback(MakeCallback(&NatMiddlebox::ReceiveFast, this));
    m_fastDevices.push_back(device);
    // A device queue interface is aggregated when a device is set up, never later.
    if (!device->GetObject<NetDeviceQueueInterface>()) m_directDevices.push_back(device);
  }
}

bool NatMiddlebox::ReceiveFast(Ptr<NetDevice> device, Ptr<const Packet> p) {
  // IpForward fragments what exceeds the outgoing MTU (translation keeps the
  // size). An interface's MTU is its device's (Ipv4L3Protocol::GetMtu), read
  // live; the devices are remembered, as ns-3 never removes an interface nor
  // changes its device (asking the IPv4 stack per interface cost ~500
  // instructions a packet).
  const uint32_t interfaces = m_l3->GetNInterfaces();
  while (m_interfaceDevices.size() < interfaces) {
    m_interfaceDevices.push_back(
        m_l3->GetInterface(static_cast<uint32_t>(m_interfaceDevices.size()))->GetDevice());
  }
  for (const Ptr<NetDevice>& d : m_interfaceDevices) {
    if (p->GetSize() > d->GetMtu()) return false;
  }
  Ipv4Arrival a;
  if (!TakeIpv4(*m_l3, device, p, &a) || a.header.GetTtl() <= 1) return false;
  return Dispatch(a.packet, a.header, static_cast<int32_t>(a.interface), m_fastForward, true,
                  a.checksums);
}

void NatMiddlebox::FastForward(Ptr<Ipv4Route> route, Ptr<const Packet> p,
                               const Ipv4Header& header) {
  // IpForward: the TTL (above 1, ReceiveFast checked), and no priority tag
  // (IpForward replaces it with one for the TOS, which the traffic control
  // layer removes again before a device without a queue disc).
  Ipv4Header ipHeader = header;
  Ptr<Packet> packet = p->Copy();
  ipHeader.SetTtl(ipHeader.GetTtl() - 1);
  SocketPriorityTag priorityTag;
  packet->RemovePacketTag(priorityTag);
  // SendRealOut.
  Ptr<NetDevice> device = route->GetOutputDevice();
  Ptr<Ipv4Interface> outInterface = m_l3->GetInterface(m_l3->GetInterfaceForDevice(device));
  if (!outInterface->IsUp()) return;  // ns-3 drops it too (only its Drop trace would see it)
  ++Ipv4FastPathCountsSoFar().forwarded;
  NS_ABORT_MSG_IF(packet->GetSize() + ipHeader.GetSerializedSize() > device->GetMtu(),
                  "NatMiddlebox::FastForward: a packet larger than the MTU");
  const Ipv4Address next = route->GetGateway() == Ipv4Address::GetAny()
                               ? ipHeader.GetDestination()
                               : route->GetGateway();
  // Ipv4Interface::Send and TrafficControlLayer::Send, when the device is one
  // of this box's shaped devices (no ARP, not a loopback) without a device
  // queue interface, the next hop is not one of the interface's own
  // addresses and there is no queue disc; otherwise ns-3's own Send.
  bool direct = std::find(m_directDevices.begin(), m_directDevices.end(), device) !=
                    m_directDevices.end() &&
                !m_tc->GetRootQueueDiscOnDevice(device);
  for (uint32_t i = 0; direct && i < outInterface->GetNAddresses(); ++i) {
    direct = outInterface->GetAddress(i).GetLocal() != next;
  }
  if (!direct) {
    outInterface->Send(packet, ipHeader, next);
    return;
  }
  packet->AddHeader(ipHeader);
  device->Send(packet, device->GetBroadcast(), Ipv4L3Protocol::PROT_NUMBER);
}

bool NatMiddlebox::ParseOrDrop(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                               NatPacket* parsed) {
  const NatParseStatus status = NatPacket::Parse(p, header, checksums, parsed);
  if (status == NatParseStatus::kOk) return true;
  DropUnparsed(p, header, status);
  return false;
}

void NatMiddlebox::DropUnparsed(Ptr<const Packet> p, const Ipv4Header& header,
                                NatParseStatus status) {
  switch (status) {
    case NatParseStatus::kOk:
      return;
    case NatParseStatus::kOtherProtocol:
      ++m_counters.unsupported;
      break;
    case NatParseStatus::kFragment:
      ++m_counters.fragments;
      break;
    case NatParseStatus::kMalformed:
    case NatParseStatus::kBadChecksum:
      ++m_counters.malformed;
      break;
  }
  Drop(p, header, std::string(ToString(status)));
}

void NatMiddlebox::HandleOutbound(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                                  Ptr<Ipv4Route> route, UnicastForwardCallback& ucb) {
  NatPacket packet;
  if (!ParseOrDrop(p, header, checksums, &packet)) return;
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  if (m_firewall) {
    const DropReason refused = m_firewall->Outbound(now, packet.protocol(), packet.source(),
                                                    packet.destination(), packet.tcpFlags());
    if (refused != DropReason::kNone) {
      ArmExpiryTimer();
      Drop(p, header, refused);
      return;
    }
  }
  const OutboundResult result = m_nat->Outbound(now, packet.protocol(), packet.source(),
                                                packet.destination(), packet.tcpFlags());
  ArmExpiryTimer();
  Ipv4Header out;
  switch (result.verdict) {
    case OutboundResult::Verdict::kDrop:
      Drop(p, header, result.reason);
      return;
    case OutboundResult::Verdict::kTranslate: {
      // Same destination as `header`: `route` (if any) still holds.
      Ptr<Packet> translated = packet.Rewrite(result.external_src, packet.destination(), &out);
      if (Forward(translated, out, ucb, route)) m_translatedTrace(out, translated);
      return;
    }
    case OutboundResult::Verdict::kHairpin: {
      Ptr<Packet> looped = packet.Rewrite(result.external_src, result.inside_dst, &out);
      if (Forward(looped, out, ucb)) m_hairpinnedTrace(out, looped);
      return;
    }
  }
}

void NatMiddlebox::HandleInbound(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                                 UnicastForwardCallback& ucb) {
  NatPacket packet;
  if (!ParseOrDrop(p, header, checksums, &packet)) return;
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  const InboundResult result = m_nat->Inbound(now, packet.protocol(), packet.source(),
                                              packet.destination(), packet.tcpFlags());
  if (result.verdict == InboundResult::Verdict::kDrop) {
    ArmExpiryTimer();
    Drop(p, header, result.reason);
    return;
  }
  if (m_firewall) {
    const DropReason refused = m_firewall->Inbound(now, packet.protocol(), packet.source(),
                                                   result.inside_dst, packet.tcpFlags());
    if (refused != DropReason::kNone) {
      ArmExpiryTimer();
      Drop(p, header, refused);
      return;
    }
  }
  ArmExpiryTimer();
  Ipv4Header out;
  Ptr<Packet> translated = packet.Rewrite(packet.source(), result.inside_dst, &out);
  if (Forward(translated, out, ucb)) m_translatedTrace(out, translated);
}

void NatMiddlebox::HandleFiltered(Ptr<const Packet> p, const Ipv4Header& header, bool checksums,
                                  Direction dir, Ptr<Ipv4Route> route,
                                  UnicastForwardCallback& ucb) {
  NatPacket packet;
  const NatParseStatus status = NatPacket::Parse(p, header, checksums, &packet);
  if (status == NatParseStatus::kOtherProtocol) {
    Forward(p->Copy(), header, ucb, route);  // a firewall judges UDP and TCP only
    return;
  }
  if (status != NatParseStatus::kOk) {
    DropUnparsed(p, header, status);
    return;
  }
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  const DropReason refused =
      dir == Direction::kOutbound
          ? m_firewall->Outbound(now, packet.protocol(), packet.source(), packet.destination(),
                                 packet.tcpFlags())
          : m_firewall->Inbound(now, packet.protocol(), packet.source(), packet.destination(),
                                packet.tcpFlags());
  ArmExpiryTimer();
  if (refused != DropReason::kNone) {
    Drop(p, header, refused);
    return;
  }
  Forward(p->Copy(), header, ucb, route);
}

void NatMiddlebox::Drop(Ptr<const Packet> p, const Ipv4Header& header, DropReason reason) {
  if (reason == DropReason::kFiltered) m_filteredTrace(header, p);
  if (reason == DropReason::kPoolExhausted) m_poolExhaustedTrace(header, p);
  Drop(p, header, std::string(punchlab::nat::ToString(reason)));
}

void NatMiddlebox::Drop(Ptr<const Packet> p, const Ipv4Header& header, const std::string& reason) {
  NS_LOG_LOGIC("drop " << header.GetSource() << " -> " << header.GetDestination() << ": "
                       << reason);
  m_dropTrace(header, p, reason);
}

// --- Expiry ---

void NatMiddlebox::ArmExpiryTimer() {
  punchlab::Timestamp next = punchlab::Timestamp::Max();
  if (m_nat) next = std::min(next, m_nat->NextExpiry());
  if (m_firewall) next = std::min(next, m_firewall->NextExpiry());
  if (next == punchlab::Timestamp::Max()) {
    m_expiryEvent.Cancel();
    return;
  }
  const Time delay = ToNs3Delay(ToPunchlab(Simulator::Now()), next);
  const Time at = Simulator::Now() + delay;
  // An earlier pending wake-up is fine: it re-arms for what is left.
  if (m_expiryEvent.IsRunning() && m_expiryEvent.GetTs() <= static_cast<uint64_t>(at.GetTimeStep())) {
    return;
  }
  m_expiryEvent.Cancel();
  m_expiryEvent = Simulator::Schedule(delay, &NatMiddlebox::OnExpiryTimer, this);
}

void NatMiddlebox::OnExpiryTimer() {
  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  if (m_nat) m_nat->Expire(now);
  if (m_firewall) m_firewall->Expire(now);
  ArmExpiryTimer();
}

void NatMiddlebox::OnMappingExpired(punchlab::nat::Protocol protocol,
                                    const punchlab::Endpoint& inside,
                                    const punchlab::Endpoint& external) {
  m_expiredTrace(static_cast<uint8_t>(protocol), ToNs3Address(inside), ToNs3Address(external));
}

// --- Delegation to the wrapped protocol ---

Ptr<Ipv4Route> NatMiddlebox::RouteOutput(Ptr<Packet> p, const Ipv4Header& header,
                                         Ptr<NetDevice> oif, Socket::SocketErrno& sockerr) {
  return m_inner->RouteOutput(p, header, oif, sockerr);
}

bool NatMiddlebox::IsOwnAddress(Ipv4Address dst, uint32_t in) {
  // Ipv4L3Protocol::IsDestinationAddress (~1.7 k instructions: every address
  // of every interface, with ns-3's logging checks) depends only on the box's
  // addresses, which change through Ipv4L3Protocol::AddAddress/RemoveAddress,
  // and those tell this routing protocol (Notify*, which forget the answers).
  // The table stays small (a box's interfaces times the addresses it sends
  // to); past kRememberedAnswers it starts again.
  const uint64_t key = (uint64_t{in} << 32) | dst.Get();
  const auto it = m_ownAddress.find(key);
  if (it != m_ownAddress.end()) return it->second;
  if (m_ownAddress.size() >= kRememberedAnswers) m_ownAddress.clear();
  const bool own = m_ipv4->IsDestinationAddress(dst, in);
  m_ownAddress.emplace(key, own);
  return own;
}

void NatMiddlebox::NotifyInterfaceUp(uint32_t interface) {
  ForgetAddressAnswers();
  m_inner->NotifyInterfaceUp(interface);
}

void NatMiddlebox::NotifyInterfaceDown(uint32_t interface) {
  ForgetAddressAnswers();
  m_inner->NotifyInterfaceDown(interface);
}

void NatMiddlebox::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) {
  ForgetAddressAnswers();
  m_inner->NotifyAddAddress(interface, address);
}

void NatMiddlebox::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) {
  ForgetAddressAnswers();
  m_inner->NotifyRemoveAddress(interface, address);
}

void NatMiddlebox::SetIpv4(Ptr<Ipv4> ipv4) {
  ForgetAddressAnswers();
  m_ipv4 = ipv4;
}

void NatMiddlebox::PrintRoutingTable(Ptr<OutputStreamWrapper> stream, Time::Unit unit) const {
  *stream->GetStream() << "NatMiddlebox (inside";
  for (uint32_t i : m_inside) *stream->GetStream() << " " << i;
  *stream->GetStream() << ", outside";
  for (uint32_t i : m_outside) *stream->GetStream() << " " << i;
  *stream->GetStream() << ") wrapping:\n";
  m_inner->PrintRoutingTable(stream, unit);
}

}  // namespace ns3
