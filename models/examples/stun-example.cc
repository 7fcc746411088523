// A STUN client learns its address from an RFC 5780 STUN server across a
// router (no NAT yet), on the same protocol code punchlab-node runs on real
// sockets. Run it with --help for the options, e.g.
//   stun-example --latency=50ms --probes=3
// It prints each probe as the "Result" trace reports it, the server's requests
// as its "Request" trace does, then the summary `punchlab demo` prints.
#include <iomanip>
#include <iostream>

#include "helper/stun-demo.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/command-line.h"
#include "ns3/simulator.h"

using namespace ns3;

namespace {

std::ostream& Millis(std::ostream& out, Time t) {
  return out << std::fixed << std::setprecision(3) << t.GetSeconds() * 1000 << " ms";
}

void OnResult(std::string context, const std::string& mapped, Time rtt, bool success) {
  Millis(std::cout << "at ", Simulator::Now())
      << " " << context << ": " << (success ? "mapped " + mapped : std::string("failed"));
  Millis(std::cout << ", rtt ", rtt) << "\n";
}

void OnRequest(const Address& client, const Address& local) {
  Millis(std::cout << "at ", Simulator::Now())
      << " server: request from " << ToPunchlabEndpoint(client).ToString() << " on "
      << ToPunchlabEndpoint(local).ToString() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  StunDemoConfig config;
  uint32_t probes = config.probes;
  CommandLine cmd(__FILE__);
  cmd.AddValue("seed", "Run seed (transaction ids)", config.seed);
  cmd.AddValue("latency", "One-way internet latency", config.topology.internetDelay);
  cmd.AddValue("lan-latency", "One-way LAN latency", config.topology.lanDelay);
  cmd.AddValue("probes", "Plain binding probes", probes);
  cmd.AddValue("interval", "Time between probes", config.interval);
  cmd.Parse(argc, argv);
  config.probes = probes;

  StunDemo demo(config);
  demo.GetBindingClient()->TraceConnect("Result", "binding client", MakeCallback(&OnResult));
  demo.GetChangeClient()->TraceConnect("Result", "change-request client",
                                       MakeCallback(&OnResult));
  demo.GetServer()->TraceConnectWithoutContext("Request", MakeCallback(&OnRequest));
  demo.Run();
  std::cout << "\n";
  demo.Report(std::cout);
  Simulator::Destroy();
  return 0;
}
