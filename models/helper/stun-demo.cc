#include "helper/stun-demo.h"

#include <iomanip>
#include <sstream>
#include <string>

#include "helper/stun-helper.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/boolean.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

namespace ns3 {

namespace {

// Clients start once the server is surely listening.
const Time kClientStart = MilliSeconds(100);
const Time kDeadline = Seconds(3);

std::string Millis(punchlab::Duration d) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << d.millis() << " ms";
  return out.str();
}

// Configured quantities in their shortest exact unit ("1ms", "20ms").
std::string Exact(Time t) { return punchlab::Duration::Nanos(t.GetNanoSeconds()).ToString(); }

std::string OrNone(const std::optional<punchlab::Endpoint>& e) {
  return e ? e->ToString() : "(none)";
}

void ReportProbe(std::ostream& out, const punchlab::stun::StunClientEvent& ev,
                 const punchlab::Endpoint& clientOwn) {
  if (const auto* timeout = std::get_if<punchlab::stun::StunTimeout>(&ev)) {
    out << "    result           timeout after " << Millis(timeout->options.deadline) << "\n";
    return;
  }
  if (const auto* refused = std::get_if<punchlab::stun::StunErrorResponse>(&ev)) {
    out << "    result           error " << refused->error->code << " " << refused->error->reason
        << "\n";
    return;
  }
  const auto& ok = std::get<punchlab::stun::StunSuccess>(ev);
  out << "    mapped address   " << ok.mapped.ToString()
      << (ok.mapped == clientOwn ? "  (the client's own address: no NAT on the path)"
                                 : "  (translated on the path; the client is " +
                                       clientOwn.ToString() + ")")
      << "\n";
  out << "    rtt              " << Millis(ok.rtt);
  if (ok.retransmits > 0) {
    out << " from the first send, " << Millis(ok.rtt_since_last_send) << " from the last ("
        << ok.retransmits << (ok.retransmits == 1 ? " retransmit)" : " retransmits)");
  }
  out << "\n";
  out << "    response origin  " << OrNone(ok.response_origin) << "\n";
  out << "    other address    " << OrNone(ok.other_address) << "\n";
}

void ReportClient(std::ostream& out, const std::string& title, Ptr<StunClientApplication> app) {
  const punchlab::Endpoint local = app->GetLocalEndpoint();
  const punchlab::Endpoint own(ToPunchlab(StunDemoTopology::ClientAddress()), local.port);
  out << title << ": " << own.ToString() << " -> "
      << StunDemoTopology::ServerPrimaryAddress() << ":3478\n";
  const auto& results = app->GetResults();
  if (results.empty()) out << "    no result\n";
  for (size_t i = 0; i < results.size(); ++i) {
    if (results.size() > 1) out << "  probe " << (i + 1) << "\n";
    ReportProbe(out, results[i], own);
  }
}

}  // namespace

StunDemo::StunDemo(const StunDemoConfig& config) : m_config(config), m_topology(config.topology) {
  StunServerHelper server(StunDemoTopology::ServerPrimaryAddress(), 3478);
  server.SetAlternate(StunDemoTopology::ServerAlternateAddress(), 3479);
  m_server = DynamicCast<StunServerApplication>(server.Install(m_topology.GetServer()).Get(0));

  StunClientHelper client(StunDemoTopology::ServerPrimaryAddress(), 3478);
  client.SetAttribute("Seed", UintegerValue(config.seed));
  client.SetAttribute("Deadline", TimeValue(kDeadline));
  client.SetAttribute("MaxProbes", UintegerValue(config.probes));
  client.SetAttribute("Interval", TimeValue(config.interval));
  m_bindingClient =
      DynamicCast<StunClientApplication>(client.Install(m_topology.GetClient()).Get(0));
  client.SetAttribute("MaxProbes", UintegerValue(1));
  client.SetAttribute("ChangeIp", BooleanValue(true));
  client.SetAttribute("ChangePort", BooleanValue(true));
  m_changeClient =
      DynamicCast<StunClientApplication>(client.Install(m_topology.GetClient()).Get(0));

  // The last probe starts at kClientStart + (probes - 1) * interval and is
  // over by its deadline.
  m_stopTime = kClientStart + m_config.interval * int64_t(m_config.probes - 1) + kDeadline +
               MilliSeconds(1);
  m_server->SetStartTime(Seconds(0));
  m_server->SetStopTime(m_stopTime);
  for (Ptr<StunClientApplication> app : {m_bindingClient, m_changeClient}) {
    app->SetStartTime(kClientStart);
    app->SetStopTime(m_stopTime);
  }
}

void StunDemo::Run() {
  Simulator::Stop(m_stopTime);
  Simulator::Run();
}

void StunDemo::Report(std::ostream& out) const {
  const StunDemoTopologyConfig& t = m_config.topology;
  out << "topology: client " << StunDemoTopology::ClientAddress() << " --" << Exact(t.lanDelay)
      << "-- router --" << Exact(t.internetDelay) << "-- server "
      << StunDemoTopology::ServerPrimaryAddress() << " + "
      << StunDemoTopology::ServerAlternateAddress() << " (RFC 5780 STUN)\n";
  out << "seed " << m_config.seed << ", propagation rtt " << Exact(m_topology.GetOneWayDelay() * 2)
      << "\n\n";
  ReportClient(out, "binding request", m_bindingClient);
  ReportClient(out, "change request (other IP and port)", m_changeClient);
  const punchlab::stun::StunServerStats& s = m_server->GetStats();
  out << "\nserver counters: requests " << s.requests << ", success responses "
      << s.success_responses << ", error responses " << s.error_responses
      << ", changed responses " << s.changed_responses << ", dropped malformed "
      << s.dropped_malformed << "\n";
}

}  // namespace ns3
