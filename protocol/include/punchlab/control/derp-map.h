// The DERP map: which relay regions exist and how to reach their servers. The
// coordination server is configured with one and hands it to every node with
// its netmap; nodes pick a home region from it and find relays and STUN
// servers through it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"

namespace punchlab::control {

// Region ids are positive; 0 means "no home region" wherever a node names one.
using RegionId = int;
constexpr RegionId kNoRegion = 0;

struct DerpNode {
  std::string name;      // e.g. "1a"
  Endpoint derp;         // where the DERP server accepts TCP
  uint16_t stun_port = 3478;  // its STUN server, on the same address
  // The key the DERP server must present (its ServerKey frame); a node
  // refuses a server that presents another. Zero: not pinned, any key goes
  // (Tailscale's DERP map can pin it too, through the TLS certificate).
  NodePublicKey public_key{};
  // DERP runs over TLS unless plain_http (tests only; the simulation runs a
  // modelled TLS handshake, models/model/tls-model.h). cert_name and insecure_for_tests say what a node
  // checks of the server's certificate, as Tailscale's DERPNode fields of
  // those names do (TlsDial): "sha256-raw:<hex>" pins a self-signed one.
  bool plain_http = false;
  std::string cert_name{};
  bool insecure_for_tests = false;

  Endpoint StunEndpoint() const { return Endpoint(derp.ip, stun_port); }
  // How to dial this server: nullopt for plain HTTP.
  std::optional<TlsDial> Tls() const;
  bool operator==(const DerpNode& o) const {
    return name == o.name && derp == o.derp && stun_port == o.stun_port &&
           public_key == o.public_key && plain_http == o.plain_http &&
           cert_name == o.cert_name && insecure_for_tests == o.insecure_for_tests;
  }
  bool operator!=(const DerpNode& o) const { return !(*this == o); }
};

struct DerpRegion {
  RegionId id = kNoRegion;
  std::string name;  // e.g. "fra"
  std::vector<DerpNode> nodes;

  bool operator==(const DerpRegion& o) const {
    return id == o.id && name == o.name && nodes == o.nodes;
  }
  bool operator!=(const DerpRegion& o) const { return !(*this == o); }
};

struct DerpMap {
  std::vector<DerpRegion> regions;

  // nullptr when no region has this id.
  const DerpRegion* FindRegion(RegionId id) const;
  bool operator==(const DerpMap& o) const { return regions == o.regions; }
  bool operator!=(const DerpMap& o) const { return !(*this == o); }
};

}  // namespace punchlab::control
