#include "results/disco-step.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "results/key-log.h"

namespace punchlab {
namespace results {
namespace {

DiscoStepKind KindOf(disco::MessageType type, bool sent) {
  switch (type) {
    case disco::MessageType::kPing:
      return sent ? DiscoStepKind::kPingSent : DiscoStepKind::kPingReceived;
    case disco::MessageType::kPong:
      return sent ? DiscoStepKind::kPongSent : DiscoStepKind::kPongReceived;
    case disco::MessageType::kCallMeMaybe:
      return sent ? DiscoStepKind::kCallMeMaybeSent : DiscoStepKind::kCallMeMaybeReceived;
  }
  return DiscoStepKind::kPingSent;
}

// "7200.518s": a time of the run, to the millisecond.
std::string Seconds(Timestamp t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", t.seconds());
  return buf;
}

NodeDiscoStep Message(const node::DiscoMessageStep& m, bool sent) {
  NodeDiscoStep out;
  out.peer = m.peer;
  out.step.what = KindOf(m.type, sent);
  if (m.via.direct()) {
    out.step.via = "udp";
    out.step.endpoint = m.via.endpoint.ToString();
  } else {
    out.step.via = m.via.ToString();  // "derp 1"
  }
  if (m.txid) out.step.txid = ToHex(ByteView(m.txid->data(), m.txid->size()));
  out.step.reason = m.why;
  return out;
}

}  // namespace

std::optional<NodeDiscoStep> DiscoStepOf(const node::EventBody& body) {
  return std::visit(
      [](const auto& e) -> std::optional<NodeDiscoStep> {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, node::DiscoSent>) {
          return Message(e, true);
        } else if constexpr (std::is_same_v<T, node::DiscoReceived>) {
          return Message(e, false);
        } else if constexpr (std::is_same_v<T, node::CandidateLearned>) {
          NodeDiscoStep out;
          out.peer = e.peer;
          out.step.what = DiscoStepKind::kCandidate;
          out.step.endpoint = e.endpoint.ToString();
          out.step.reason = e.source;
          return out;
        } else if constexpr (std::is_same_v<T, node::WireGuardHandshake>) {
          NodeDiscoStep out;
          out.peer = e.peer;
          out.step.what = DiscoStepKind::kHandshake;
          if (e.via.direct()) {
            out.step.via = "udp";
            out.step.endpoint = e.via.endpoint.ToString();
          } else {
            out.step.via = e.via.ToString();
          }
          out.step.reason = e.initiator ? "wireguard: initiated, response came" : "wireguard: answered an initiation";
          return out;
        } else if constexpr (std::is_same_v<T, node::PortMappingProbed>) {
          NodeDiscoStep out;
          out.step.what = DiscoStepKind::kPortMap;
          std::string found;
          for (const auto& [on, name] : {std::pair<bool, const char*>{e.pmp, "pmp"},
                                         {e.pcp, "pcp"}, {e.upnp, "upnp"}}) {
            if (on) found += std::string(found.empty() ? "" : " ") + name;
          }
          out.step.reason = "probe: " + (found.empty() ? std::string("nothing answered") : found);
          return out;
        } else if constexpr (std::is_same_v<T, node::PortMappingCreated>) {
          NodeDiscoStep out;
          out.step.what = DiscoStepKind::kPortMap;
          out.step.via = portmap::ToString(e.mapping.protocol);
          out.step.endpoint = e.mapping.external.ToString();
          out.step.reason = std::string(e.renewal ? "renewed" : "granted") + ": good until " +
                            Seconds(e.mapping.good_until) + ", renew after " +
                            Seconds(e.mapping.renew_after);
          return out;
        } else if constexpr (std::is_same_v<T, node::PortMappingLost>) {
          NodeDiscoStep out;
          out.step.what = DiscoStepKind::kPortMap;
          out.step.via = portmap::ToString(e.mapping.protocol);
          out.step.endpoint = e.mapping.external.ToString();
          out.step.reason = e.reason == portmap::LossReason::kReleased
                                ? std::string("released")
                                : std::string("lost: ") + portmap::ToString(e.reason);
          return out;
        } else if constexpr (std::is_same_v<T, node::PortMappingFailed>) {
          NodeDiscoStep out;
          out.step.what = DiscoStepKind::kPortMap;
          out.step.via = portmap::ToString(e.protocol);
          out.step.reason = "failed: " + e.reason;
          return out;
        } else if constexpr (std::is_same_v<T, node::TrustChanged>) {
          NodeDiscoStep out;
          out.peer = e.peer;
          out.step.what = DiscoStepKind::kTrust;
          out.step.endpoint = e.endpoint.ToString();
          out.step.reason = std::string(e.trusted ? "trusted: " : "untrusted: ") + e.why;
          return out;
        } else if constexpr (std::is_same_v<T, node::PathChanged>) {
          NodeDiscoStep out;
          out.peer = e.peer;
          out.step.what = DiscoStepKind::kPath;
          out.step.endpoint = e.to.ToString();
          out.step.reason = node::PathChangeReasonName(e.reason);
          if (!e.detail.empty()) out.step.reason += ": " + e.detail;
          return out;
        } else {
          return std::nullopt;
        }
      },
      body);
}

std::string DiscoStepJsonLine(const NodeDiscoStep& d, double at_ms) {
  // A port-mapping step is the node's own: no peer.
  const std::string peer = d.step.what == DiscoStepKind::kPortMap ? "" : d.peer.ToString();
  const nlohmann::ordered_json line{
      {"event", "disco"},          {"at_ms", at_ms},           {"peer", peer},
      {"what", ToString(d.step.what)}, {"via", d.step.via},     {"endpoint", d.step.endpoint},
      {"txid", d.step.txid},       {"reason", d.step.reason}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string DiscoKeyLogLine(const node::DiscoSent& sent) {
  if (sent.nonce.empty() || sent.plaintext.empty()) return "";
  return KeyLogLine(sent.nonce, sent.plaintext);
}

}  // namespace results
}  // namespace punchlab
