// StunServerApplication: punchlab's StunServer machine on an ns-3 node.
//
// With only a primary address:port it answers Binding requests there. With an
// alternate address (and port) it is an RFC 5780 behaviour-discovery server:
// it binds all four combinations of {primary, alternate} address x port and
// answers CHANGE-REQUEST from the swapped one. All STUN logic is in the
// machine (protocol/include/punchlab/stun/server.h); this class only binds,
// traces and exposes the machine's counters.
#pragma once

#include <memory>

#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/traced-callback.h"
#include "punchlab/stun/server.h"

namespace ns3 {

class StunServerApplication : public Application {
 public:
  static TypeId GetTypeId();
  StunServerApplication();

  // The machine's counters; all zero before the application starts. They stay
  // readable after it stops.
  const punchlab::stun::StunServerStats& GetStats() const;
  // Where the server listens (empty before start).
  std::vector<punchlab::Endpoint> GetLocalEndpoints() const;

  // (client, local): a well-formed Binding request from `client` arrived on
  // `local`.
  typedef void (*RequestTracedCallback)(const Address& client, const Address& local);
  // (source, destination): a response (success or error) left the server.
  typedef void (*ResponseTracedCallback)(const Address& source, const Address& destination);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  void OnRx(Ptr<const Packet> packet, const Address& local, const Address& remote);
  void OnTx(Ptr<const Packet> packet, const Address& source, const Address& destination);
  void OnEvents();
  void NoteRequest();

  Address m_primaryAddress;
  uint16_t m_primaryPort;
  Address m_alternateAddress;
  uint16_t m_alternatePort;
  std::string m_software;

  std::unique_ptr<punchlab::stun::StunServer> m_server;
  Ptr<MachineHost> m_host;
  // The datagram being handled, for the Request trace fired after it.
  Address m_rxLocal;
  Address m_rxRemote;
  uint64_t m_requestsSeen = 0;
  TracedCallback<const Address&, const Address&> m_requestTrace;
  TracedCallback<const Address&, const Address&> m_responseTrace;
};

}  // namespace ns3
