// Real peers for port mapping (ctest real.portmap): Debian's miniupnpd on a
// lab router (lab/miniupnpd.h), behind a symmetric lab NAT, and Debian's
// natpmpc and upnpc on the host behind it. A mapping is judged by what
// arrives: a datagram sent from the outside to the mapped external endpoint
// reaches the inside host, which it does not before the mapping or after
// its deletion, and the inside host's reply leaves from that endpoint.
//
//   client 198.51.100.10 -eth0--lan- 198.51.100.1 router 11.0.0.254 -wan--eth0- server 11.0.0.1
//
// Exit 77 (ctest: skipped) with the reason without root or a program.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "lab/lab-error.h"
#include "lab/miniupnpd.h"
#include "lab/nat-ruleset.h"
#include "lab/netns-lab.h"
#include "punchlab/nat/nat-config.h"
#include "portmap-real/netns-socket.h"
#include "punchlab/portmap/pcp.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"

namespace punchlab::lab {
namespace {

constexpr const char* kClient = "198.51.100.10";
constexpr const char* kRouterLan = "198.51.100.1";
constexpr const char* kRouterWan = "11.0.0.254";
constexpr const char* kServer = "11.0.0.1";
// A datagram that should arrive gets this long; one that should not is
// looked for this long (the lab's links have no delay: it would take µs).
constexpr int kArriveMs = 3000;
constexpr int kAbsentMs = 500;

struct PortmapLab {
  Lab lab;
  Namespace client, router, server;
  std::unique_ptr<Miniupnpd> daemon;

  // `nat`: a preset name of nat/ (nat-config.h).
  explicit PortmapLab(const char* nat_preset) {
    client = lab.AddNamespace("client");
    router = lab.AddNamespace("router");
    server = lab.AddNamespace("server");
    lab.Link(client, "eth0", {std::string(kClient) + "/24"}, router, "lan",
             {std::string(kRouterLan) + "/24"});
    lab.Link(router, "wan", {std::string(kRouterWan) + "/24"}, server, "eth0",
             {std::string(kServer) + "/24"});
    lab.Route(client, "default", kRouterLan);
    lab.Sysctl(router, "net.ipv4.ip_forward", "1");
    NatRulesetConfig nat;
    nat.nat = nat::FindNatPreset(nat_preset)->config;
    nat.wan_addresses = {kRouterWan};
    lab.Nft(router, NatRuleset(nat));
    MiniupnpdConfig config;
    config.lan_cidr = "198.51.100.0/24";
    daemon = std::make_unique<Miniupnpd>(lab, router, config);
  }
};

std::string Match(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return "";
  return m[1].str();
}

// Whether `payload` arrives at `socket` within `ms` (other datagrams are skipped).
std::optional<Datagram> Expect(const UdpSocket& socket, const std::string& payload, int ms) {
  return socket.ReceiveMatching(payload, ms);
}

TEST(RealPortmap, NatpmpcMappingLetsTheOutsideIn) {
  PortmapLab l("symmetric");
  UdpSocket inside(l.client, 4500);
  UdpSocket outside(l.server, 0);
  outside.SendTo(kRouterWan, 4500, "before");
  EXPECT_FALSE(Expect(inside, "before", kAbsentMs)) << "the NAT let an unsolicited datagram in";

  const CommandResult r =
      l.lab.Exec(l.client, {"natpmpc", "-g", kRouterLan, "-a", "4500", "4500", "udp", "60"});
  EXPECT_EQ(Match(r.out, R"(Public IP address : ([0-9.]+))"), kRouterWan) << r.out;
  const std::string port = Match(r.out, R"(Mapped public port (\d+) protocol UDP to local port 4500 liftime 60)");
  ASSERT_FALSE(port.empty()) << r.out << r.err;
  const uint16_t external = static_cast<uint16_t>(std::stoi(port));

  outside.SendTo(kRouterWan, external, "after");
  const std::optional<Datagram> in = Expect(inside, "after", kArriveMs);
  ASSERT_TRUE(in) << "nothing arrived through the mapping; miniupnpd's log:\n" << l.daemon->Log();
  EXPECT_EQ(in->from_address, kServer);
  // The reply leaves from the mapped endpoint, not from a fresh symmetric mapping.
  inside.SendTo(kServer, in->from_port, "reply");
  const std::optional<Datagram> back = Expect(outside, "reply", kArriveMs);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->from_address, kRouterWan);
  EXPECT_EQ(back->from_port, external);

  // Lifetime 0 deletes it (RFC 6886 section 3.4): a new flow stays out.
  l.lab.Exec(l.client, {"natpmpc", "-g", kRouterLan, "-a", "4500", port, "udp", "0"});
  UdpSocket stranger(l.server, 0);
  stranger.SendTo(kRouterWan, external, "deleted");
  EXPECT_FALSE(Expect(inside, "deleted", kAbsentMs)) << "the deleted mapping still lets in";
}

TEST(RealPortmap, UpnpcFindsTheGatewayByMulticastAndMaps) {
  PortmapLab l("symmetric");
  UdpSocket inside(l.client, 4600);
  // No -u: upnpc discovers the IGD by SSDP M-SEARCH to 239.255.255.250:1900.
  const CommandResult r =
      l.lab.Exec(l.client, {"upnpc", "-a", kClient, "4600", "4601", "UDP", "120"});
  EXPECT_EQ(Match(r.out, R"(ExternalIPAddress = ([0-9.]+))"), kRouterWan) << r.out;
  ASSERT_NE(r.out.find("external 11.0.0.254:4601 UDP is redirected to internal 198.51.100.10:4600"),
            std::string::npos)
      << r.out << r.err;

  UdpSocket outside(l.server, 0);
  outside.SendTo(kRouterWan, 4601, "through upnp");
  const std::optional<Datagram> in = Expect(inside, "through upnp", kArriveMs);
  ASSERT_TRUE(in) << "nothing arrived through the mapping; miniupnpd's log:\n" << l.daemon->Log();
  EXPECT_EQ(in->from_address, kServer);

  l.lab.Exec(l.client, {"upnpc", "-d", "4601", "UDP"});
  UdpSocket stranger(l.server, 0);
  stranger.SendTo(kRouterWan, 4601, "deleted");
  EXPECT_FALSE(Expect(inside, "deleted", kAbsentMs)) << "the deleted mapping still lets in";
}

// One HTTP exchange with the IGD from the client: the response as read, and
// its bytes written to $PUNCHLAB_CAPTURE_DIR/<name> when that is set (how
// tests/unit/portmap/miniupnpd-2.3.1/ was made).
struct Exchange {
  std::string raw;
  portmap::upnp::HttpResponseReader reader;
};

void Capture(const std::string& name, const std::string& bytes) {
  const char* dir = std::getenv("PUNCHLAB_CAPTURE_DIR");
  if (dir == nullptr || *dir == '\0') return;
  std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
}

std::unique_ptr<Exchange> Http(const Namespace& ns, const portmap::upnp::Url& url,
                               const Bytes& request, const std::string& capture_as,
                               const std::string& source = "") {
  auto e = std::make_unique<Exchange>();
  realio::UniqueFd fd = TcpConnect(ns, url.host, url.port, kArriveMs, source);
  e->raw = TcpExchange(fd.get(), std::string(request.begin(), request.end()), kArriveMs);
  Capture(capture_as, e->raw);
  e->reader.Feed(ByteView(reinterpret_cast<const uint8_t*>(e->raw.data()), e->raw.size()));
  e->reader.Close();
  return e;
}

portmap::upnp::SoapResult Soap(const Namespace& ns, const portmap::upnp::IgdService& igd,
                               const char* action, const std::string& body,
                               const std::string& capture_as, const std::string& source = "") {
  const auto e = Http(ns, igd.control_url,
                      portmap::upnp::BuildSoapPost(igd.control_url, igd.service_type, action, body),
                      capture_as, source);
  EXPECT_EQ(e->reader.state(), portmap::upnp::HttpResponseReader::State::kDone) << e->reader.error();
  portmap::upnp::ParseError error{};
  const auto result = portmap::upnp::ParseSoapBody(e->reader.body(), &error);
  if (!result) {
    ADD_FAILURE() << action << ": " << portmap::upnp::ToString(error) << " in " << e->raw;
    return portmap::upnp::SoapFault{};
  }
  return *result;
}

uint16_t FaultCode(const portmap::upnp::SoapResult& r) {
  const auto* fault = std::get_if<portmap::upnp::SoapFault>(&r);
  return fault ? fault->code : 0;
}

// protocol/portmap's UPnP codec against miniupnpd: SSDP, the description,
// and every SOAP call the client makes, with the answers and faults it gets.
TEST(RealPortmap, UpnpCodecAgainstMiniupnpd) {
  namespace upnp = portmap::upnp;
  PortmapLab l("symmetric");

  // Discovery, unicast to the gateway and multicast to the group.
  UdpSocket search(l.client, 0);
  const Bytes msearch = upnp::BuildMSearch();
  const std::string msearch_text(msearch.begin(), msearch.end());
  search.SendTo(kRouterLan, upnp::kSsdpPort, msearch_text);
  search.SendTo("239.255.255.250", upnp::kSsdpPort, msearch_text);
  std::optional<upnp::SsdpAnswer> answer;
  for (int i = 0; i < 8 && !answer; ++i) {
    const std::optional<Datagram> d = search.ReceiveAny(kArriveMs);
    ASSERT_TRUE(d) << "no SSDP answer; miniupnpd's log:\n" << l.daemon->Log();
    Capture("ssdp-answer.txt", d->payload);
    const Bytes bytes(d->payload.begin(), d->payload.end());
    answer = upnp::ParseSsdpAnswer(bytes);
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->search_target, upnp::kIgdSearchTarget);
  const std::optional<upnp::Url> location = upnp::ParseUrl(answer->location);
  ASSERT_TRUE(location) << answer->location;
  EXPECT_EQ(location->host, kRouterLan);
  EXPECT_EQ(location->port, 2869);

  const auto description =
      Http(l.client, *location, upnp::BuildGet(*location), "root-description.txt");
  ASSERT_EQ(description->reader.state(), upnp::HttpResponseReader::State::kDone)
      << description->reader.error();
  EXPECT_EQ(description->reader.status(), 200);
  const std::optional<upnp::IgdService> igd =
      upnp::ParseDescription(description->reader.body(), *location);
  ASSERT_TRUE(igd) << description->raw;
  EXPECT_EQ(igd->service_type, "urn:schemas-upnp-org:service:WANIPConnection:2");
  EXPECT_EQ(igd->control_url.ToString(), "http://198.51.100.1:2869/ctl/IPConn");

  const upnp::SoapResult ip =
      Soap(l.client, *igd, upnp::kGetExternalIpAddress,
           upnp::BuildGetExternalIpAddress(igd->service_type), "get-external-ip-address.txt");
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(ip)) << FaultCode(ip);
  const std::optional<IpAddress> external =
      upnp::ExternalIpAddressOf(std::get<upnp::SoapResponse>(ip));
  ASSERT_TRUE(external);
  EXPECT_EQ(external->ToString(), kRouterWan);

  upnp::PortMappingRequest m;
  m.external_port = 4700;
  m.internal_port = 4700;
  m.internal_client = kClient;
  m.lease_seconds = 3600;
  const upnp::SoapResult added =
      Soap(l.client, *igd, upnp::kAddPortMapping, upnp::BuildAddPortMapping(igd->service_type, m),
           "add-port-mapping.txt");
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(added)) << FaultCode(added);
  EXPECT_EQ(std::get<upnp::SoapResponse>(added).action, upnp::kAddPortMapping);
  UdpSocket inside(l.client, 4700);
  UdpSocket outside(l.server, 0);
  outside.SendTo(kRouterWan, 4700, "soap mapped");
  EXPECT_TRUE(Expect(inside, "soap mapped", kArriveMs)) << l.daemon->Log();

  // Secure mode: a mapping for another host is refused (ConflictInMappingEntry).
  upnp::PortMappingRequest other_host = m;
  other_host.internal_client = "198.51.100.99";
  EXPECT_EQ(FaultCode(Soap(l.client, *igd, upnp::kAddPortMapping,
                           upnp::BuildAddPortMapping(igd->service_type, other_host),
                           "add-port-mapping-718.txt")),
            static_cast<uint16_t>(upnp::ErrorCode::kConflictInMappingEntry));
  // AddPortMapping takes no wildcard external port.
  upnp::PortMappingRequest wildcard = m;
  wildcard.external_port = 0;
  EXPECT_EQ(FaultCode(Soap(l.client, *igd, upnp::kAddPortMapping,
                           upnp::BuildAddPortMapping(igd->service_type, wildcard),
                           "add-port-mapping-716.txt")),
            static_cast<uint16_t>(upnp::ErrorCode::kWildCardNotPermittedInExtPort));
  // Internal port 0: InvalidArgs.
  upnp::PortMappingRequest invalid = m;
  invalid.internal_port = 0;
  EXPECT_EQ(FaultCode(Soap(l.client, *igd, upnp::kAddAnyPortMapping,
                           upnp::BuildAddAnyPortMapping(igd->service_type, invalid),
                           "add-any-port-mapping-402.txt")),
            static_cast<uint16_t>(upnp::ErrorCode::kInvalidArgs));
  // A second host asks for the external port the first one holds:
  // AddAnyPortMapping reserves another one for it.
  l.lab.Exec(l.client, {"ip", "addr", "add", "198.51.100.11/24", "dev", "eth0"});
  upnp::PortMappingRequest second = m;
  second.internal_client = "198.51.100.11";
  second.internal_port = 4701;
  const upnp::SoapResult any = Soap(l.client, *igd, upnp::kAddAnyPortMapping,
                                    upnp::BuildAddAnyPortMapping(igd->service_type, second),
                                    "add-any-port-mapping.txt", "198.51.100.11");
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(any)) << FaultCode(any);
  const std::optional<uint16_t> reserved = upnp::ReservedPortOf(std::get<upnp::SoapResponse>(any));
  ASSERT_TRUE(reserved);
  EXPECT_NE(*reserved, 4700);
  UdpSocket inside2(l.client, 4701);
  outside.SendTo(kRouterWan, *reserved, "any mapped");
  const std::optional<Datagram> at_second = Expect(inside2, "any mapped", kArriveMs);
  EXPECT_TRUE(at_second) << l.daemon->Log();

  const upnp::SoapResult deleted =
      Soap(l.client, *igd, upnp::kDeletePortMapping,
           upnp::BuildDeletePortMapping(igd->service_type, "", 4700, "UDP"),
           "delete-port-mapping.txt");
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(deleted)) << FaultCode(deleted);
  // Deleting it again: UPnP says NoSuchEntryInArray (714); miniupnpd 2.3.1's
  // nftables backend answers success while another mapping exists (its
  // delete reports no miss). Recorded as it behaves, so a client must not
  // rely on 714.
  const upnp::SoapResult again =
      Soap(l.client, *igd, upnp::kDeletePortMapping,
           upnp::BuildDeletePortMapping(igd->service_type, "", 4700, "UDP"),
           "delete-port-mapping-absent.txt");
  EXPECT_TRUE(std::holds_alternative<upnp::SoapResponse>(again)) << FaultCode(again) << l.daemon->Log();
  UdpSocket stranger(l.server, 0);
  stranger.SendTo(kRouterWan, 4700, "deleted");
  EXPECT_FALSE(Expect(inside, "deleted", kAbsentMs));
}

// protocol/portmap's NAT-PMP and PCP codecs (pmp.h, pcp.h) against
// miniupnpd: the requests they build are answered, and the answers decode
// to the mapping that then lets the outside in.
TEST(RealPortmap, NatPmpAndPcpCodecsAgainstMiniupnpd) {
  namespace pmp = portmap::pmp;
  namespace pcp = portmap::pcp;
  PortmapLab l("symmetric");
  UdpSocket client(l.client, 0);
  auto ask = [&](const Bytes& request, const std::string& capture_as) {
    client.SendTo(kRouterLan, portmap::kServerPort, std::string(request.begin(), request.end()));
    const std::optional<Datagram> d = client.ReceiveAny(kArriveMs);
    EXPECT_TRUE(d) << capture_as << ": no answer; miniupnpd's log:\n" << l.daemon->Log();
    if (!d) return Bytes{};
    Capture(capture_as, d->payload);
    EXPECT_EQ(d->from_port, portmap::kServerPort);
    return Bytes(d->payload.begin(), d->payload.end());
  };

  pmp::DecodeError pe{};
  const std::optional<pmp::Response> address =
      pmp::DecodeResponse(ask(pmp::EncodeExternalAddressRequest(), "pmp-external-address"), &pe);
  ASSERT_TRUE(address) << pmp::ToString(pe);
  EXPECT_EQ(address->result, pmp::ResultCode::kSuccess);
  ASSERT_TRUE(address->has_body);
  EXPECT_EQ(address->external_ip.ToString(), kRouterWan);

  pmp::MapRequest map;
  map.internal_port = 4800;
  map.suggested_external_port = 4800;
  map.lifetime_seconds = 120;
  const std::optional<pmp::Response> mapped =
      pmp::DecodeResponse(ask(pmp::EncodeMapRequest(map), "pmp-map-udp"), &pe);
  ASSERT_TRUE(mapped) << pmp::ToString(pe);
  EXPECT_EQ(mapped->result, pmp::ResultCode::kSuccess);
  EXPECT_EQ(mapped->internal_port, 4800);
  EXPECT_EQ(mapped->lifetime_seconds, 120u);
  UdpSocket inside(l.client, 4800);
  UdpSocket outside(l.server, 0);
  outside.SendTo(kRouterWan, mapped->external_port, "pmp mapped");
  EXPECT_TRUE(Expect(inside, "pmp mapped", kArriveMs)) << l.daemon->Log();

  pcp::Request request;
  request.opcode = pcp::kOpMap;
  request.lifetime_seconds = 600;
  request.client_ip = *IpAddress::Parse(kClient);
  pcp::MapData data;
  data.nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  data.internal_port = 4900;
  data.external_port = 4900;
  data.external_ip = IpAddress::V4(0, 0, 0, 0);
  request.map = data;
  pcp::DecodeError ce{};
  const std::optional<pcp::Response> pcp_mapped =
      pcp::DecodeResponse(ask(pcp::EncodeRequest(request), "pcp-map-udp"), &ce);
  ASSERT_TRUE(pcp_mapped) << pcp::ToString(ce);
  EXPECT_EQ(pcp_mapped->result, pcp::ResultCode::kSuccess);
  ASSERT_TRUE(pcp_mapped->map);
  EXPECT_EQ(pcp_mapped->map->nonce, data.nonce);
  EXPECT_EQ(pcp_mapped->map->internal_port, 4900);
  EXPECT_EQ(pcp_mapped->map->external_ip.ToString(), kRouterWan);
  EXPECT_EQ(pcp_mapped->lifetime_seconds, 600u);
  UdpSocket inside_pcp(l.client, 4900);
  outside.SendTo(kRouterWan, pcp_mapped->map->external_port, "pcp mapped");
  EXPECT_TRUE(Expect(inside_pcp, "pcp mapped", kArriveMs)) << l.daemon->Log();
}

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

bool PathGone(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) != 0 && errno == ENOENT;
}

bool NoNamespaceWithPrefix(const std::string& prefix) {
  for (const std::string& name : ListNamespaces()) {
    if (name.compare(0, prefix.size(), prefix) == 0) return false;
  }
  return true;
}

// Polls `done` for up to `ms`; a bounded wait for what another process does.
template <typename F>
bool Within(int ms, F done) {
  for (int waited = 0; waited <= ms; waited += 50) {
    if (done()) return true;
    poll(nullptr, 0, 50);
  }
  return done();
}

TEST(RealPortmap, TeardownLeavesNothing) {
  pid_t daemon_pid;
  std::string dir, prefix;
  {
    PortmapLab l("symmetric");
    daemon_pid = l.daemon->process().pid();
    dir = l.lab.TempDir();
    prefix = l.lab.prefix();
    ASSERT_FALSE(PathGone(l.daemon->dir() + "/miniupnpd.pid")) << "no pid file in the lab's temp dir";
  }
  EXPECT_TRUE(ProcessGone(daemon_pid));
  EXPECT_TRUE(PathGone(dir)) << dir;
  EXPECT_TRUE(NoNamespaceWithPrefix(prefix));
}

TEST(RealPortmap, AKilledLabLeavesNothing) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    try {
      PortmapLab l("symmetric");
      const std::string facts = std::to_string(l.daemon->process().pid()) + " " +
                                l.lab.TempDir() + " " + l.lab.prefix() + "\n";
      [[maybe_unused]] const ssize_t n = write(fds[1], facts.data(), facts.size());
      for (;;) pause();  // until the SIGKILL
    } catch (const std::exception& e) {
      std::cerr << "child: " << e.what() << "\n";
    }
    _exit(1);
  }
  close(fds[1]);
  std::string facts;
  char buf[512];
  pollfd p{fds[0], POLLIN, 0};
  while (facts.find('\n') == std::string::npos && poll(&p, 1, 30000) == 1) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    facts.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::istringstream in(facts);
  long daemon_pid = 0;
  std::string dir, prefix;
  in >> daemon_pid >> dir >> prefix;
  ASSERT_GT(daemon_pid, 0) << "the child's lab did not come up: '" << facts << "'";
  EXPECT_TRUE(Within(10000, [&] { return ProcessGone(static_cast<pid_t>(daemon_pid)); }));
  EXPECT_TRUE(Within(10000, [&] { return PathGone(dir); })) << dir;
  EXPECT_TRUE(Within(10000, [&] { return NoNamespaceWithPrefix(prefix); })) << prefix;
}

}  // namespace
}  // namespace punchlab::lab

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::cout << "SKIPPED: the port-mapping lab needs root for network namespaces\n";
    return 77;
  }
  for (const char* tool : {"miniupnpd:miniupnpd-nftables", "natpmpc:natpmpc", "upnpc:miniupnpc"}) {
    const std::string t = tool;
    const std::string name = t.substr(0, t.find(':'));
    const std::string cmd = "command -v " + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::cout << "SKIPPED: " << name << " is missing (Debian package " << t.substr(t.find(':') + 1)
                << "; scripts/setup.sh installs it)\n";
      return 77;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
