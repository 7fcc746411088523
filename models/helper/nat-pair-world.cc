#include "helper/nat-pair-world.h"

#include "helper/control-helper.h"
#include "helper/derp-helper.h"
#include "helper/nat-helper.h"
#include "ns3/address.h"
#include "ns3/csma-helper.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/node-container.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/sign.h"
#include "punchlab/random.h"

namespace ns3 {

namespace {

uint32_t InterfaceOf(Ptr<NetDevice> device) {
  return static_cast<uint32_t>(device->GetNode()->GetObject<Ipv4>()->GetInterfaceForDevice(device));
}

void DefaultRoute(Ptr<Node> node, Ipv4Address gateway, Ptr<NetDevice> device) {
  Ipv4StaticRoutingHelper routing;
  routing.GetStaticRouting(node->GetObject<Ipv4>())->SetDefaultRoute(gateway, InterfaceOf(device));
}

// a .1, b .2 on `network`/24.
NetDeviceContainer Link(Ptr<Node> a, Ptr<Node> b, const char* network) {
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
  p2p.SetChannelAttribute("Delay", StringValue("5ms"));
  NetDeviceContainer devices = p2p.Install(a, b);
  Ipv4AddressHelper addresses(network, "255.255.255.0");
  addresses.Assign(devices);
  return devices;
}

Ptr<NatMiddlebox> InstallNat(Ptr<Node> node, const std::string& spec, uint64_t seed,
                             Ptr<NetDevice> inside, Ptr<NetDevice> outside) {
  NatHelper helper;
  helper.SetNat(spec);
  helper.SetSeed(seed);
  return helper.Install(node, InterfaceOf(inside), InterfaceOf(outside));
}

}  // namespace

NatPairWorld::NatPairWorld(const NatPairWorldConfig& config) {
  hostA = CreateObject<Node>();
  hostB = CreateObject<Node>();
  natA = CreateObject<Node>();
  natB = CreateObject<Node>();
  router = CreateObject<Node>();
  derp = CreateObject<Node>();
  control = CreateObject<Node>();
  NodeContainer all(hostA, hostB, natA, natB);
  all.Add(NodeContainer(router, derp, control));
  InternetStackHelper internet;
  internet.Install(all);

  NetDeviceContainer lanA = Link(natA, hostA, "192.168.1.0");
  NetDeviceContainer lanB = Link(natB, hostB, "192.168.2.0");
  NetDeviceContainer wanA = Link(router, natA, "198.51.100.0");
  NetDeviceContainer wanB = Link(router, natB, "192.0.2.0");
  CsmaHelper lan;
  lan.SetChannelAttribute("DataRate", StringValue("100Mbps"));
  lan.SetChannelAttribute("Delay", StringValue("1ms"));
  NetDeviceContainer services = lan.Install(NodeContainer(router, derp, control));
  Ipv4AddressHelper ip;
  ip.SetBase("203.0.113.0", "255.255.255.0");
  ip.Assign(services.Get(0));  // router .1
  ip.SetBase("203.0.113.0", "255.255.255.0", "0.0.0.10");
  ip.Assign(services.Get(1));
  ip.SetBase("203.0.113.0", "255.255.255.0", "0.0.0.20");
  ip.Assign(services.Get(2));

  DefaultRoute(hostA, Ipv4Address("192.168.1.1"), lanA.Get(1));
  DefaultRoute(hostB, Ipv4Address("192.168.2.1"), lanB.Get(1));
  // The NATs' routes first: the middlebox wraps the routing as it is.
  DefaultRoute(natA, Ipv4Address("198.51.100.1"), wanA.Get(1));
  DefaultRoute(natB, Ipv4Address("192.0.2.1"), wanB.Get(1));
  DefaultRoute(derp, Ipv4Address("203.0.113.1"), services.Get(1));
  DefaultRoute(control, Ipv4Address("203.0.113.1"), services.Get(2));
  boxA = InstallNat(natA, config.natA, config.seed, lanA.Get(0), wanA.Get(1));
  boxB = InstallNat(natB, config.natB, config.seed, lanB.Get(0), wanB.Get(1));
  lan.AssignStreams(services, internet.AssignStreams(all, 0));

  DerpServerHelper derpHelper(DerpAddress());
  derpHelper.SetAttribute("Seed", UintegerValue(config.seed));
  ApplicationContainer derpApps = derpHelper.Install(derp);
  derpServer = DynamicCast<DerpServerApplication>(derpApps.Get(0));
  punchlab::control::DerpMap derpMap;
  derpMap.regions.push_back(DerpServerHelper::MakeRegion(1, "lab", derpApps));

  punchlab::DeterministicRandom rng =
      punchlab::DeterministicRandom(config.seed).Fork("nat-pair-world/idp");
  const punchlab::control::IdentityProvider idp(punchlab::SigningKey::Generate(rng));
  ControlServerHelper controlHelper(ControlAddress());
  controlHelper.SetAttribute("Seed", UintegerValue(config.seed));
  controlHelper.AddTrustedIssuer(idp.verify_key(), {kDomain});
  controlHelper.SetDerpMap(derpMap);
  controlServer = DynamicCast<ControlServerApplication>(controlHelper.Install(control).Get(0));

  auto install = [&](Ptr<Node> host, const std::string& user) {
    Ptr<NodeApplication> app = CreateObject<NodeApplication>();
    app->SetAttribute("ControlAddress", AddressValue(ControlAddress()));
    app->SetAttribute("ControlPort", UintegerValue(controlServer->GetEndpoint().port));
    app->SetAttribute("ControlKey", StringValue(controlServer->GetPublicKey().ToString()));
    app->SetAttribute("Seed", UintegerValue(config.seed));
    host->AddApplication(app);
    // The key (hence the token, bound to it) exists once seed and node are set.
    app->SetAttribute("Token", StringValue(ControlServerHelper::IssueToken(
                                   idp, user, kDomain, app->GetPublicKey(), Seconds(3600))));
    return app;
  };
  a = install(hostA, "alice");
  b = install(hostB, "bob");
  a->SetAttribute("Peer", StringValue(b->GetPublicKey().ToString()));
  a->SetAttribute("Interval", TimeValue(config.interval));
  a->SetAttribute("TrafficStart", TimeValue(config.trafficStart));
  a->SetAttribute("PacketSize", UintegerValue(config.packetSize));
}

}  // namespace ns3
