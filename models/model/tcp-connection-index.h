// TcpConnectionIndex: finds a listening host's established TCP connections
// by their 4-tuple in a hash map, in front of ns-3's TcpL4Protocol.
//
// Why: ns-3.37's Ipv4EndPointDemux::Lookup walks a list of every endpoint of
// the node for every segment it receives. A DERP or coordination server holds
// one connection per node, so a crowd of N nodes paid O(N) per server segment
// and O(N^2) in all (14 % of a crowd of 1,000, 52 % of one of 3,000). The
// demux, TcpL4Protocol::m_endPoints and Lookup are neither virtual nor
// reachable, so this sits where ns-3 lets one: it is the node's IPv4
// protocol 6 (Ipv4L3Protocol::Insert replaces TcpL4Protocol there) and hands
// everything it does not find to TcpL4Protocol::Receive unchanged.
//
// Same results as the list, segment for segment: a segment whose 4-tuple is
// an indexed connection's live, receiving endpoint (not bound to a device)
// is exactly the case where Lookup returns that one endpoint (an exact
// 4-tuple match is preferred over every wildcard; two live endpoints with
// the same 4-tuple, which ns-3's Allocate lets in only beside one bound to a
// device or through Connect, make Lookup itself abort, and punchlab makes
// neither); it is forwarded up as TcpL4Protocol does
// (same checksum check, Ipv4EndPoint::ForwardUp). Every other segment (SYNs
// to the listener, strays, bad checksums, connections not indexed) takes
// ns-3's own path. The index is never iterated, so its order cannot leak.
//
// Indexed connections are the ones a LinuxLikeTcpSocket listener accepts
// (linux-like-tcp-socket.h): each registers its endpoint when the fork
// allocates it and unregisters when the socket dies; an entry whose socket
// lost its endpoint (closed, reset) is simply not a hit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "ns3/ip-l4-protocol.h"
#include "ns3/ipv4-address.h"
#include "ns3/ptr.h"

namespace ns3 {

class Node;
class TcpL4Protocol;
class LinuxLikeTcpSocket;

class TcpConnectionIndex : public IpL4Protocol {
 public:
  // A connection as a received segment names it.
  struct Key {
    uint32_t localAddress = 0;
    uint32_t peerAddress = 0;
    uint16_t localPort = 0;
    uint16_t peerPort = 0;
    bool operator==(const Key& o) const {
      return localAddress == o.localAddress && peerAddress == o.peerAddress &&
             localPort == o.localPort && peerPort == o.peerPort;
    }
  };

  static TypeId GetTypeId();
  TcpConnectionIndex();
  ~TcpConnectionIndex() override;

  // The node's index, put in front of its TcpL4Protocol on first use.
  static Ptr<TcpConnectionIndex> On(Ptr<Node> node);

  // A connection's endpoint is allocated (Add) / its socket dies (Remove:
  // only if `socket` still owns the key).
  void Add(const Key& key, LinuxLikeTcpSocket* socket);
  void Remove(const Key& key, const LinuxLikeTcpSocket* socket);

  // Segments forwarded through the index and handed to ns-3's list (for
  // tests and profiles).
  uint64_t GetIndexedSegments() const { return m_indexed; }
  uint64_t GetListSegments() const { return m_listed; }
  size_t GetIndexedConnections() const { return m_connections.size(); }

  // IpL4Protocol
  int GetProtocolNumber() const override;
  enum IpL4Protocol::RxStatus Receive(Ptr<Packet> p, const Ipv4Header& header,
                                      Ptr<Ipv4Interface> incomingInterface) override;
  enum IpL4Protocol::RxStatus Receive(Ptr<Packet> p, const Ipv6Header& header,
                                      Ptr<Ipv6Interface> incomingInterface) override;
  void ReceiveIcmp(Ipv4Address icmpSource, uint8_t icmpTtl, uint8_t icmpType, uint8_t icmpCode,
                   uint32_t icmpInfo, Ipv4Address payloadSource, Ipv4Address payloadDestination,
                   const uint8_t payload[8]) override;
  void ReceiveIcmp(Ipv6Address icmpSource, uint8_t icmpTtl, uint8_t icmpType, uint8_t icmpCode,
                   uint32_t icmpInfo, Ipv6Address payloadSource, Ipv6Address payloadDestination,
                   const uint8_t payload[8]) override;
  void SetDownTarget(IpL4Protocol::DownTargetCallback cb) override;
  void SetDownTarget6(IpL4Protocol::DownTargetCallback6 cb) override;
  IpL4Protocol::DownTargetCallback GetDownTarget() const override;
  IpL4Protocol::DownTargetCallback6 GetDownTarget6() const override;

 protected:
  void DoDispose() override;

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };

  Ptr<TcpL4Protocol> m_tcp;
  std::unordered_map<Key, LinuxLikeTcpSocket*, KeyHash> m_connections;
  uint64_t m_indexed = 0;
  uint64_t m_listed = 0;
};

}  // namespace ns3
