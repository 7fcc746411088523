// miniupnpd on a lab router: Debian's miniupnpd-nftables (NAT-PMP, PCP and
// UPnP IGD in one daemon, written by people who are not us) grants port
// mappings by writing rules into the router's nftables, next to the lab's
// own NAT (nat-ruleset.h).
//
// Its rules live in a table of their own, "inet punchlab_portmap" (the
// family its nftables backend writes to), whose chains it fills:
//
//   forward      filter hook, jumps to "miniupnpd" (its accept rules); policy
//                accept, as the lab router forwards everything else too
//   prerouting   nat hook at dstnat - 10, jumps to "prerouting_miniupnpd"
//                (its DNAT rules): a granted mapping wins over a cone NAT's
//                own inbound DNAT (punchlab_nat's prerouting at dstnat)
//   postrouting  nat hook at srcnat - 10, jumps to "postrouting_miniupnpd"
//                (PCP PEER's SNAT rules)
//   input        (drop_pmp/drop_pcp only) filter hook, drops the requests
//                of the protocol the router does not offer
//
// A mapped datagram from the WAN is DNATed to the inside endpoint before the
// lab NAT's filter sees it; the inside host's replies belong to that
// conntrack entry and leave from the mapped external endpoint. The lab NAT's
// input chain drops new flows from the WAN to the router itself, which the
// daemon does not need (clients ask from the LAN).
//
// The external address. miniupnpd 2.3.1 (Debian 12) refuses to map anything
// when its WAN interface's address is private or reserved (RFC 1918,
// 100.64/10, the TEST-NETs, 198.18/15, ...: miniupnpc's addr_is_reserved.c),
// and its ext_ip option refuses such an address too; the option that allows
// one (ext_allow_private_ipv4) came with 2.3.4. So a router that runs it
// gets a WAN address from 11.0.0.0/24, which the lab allows for exactly this
// (netns-lab.h) and which exists only inside the lab's namespaces.
//
// Files. The daemon runs in the router's namespace in the foreground (-d:
// logs on stderr, no fork, so it dies with the lab: PR_SET_PDEATHSIG) with
// its configuration, lease file and pid file in the lab's temp directory
// (Lab::TempDir): /var/run is shared by every namespace, and two routers'
// daemons writing /var/run/miniupnpd.pid would refuse to run side by side.
//
// Its log. With -d it logs every message, the whole text of each SSDP answer
// included, to stderr (kept in lab-logs/miniupnpd-<nat>.<run>.err) and to
// syslog; where nothing listens on /dev/log (this machine), glibc's syslog
// writes each message to /dev/console instead (miniupnpd opens its log with
// LOG_CONS). On a VM whose console is an emulated serial port that is slow:
// 25 messages of 434 bytes took 144 ms here, one of them 80 ms. The ~12 KB
// logged for the answers to one probe's three M-SEARCHes held the first
// answer 77-146 ms and spread the rest over ~220 ms (four runs at load 5),
// against the client's 250 ms wait: at a higher load the probe heard nothing
// and the mapping waited for the next probe, 25 s later (session 9's
// symmetric+upnp--symmetric, 26.3 s to direct against 0.7 s). So the daemon
// runs with /dev/null mounted over /dev/console in a mount namespace of its
// own (ChildProcess::BindMount); its stderr log is unchanged. Then all 27
// answers leave together 69-82 ms after the search at load 10: miniupnpd
// 2.3.1 holds every SSDP answer 50 ms (minissdp.c, "Non-zero default delay
// to prevent flooding"), which the model's IGD does not (it answers at once;
// both fall well inside the 250 ms wait, so neither world's outcome moves).
#pragma once

#include <cstdint>
#include <string>

#include "lab/netns-lab.h"
#include "punchlab/time.h"

namespace punchlab::lab {

// The lab's "public" range for routers that run miniupnpd (see above).
inline constexpr const char* kPublicRange = "11.0.0.0/24";

struct MiniupnpdConfig {
  std::string wan_if = "wan";
  std::string lan_if = "lan";
  // The LAN's "network/prefix" ("198.51.100.0/24"): its hosts may map ports
  // (only for themselves: secure mode); nobody else may.
  std::string lan_cidr;
  // NAT-PMP and PCP (one switch in miniupnpd) and UPnP IGD.
  bool natpmp = true;
  bool upnp = true;
  // A router that offers only one of NAT-PMP and PCP: its input chain drops
  // the other's requests (NAT-PMP's version byte 0, PCP's 2) before the
  // daemon sees them, so they go unanswered.
  bool drop_pmp = false;
  bool drop_pcp = false;
  // The epoch in its answers counts from the machine's boot (true: it never
  // goes back while the lab runs) or from the daemon's start (false: a
  // restart sets it back, as a real router's reboot does; RFC 6886 3.6).
  bool system_uptime = true;
  // The UPnP HTTP port on the LAN address (SSDP's LOCATION points there).
  uint16_t http_port = 2869;
  // PCP's lifetime bounds (NAT-PMP lifetimes are taken as asked).
  Duration min_lifetime = Duration::Seconds(120);
  Duration max_lifetime = Duration::Seconds(86400);
};

// The nftables table miniupnpd writes its rules into (above).
inline constexpr const char* kPortmapTable = "punchlab_portmap";

// The input for `nft -f -` that creates the table and chains (pure).
std::string MiniupnpdRuleset(const MiniupnpdConfig& config);
// miniupnpd.conf for `config`, with its lease file in `dir` (pure). Throws
// LabError for what the daemon would refuse (an empty LAN, a bad interface
// name, no protocol, lifetimes out of order).
std::string MiniupnpdConf(const MiniupnpdConfig& config, const std::string& dir);

// Readiness, from the kernel's tables of the daemon's network namespace
// (/proc/<pid>/net/...), pure: whether `table` (the text of /proc/net/udp or
// /proc/net/tcp) holds a socket bound to local `port` (with `listening`, a TCP
// socket in LISTEN); whether `igmp` (/proc/net/igmp) lists the IPv4 multicast
// `group` ("239.255.255.250") as joined on interface `ifname`.
bool ProcNetHasPort(const std::string& table, uint16_t port, bool listening);
bool ProcIgmpHasGroup(const std::string& igmp, const std::string& ifname,
                      const std::string& group);

// miniupnpd started in `router`, running until the lab is torn down.
class Miniupnpd {
 public:
  // How long the daemon may take to say it listens.
  static constexpr Duration kReadyTimeout = Duration::Seconds(10);

  // Loads MiniupnpdRuleset into the router, writes the configuration into
  // lab.TempDir()/miniupnpd-<router>/ and starts the daemon; returns when it
  // listens on every protocol it serves: its log says so, and the router's
  // kernel holds each socket (UPnP: HTTP in LISTEN, SSDP bound to 1900 and
  // joined to 239.255.255.250 on the LAN; NAT-PMP/PCP bound to 5351). The
  // log alone is not enough: a UPnP-only daemon says "HTTP listening" before
  // it opens its SSDP socket, and a search that came in between would get no
  // answer. Throws LabError (quoting its log) when it cannot start or says it
  // will not map (a reserved WAN address).
  Miniupnpd(Lab& lab, const Namespace& router, const MiniupnpdConfig& config);

  ChildProcess& process() { return *process_; }
  const ChildProcess& process() const { return *process_; }
  // Its directory (configuration, leases, pid file).
  const std::string& dir() const { return dir_; }
  // Its log so far (stderr).
  std::string Log() const { return process_->Stderr(); }

 private:
  std::string dir_;
  ChildProcess* process_ = nullptr;  // owned by the lab
};

}  // namespace punchlab::lab
