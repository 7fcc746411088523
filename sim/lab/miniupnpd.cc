#include "lab/miniupnpd.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "files/read-whole-file.h"
#include "lab/command.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "realio/monotonic-clock.h"

namespace punchlab::lab {
namespace {

// A stable UUID: the root description (and so the captured test vectors)
// stays the same from run to run. miniupnpd derives its sub-devices' UUIDs
// from it.
constexpr const char* kUuid = "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b";

void CheckName(const std::string& what, const std::string& name) {
  static const std::regex kName("^[A-Za-z0-9_.-]{1,15}$");
  if (!std::regex_match(name, kName)) throw LabError("miniupnpd: " + what + " '" + name + "' is not an interface name");
}

int64_t WholeSeconds(Duration d) { return d.nanos() / 1000000000; }

// The first byte of a request to the NAT-PMP/PCP port is its version:
// 0 NAT-PMP, 2 PCP.
std::string Input(const MiniupnpdConfig& c) {
  if (!c.drop_pmp && !c.drop_pcp) return "";
  const std::string port = std::to_string(portmap::kServerPort);
  std::string s =
      "  chain input {\n"
      "    type filter hook input priority filter - 10; policy accept;\n";
  if (c.drop_pmp) s += "    udp dport " + port + " @th,64,8 0 drop\n";
  if (c.drop_pcp) s += "    udp dport " + port + " @th,64,8 2 drop\n";
  return s + "  }\n";
}

// A /proc table of the daemon's namespace; "" once the daemon (and its /proc
// entry) is gone.
std::string ReadProc(const std::string& path) { return files::ReadWholeFile(path).value_or(""); }

}  // namespace

bool ProcNetHasPort(const std::string& table, uint16_t port, bool listening) {
  // "  sl  local_address rem_address   st ...": "  12: 0100000A:076C 00000000:0000 07 ..."
  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    const size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    unsigned long local_port = 0;
    try {
      local_port = std::stoul(local.substr(colon + 1), nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    if (local_port == port && (!listening || state == "0A")) return true;
  }
  return false;
}

bool ProcIgmpHasGroup(const std::string& igmp, const std::string& ifname,
                      const std::string& group) {
  // An interface's line ("3\tlan       :     2      V3") is followed by one
  // line per group it joined ("\t\t\t\tFAFFFFEF     1 0:00000000\t\t0"): the
  // address as the kernel's 32-bit word printed in hex, so on this
  // little-endian machine 239.255.255.250 reads FAFFFFEF.
  in_addr a{};
  if (inet_pton(AF_INET, group.c_str(), &a) != 1) return false;
  char want[9];
  std::snprintf(want, sizeof want, "%08X", a.s_addr);
  std::istringstream lines(igmp);
  std::string line;
  std::string device;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line[0] != '\t') {
      std::istringstream fields(line);
      std::string index;
      fields >> index >> device;
      // The kernel prints "%-10s:": a name of ten or more characters ends in ':'.
      if (!device.empty() && device.back() == ':') device.pop_back();
      continue;
    }
    std::istringstream fields(line);
    std::string address;
    fields >> address;
    if (device == ifname && address == want) return true;
  }
  return false;
}

std::string MiniupnpdRuleset(const MiniupnpdConfig& config) {
  CheckName("WAN interface", config.wan_if);
  const std::string t = kPortmapTable;
  return "table inet " + t + " {\n"
         "  chain forward {\n"
         "    type filter hook forward priority filter; policy accept;\n"
         "    jump miniupnpd\n"
         "  }\n"
         "  chain miniupnpd {\n"
         "  }\n"
         "  chain prerouting {\n"
         "    type nat hook prerouting priority dstnat - 10; policy accept;\n"
         "    jump prerouting_miniupnpd\n"
         "  }\n"
         "  chain prerouting_miniupnpd {\n"
         "  }\n"
         "  chain postrouting {\n"
         "    type nat hook postrouting priority srcnat - 10; policy accept;\n"
         "    jump postrouting_miniupnpd\n"
         "  }\n"
         "  chain postrouting_miniupnpd {\n"
         "  }\n" +
         Input(config) + "}\n";
}

std::string MiniupnpdConf(const MiniupnpdConfig& c, const std::string& dir) {
  CheckName("WAN interface", c.wan_if);
  CheckName("LAN interface", c.lan_if);
  if (c.lan_cidr.empty()) throw LabError("miniupnpd: the LAN's network/prefix is missing");
  CheckLabAddress(c.lan_cidr);
  if (!c.natpmp && !c.upnp) throw LabError("miniupnpd: serves neither NAT-PMP/PCP nor UPnP");
  if (c.drop_pmp && c.drop_pcp) {
    throw LabError("miniupnpd: drops both NAT-PMP and PCP; turn natpmp off instead");
  }
  if (c.min_lifetime < Duration::Seconds(1) || c.max_lifetime < c.min_lifetime) {
    throw LabError("miniupnpd: lifetimes " + c.min_lifetime.ToString() + " to " +
                   c.max_lifetime.ToString() + " are out of order");
  }
  const std::string t = kPortmapTable;
  std::string s;
  s += "ext_ifname=" + c.wan_if + "\n";
  s += "listening_ip=" + c.lan_if + "\n";
  s += "http_port=" + std::to_string(c.http_port) + "\n";
  s += std::string("enable_natpmp=") + (c.natpmp ? "yes" : "no") + "\n";
  s += std::string("enable_upnp=") + (c.upnp ? "yes" : "no") + "\n";
  s += "min_lifetime=" + std::to_string(WholeSeconds(c.min_lifetime)) + "\n";
  s += "max_lifetime=" + std::to_string(WholeSeconds(c.max_lifetime)) + "\n";
  // Clients map ports for themselves only.
  s += "secure_mode=yes\n";
  s += std::string("system_uptime=") + (c.system_uptime ? "yes" : "no") + "\n";
  s += "uuid=" + std::string(kUuid) + "\n";
  s += "lease_file=" + dir + "/leases\n";
  s += "upnp_table_name=" + t + "\n";
  s += "upnp_nat_table_name=" + t + "\n";
  s += "upnp_forward_chain=miniupnpd\n";
  s += "upnp_nat_chain=prerouting_miniupnpd\n";
  s += "upnp_nat_postrouting_chain=postrouting_miniupnpd\n";
  // Checked in order; the first that matches decides.
  s += "allow 1-65535 " + c.lan_cidr + " 1-65535\n";
  s += "deny 0-65535 0.0.0.0/0 0-65535\n";
  return s;
}

Miniupnpd::Miniupnpd(Lab& lab, const Namespace& router, const MiniupnpdConfig& config) {
  dir_ = lab.TempDir() + "/miniupnpd-" + router.name;
  const std::string conf = MiniupnpdConf(config, dir_);
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    throw LabError("mkdir " + dir_ + ": " + std::strerror(errno));
  }
  {
    std::ofstream out(dir_ + "/miniupnpd.conf");
    out << conf;
    if (!out.flush()) throw LabError("cannot write " + dir_ + "/miniupnpd.conf");
  }
  lab.Nft(router, MiniupnpdRuleset(config));
  // Where there is no /dev/console (a container without a tty) there is no
  // slow console to keep its log off, and nothing to mount over.
  std::vector<ChildProcess::BindMount> binds;
  if (access("/dev/console", F_OK) == 0) binds.push_back({"/dev/null", "/dev/console"});
  process_ = &lab.Spawn(router,
                        {"miniupnpd", "-d", "-f", dir_ + "/miniupnpd.conf", "-P",
                         dir_ + "/miniupnpd.pid"},
                        binds);
  // It opens HTTP before NAT-PMP/PCP: the last one it serves says it is up.
  const std::regex ready(config.natpmp ? "Listening for NAT-PMP/PCP traffic on port"
                                       : "HTTP listening on port");
  process_->WaitForLine(ready, kReadyTimeout, ChildProcess::Stream::kStderr);
  const std::string log = Log();
  if (log.find("Port forwarding is impossible") != std::string::npos) {
    throw LabError("miniupnpd in " + router.full_name +
                   " will not map ports: its WAN address is private or reserved (give the router "
                   "an address in " + std::string(kPublicRange) + "); its log: " + log);
  }
  // `ip netns exec` execs in place: the child's pid is the daemon's, and
  // /proc/<pid>/net shows the router's namespace.
  const std::string net = "/proc/" + std::to_string(process_->pid()) + "/net/";
  auto sockets_open = [&] {
    // miniupnpd's HTTP socket is an IPv6 one (accepting IPv4 too) where the
    // kernel has IPv6, as here: /proc/net/tcp6.
    const bool http = ProcNetHasPort(ReadProc(net + "tcp"), config.http_port, true) ||
                      ProcNetHasPort(ReadProc(net + "tcp6"), config.http_port, true);
    if (config.upnp &&
        (!http || !ProcNetHasPort(ReadProc(net + "udp"), portmap::upnp::kSsdpPort, false) ||
         !ProcIgmpHasGroup(ReadProc(net + "igmp"), config.lan_if,
                           portmap::upnp::SsdpMulticastAddress().ToString()))) {
      return false;
    }
    return !config.natpmp ||
           ProcNetHasPort(ReadProc(net + "udp"), portmap::kServerPort, false);
  };
  const Timestamp deadline = realio::MonotonicNow() + kReadyTimeout;
  while (!sockets_open()) {
    if (process_->exited() || realio::MonotonicNow() > deadline) {
      throw LabError("miniupnpd in " + router.full_name + " " +
                     (process_->exited() ? process_->DescribeStatus() : "is still not ready") +
                     " after saying it listens (no SSDP, HTTP or NAT-PMP socket in " + net +
                     "); its log: " + Log());
    }
    ThrowIfInterrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace punchlab::lab
