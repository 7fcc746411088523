#include "lab/bridge.h"

#include "lab/command.h"

namespace punchlab::lab {

void AddBridge(const Namespace& ns, const std::string& name, const std::string& cidr) {
  CheckLabAddress(cidr);
  RunCommand({"ip", "-n", ns.full_name, "link", "add", name, "type", "bridge"});
  RunCommand({"ip", "-n", ns.full_name, "addr", "add", cidr, "dev", name});
  RunCommand({"ip", "-n", ns.full_name, "link", "set", name, "up"});
}

void AttachToBridge(const Namespace& ns, const std::string& port, const std::string& bridge) {
  RunCommand({"ip", "-n", ns.full_name, "link", "set", port, "master", bridge});
}

void KeepBridgesOutOfNetfilter(Lab& lab, const Namespace& ns) {
  CommandOptions o;
  // A kernel without br_netfilter has no such keys, and then bridged frames
  // never reach netfilter anyway.
  o.check = false;
  for (const char* key : {"net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
                          "net.bridge.bridge-nf-call-arptables"}) {
    lab.Exec(ns, {"sysctl", "-q", "-w", std::string(key) + "=0"}, o);
  }
}

}  // namespace punchlab::lab
