// punchlab-node codec: the protocol core's codecs as a line-oriented JSON
// service, so another implementation (tests/conformance drives it from Go,
// against tailscale.com) can hold its bytes against ours without a network:
// one JSON request per line on stdin, one JSON answer per line on stdout.
//
//   {"op":"key","text":"nodekey:..."}
//       -> {"ok":true,"kind":"node-public","text":"<canonical>","public":"nodekey:..."}
//   {"op":"disco-seal","private":"<64 hex>","to":"discokey:...","nonce":"<48 hex>",
//    "message":{"type":"ping","txid":"<24 hex>","node_key":"nodekey:...","padding":0}}
//       -> {"ok":true,"packet":"<hex>"}
//   {"op":"disco-open","private":"<64 hex>","packet":"<hex>"}
//       -> {"ok":true,"sender":"discokey:...","message":{...}}
// Messages: ping {txid, node_key, padding}, pong {txid, source "ip:port"},
// call_me_maybe {endpoints ["ip:port", ...]}. A request that cannot be
// served answers {"ok":false,"error":"..."}; the service goes on.
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "cli-common/subcommand.h"
#include "cli-common/flags.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/disco/message.h"
#include "punchlab/disco/sealer.h"
#include "punchlab/json.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

// A request the service cannot serve; answered, not fatal.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

CommandSpec Spec() {
  return CommandSpec{
      "codec", "codec < requests.jsonl",
      "Answers one JSON request per stdin line with one JSON line on stdout: key\n"
      "text forms parsed (op key), disco packets sealed with a given nonce (op\n"
      "disco-seal) and opened (op disco-open). For conformance tests against other\n"
      "implementations; see the comment at the top of node-codec.cc.",
      po::options_description("Options"),
      {}};
}

Bytes HexField(const json& j, const char* name, size_t want_size = 0) {
  Bytes out;
  if (!j.contains(name) || !j[name].is_string() || !FromHex(j[name].get<std::string>(), out)) {
    throw BadRequest(std::string(name) + ": expected hex");
  }
  if (want_size && out.size() != want_size) {
    throw BadRequest(std::string(name) + ": expected " + std::to_string(want_size) + " bytes");
  }
  return out;
}

std::string TextField(const json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) throw BadRequest(std::string(name) + ": expected a string");
  return j[name].get<std::string>();
}

template <typename T>
T Parsed(std::optional<T> v, const std::string& what) {
  if (!v) throw BadRequest(what);
  return std::move(*v);
}

json KeyInfo(const std::string& text) {
  auto answer = [](const char* kind, std::string canonical, std::string pub) {
    return json{{"ok", true}, {"kind", kind}, {"text", std::move(canonical)}, {"public", std::move(pub)}};
  };
  if (auto k = NodePublicKey::Parse(text)) return answer("node-public", k->ToString(), k->ToString());
  if (auto k = DiscoPublicKey::Parse(text)) return answer("disco-public", k->ToString(), k->ToString());
  if (auto k = MachinePublicKey::Parse(text)) return answer("machine-public", k->ToString(), k->ToString());
  // Node and machine private keys share Tailscale's "privkey:" form: the
  // caller's context decides the role, so both public keys are reported.
  if (auto k = NodePrivateKey::Parse(text)) {
    json j = answer("private", k->ToSecretString(), k->Public().ToString());
    j["machine_public"] = Parsed(MachinePrivateKey::Parse(text), "privkey").Public().ToString();
    return j;
  }
  if (auto k = DiscoPrivateKey::Parse(text)) {
    return answer("disco-private", k->ToSecretString(), k->Public().ToString());
  }
  throw BadRequest("not a key text form punchlab knows");
}

std::array<uint8_t, disco::kTxIdSize> TxIdField(const json& j) {
  const Bytes b = HexField(j, "txid", disco::kTxIdSize);
  std::array<uint8_t, disco::kTxIdSize> txid{};
  std::copy(b.begin(), b.end(), txid.begin());
  return txid;
}

disco::Message MessageFromJson(const json& m) {
  const std::string type = TextField(m, "type");
  if (type == "ping") {
    disco::Ping p;
    p.txid = TxIdField(m);
    if (m.contains("node_key")) {
      p.node_key = Parsed(NodePublicKey::Parse(TextField(m, "node_key")), "node_key: not a nodekey");
    }
    if (m.contains("padding")) p.padding = m["padding"].get<size_t>();
    return p;
  }
  if (type == "pong") {
    disco::Pong p;
    p.txid = TxIdField(m);
    p.source = Parsed(Endpoint::Parse(TextField(m, "source")), "source: not ip:port");
    return p;
  }
  if (type == "call_me_maybe") {
    disco::CallMeMaybe c;
    for (const auto& e : m.at("endpoints")) {
      c.endpoints.push_back(Parsed(Endpoint::Parse(e.get<std::string>()), "endpoints: not ip:port"));
    }
    return c;
  }
  throw BadRequest("message type '" + type + "' is not ping, pong or call_me_maybe");
}

json MessageToJson(const disco::Message& message) {
  if (const auto* p = std::get_if<disco::Ping>(&message)) {
    json j{{"type", "ping"}, {"txid", ToHex(ByteView(p->txid.data(), p->txid.size()))},
           {"padding", p->padding}};
    if (!p->node_key.IsZero()) j["node_key"] = p->node_key.ToString();
    return j;
  }
  if (const auto* p = std::get_if<disco::Pong>(&message)) {
    return json{{"type", "pong"}, {"txid", ToHex(ByteView(p->txid.data(), p->txid.size()))},
                {"source", p->source.ToString()}};
  }
  const auto& c = std::get<disco::CallMeMaybe>(message);
  json eps = json::array();
  for (const Endpoint& e : c.endpoints) eps.push_back(e.ToString());
  return json{{"type", "call_me_maybe"}, {"endpoints", eps}};
}

DiscoPrivateKey PrivateField(const json& j) {
  const Bytes raw = HexField(j, "private", kCurve25519KeySize);
  return Parsed(DiscoPrivateKey::FromBytes(raw), "private: not a key");
}

json DiscoSeal(const json& req) {
  disco::DiscoSealer sealer(PrivateField(req));
  const auto to = Parsed(DiscoPublicKey::Parse(TextField(req, "to")), "to: not a discokey");
  if (sealer.AddPeer(to) != disco::DiscoSealer::AddPeerResult::kAdded) {
    throw BadRequest("to: a low-order key");
  }
  const Bytes nonce_bytes = HexField(req, "nonce", kBoxNonceSize);
  BoxNonce nonce{};
  std::copy(nonce_bytes.begin(), nonce_bytes.end(), nonce.begin());
  const auto packet = sealer.Seal(nonce, to, MessageFromJson(req.at("message")));
  if (!packet) throw BadRequest("sealing failed");
  return json{{"ok", true}, {"packet", ToHex(*packet)}};
}

json DiscoOpen(const json& req) {
  disco::DiscoSealer sealer(PrivateField(req));
  const Bytes packet = HexField(req, "packet");
  const auto sender = disco::DiscoSealer::PeekSender(packet);
  if (!sender) throw BadRequest("packet: not a disco packet");
  sealer.AddPeer(*sender);
  const disco::OpenResult r = sealer.Open(packet);
  if (!r.ok()) return json{{"ok", false}, {"error", disco::DropReasonName(r.drop)}};
  return json{{"ok", true}, {"sender", r.opened->sender.ToString()},
              {"message", MessageToJson(r.opened->message)}};
}

json Serve(const std::string& line) {
  // nlohmann would stop at a NUL and serve what came before it.
  if (const std::optional<std::string> nul = RawNulError(line)) {
    throw BadRequest("not JSON: " + *nul);
  }
  const json req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) throw BadRequest("not a JSON object");
  const std::string op = TextField(req, "op");
  if (op == "key") return KeyInfo(TextField(req, "text"));
  if (op == "disco-seal") return DiscoSeal(req);
  if (op == "disco-open") return DiscoOpen(req);
  throw BadRequest("unknown op '" + op + "'");
}

int Run(const std::vector<std::string>& argv) {
  po::variables_map vm;
  if (!ParseCommandLine(argv, Spec(), vm)) return kExitOk;
  std::string line;
  while (std::getline(std::cin, line)) {
    json answer;
    try {
      answer = Serve(line);
    } catch (const BadRequest& e) {
      answer = json{{"ok", false}, {"error", e.what()}};
    } catch (const json::exception& e) {
      answer = json{{"ok", false}, {"error", e.what()}};
    }
    std::cout << answer.dump() << std::endl;
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "codec", "answer codec requests (keys, disco sealing) as JSON lines, for conformance tests",
    Run);

}  // namespace
}  // namespace punchlab::cli
