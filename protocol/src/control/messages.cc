#include "punchlab/control/messages.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "control/message-reader.h"

namespace punchlab::control {
namespace {

using nlohmann::json;

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

json EndpointsToJson(const std::vector<Endpoint>& eps) {
  json out = json::array();
  for (const Endpoint& e : eps) out.push_back(e.ToString());
  return out;
}

json NodeToJson(const NodeInfo& n) {
  return {{"node_key", n.node_key.ToString()}, {"disco_key", n.disco_key.ToString()},
          {"endpoints", EndpointsToJson(n.endpoints)}, {"home_region", n.home_region},
          {"address", n.address.ToString()},  {"user", n.user}};
}

// Only the fields the patch carries, with the key (message.h: PeerPatch).
json PatchToJson(const PeerPatch& p) {
  json out = {{"node_key", p.node_key.ToString()}};
  if (p.endpoints) out["endpoints"] = EndpointsToJson(*p.endpoints);
  if (p.disco_key) out["disco_key"] = p.disco_key->ToString();
  if (p.home_region) out["home_region"] = *p.home_region;
  return out;
}

json DerpMapToJson(const DerpMap& m) {
  json regions = json::array();
  for (const DerpRegion& r : m.regions) {
    json nodes = json::array();
    for (const DerpNode& n : r.nodes) {
      json node{{"name", n.name}, {"derp", n.derp.ToString()}, {"stun_port", n.stun_port}};
      if (!n.public_key.IsZero()) node["public_key"] = n.public_key.ToString();
      // Absent means TLS: plain HTTP is the exception that must be said.
      if (n.plain_http) node["plain_http"] = true;
      if (!n.cert_name.empty()) node["cert_name"] = n.cert_name;
      if (n.insecure_for_tests) node["insecure_for_tests"] = true;
      nodes.push_back(std::move(node));
    }
    regions.push_back({{"id", r.id}, {"name", r.name}, {"nodes", std::move(nodes)}});
  }
  return {{"regions", std::move(regions)}};
}

// Reads typed fields out of one JSON object; the first failure is kept in
// `error` and every later read fails too, so callers check once at the end.
class Fields {
 public:
  Fields(const json& obj, const std::string& where, std::string& error)
      : obj_(obj), where_(where), error_(error) {
    if (!obj_.is_object()) Fail("", "is not an object");
  }

  bool ok() const { return ok_; }
  bool Has(const char* key) const { return ok_ && obj_.find(key) != obj_.end(); }

  const json* Get(const char* key) {
    if (!ok_) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      Fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  bool Bool(const char* key) {
    const json* v = Get(key);
    if (v && v->is_boolean()) return v->get<bool>();
    if (v) Fail(key, "is not true or false");
    return false;
  }

  std::string String(const char* key) {
    const json* v = Get(key);
    if (v && v->is_string()) return v->get<std::string>();
    if (v) Fail(key, "is not a string");
    return {};
  }

  int64_t Int(const char* key, int64_t lo, int64_t hi) {
    const json* v = Get(key);
    if (!v) return 0;
    // Unsigned first: a JSON number above INT64_MAX must not wrap into range.
    if (v->is_number_unsigned() && v->get<uint64_t>() <= static_cast<uint64_t>(hi) &&
        v->get<uint64_t>() >= static_cast<uint64_t>(lo < 0 ? 0 : lo)) {
      return static_cast<int64_t>(v->get<uint64_t>());
    }
    if (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() >= lo &&
        v->get<int64_t>() <= hi) {
      return v->get<int64_t>();
    }
    Fail(key, "is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return 0;
  }

  template <typename Role>
  PublicKey<Role> Key(const char* key) {
    const std::string text = String(key);
    if (!ok_) return {};
    auto k = PublicKey<Role>::Parse(text);
    if (!k || k->IsZero()) {
      Fail(key, std::string("is not a ") + Role::kPublicPrefix + " key");
      return {};
    }
    return *k;
  }

  Endpoint EndpointAt(const char* key) {
    const std::string text = String(key);
    if (!ok_) return {};
    auto e = Endpoint::Parse(text);
    if (!e) Fail(key, "is not an ip:port endpoint");
    return e ? *e : Endpoint{};
  }

  Challenge ChallengeAt(const char* key) {
    const std::string text = String(key);
    Challenge out{};
    Bytes raw;
    if (!ok_) return out;
    if (!FromHex(text, raw) || raw.size() != kChallengeSize) {
      Fail(key, "is not " + std::to_string(kChallengeSize) + " bytes of hex");
      return out;
    }
    std::copy(raw.begin(), raw.end(), out.begin());
    return out;
  }

  IpAddress Address(const char* key) {
    const std::string text = String(key);
    if (!ok_) return {};
    auto a = IpAddress::Parse(text);
    if (!a) Fail(key, "is not an IP address");
    return a ? *a : IpAddress{};
  }

  std::vector<Endpoint> Endpoints(const char* key) {
    const json* v = Get(key);
    std::vector<Endpoint> out;
    if (!v) return out;
    if (!v->is_array() || v->size() > kMaxEndpoints) {
      Fail(key, "is not an array of at most " + std::to_string(kMaxEndpoints) + " endpoints");
      return out;
    }
    for (const json& item : *v) {
      auto e = item.is_string() ? Endpoint::Parse(item.get<std::string>()) : std::nullopt;
      if (!e) {
        Fail(key, "holds something that is not an ip:port endpoint");
        return {};
      }
      out.push_back(*e);
    }
    return out;
  }

  // The array under `key`, or nullptr (and failure) if it is not one.
  const json* Array(const char* key) {
    const json* v = Get(key);
    if (v && !v->is_array()) {
      Fail(key, "is not an array");
      return nullptr;
    }
    return v;
  }

  void Fail(const std::string& key, const std::string& what) {
    if (!ok_) return;
    ok_ = false;
    error_ = where_ + (key.empty() ? "" : "." + key) + " " + what;
  }

 private:
  const json& obj_;
  std::string where_;
  std::string& error_;
  bool ok_ = true;
};

// What is wrong with an entry as the reader took it (message-reader.h), as
// Fields would say it after the entry's name (".node_key is missing"), the
// fields judged in NodeInfo's order; empty when it is a good entry.
struct EntryCheck {
  EntryRead::Field field;
  const char* key;
  std::string wrong_type;
  std::string bad_value;
};

// How each field of an entry is judged, in NodeInfo's order.
const std::vector<EntryCheck>& EntryChecks() {
  using Field = EntryRead::Field;
  static const std::string kNotString = "is not a string";
  static const std::vector<EntryCheck> kChecks = {
      {Field::kNodeKey, "node_key", kNotString,
       std::string("is not a ") + NodeKeyRole::kPublicPrefix + " key"},
      {Field::kDiscoKey, "disco_key", kNotString,
       std::string("is not a ") + DiscoKeyRole::kPublicPrefix + " key"},
      {Field::kEndpoints, "endpoints",
       "is not an array of at most " + std::to_string(kMaxEndpoints) + " endpoints",
       "holds something that is not an ip:port endpoint"},
      {Field::kHomeRegion, "home_region",
       "is not an integer in [0, " + std::to_string(kMaxRegionId) + "]",
       "is not an integer in [0, " + std::to_string(kMaxRegionId) + "]"},
      {Field::kAddress, "address", kNotString, "is not an IP address"},
      {Field::kUser, "user", kNotString, ""},
  };
  return kChecks;
}

// What is wrong with one field as read (empty: fine, or missing when
// `optional`).
std::string FieldProblem(const EntryRead& read, const EntryCheck& c, bool optional) {
  using Seen = EntryRead::Seen;
  switch (read[c.field]) {
    case Seen::kOk: return {};
    case Seen::kMissing: return optional ? std::string() : std::string(".") + c.key + " is missing";
    case Seen::kWrongType: return std::string(".") + c.key + " " + c.wrong_type;
    case Seen::kBadValue: return std::string(".") + c.key + " " + c.bad_value;
  }
  return {};
}

std::string EntryProblem(const EntryRead& read) {
  if (!read.object) return " is not an object";
  for (const EntryCheck& c : EntryChecks()) {
    std::string problem = FieldProblem(read, c, /*optional=*/false);
    if (!problem.empty()) return problem;
  }
  return {};
}

// The same for a patch: its node key, then any of endpoints, disco key and
// home region (at least one); an address or user cannot be patched.
std::string PatchProblem(const EntryRead& read) {
  using Field = EntryRead::Field;
  if (!read.object) return " is not an object";
  bool changes = false;
  for (const EntryCheck& c : EntryChecks()) {
    const bool key = c.field == Field::kNodeKey;
    if (c.field == Field::kAddress || c.field == Field::kUser) {
      if (read[c.field] != EntryRead::Seen::kMissing) {
        return std::string(".") + c.key + " cannot be patched (a whole entry says it)";
      }
      continue;
    }
    std::string problem = FieldProblem(read, c, /*optional=*/!key);
    if (!problem.empty()) return problem;
    if (!key && read[c.field] == EntryRead::Seen::kOk) changes = true;
  }
  if (!changes) return " changes nothing";
  return {};
}

// A captured list's entries, judged in order; `where` names the list.
bool NodesFromEntries(EntryList&& list, const std::string& where, std::vector<NodeInfo>& out,
                      std::string& error) {
  for (size_t i = 0; i < list.reads.size(); ++i) {
    std::string problem = EntryProblem(list.reads[i]);
    if (!problem.empty()) {
      error = where + "[" + std::to_string(i) + "]" + problem;
      return false;
    }
  }
  out = std::move(list.nodes);
  return true;
}

// A captured list of patches, judged in order; `where` names the list.
bool PatchesFromEntries(EntryList&& list, const std::string& where, std::vector<PeerPatch>& out,
                        std::string& error) {
  using Field = EntryRead::Field;
  using Seen = EntryRead::Seen;
  out.reserve(list.reads.size());
  for (size_t i = 0; i < list.reads.size(); ++i) {
    const EntryRead& read = list.reads[i];
    std::string problem = PatchProblem(read);
    if (!problem.empty()) {
      error = where + "[" + std::to_string(i) + "]" + problem;
      return false;
    }
    NodeInfo& node = list.nodes[i];
    PeerPatch patch;
    patch.node_key = node.node_key;
    if (read[Field::kEndpoints] == Seen::kOk) patch.endpoints = std::move(node.endpoints);
    if (read[Field::kDiscoKey] == Seen::kOk) patch.disco_key = node.disco_key;
    if (read[Field::kHomeRegion] == Seen::kOk) patch.home_region = node.home_region;
    out.push_back(std::move(patch));
  }
  return true;
}

std::optional<DerpMap> DerpMapFromJson(const json& j, std::string& error) {
  Fields f(j, "derp_map", error);
  const json* regions = f.Array("regions");
  if (!f.ok()) return std::nullopt;
  DerpMap m;
  for (size_t i = 0; i < regions->size(); ++i) {
    const std::string where = "derp_map.regions[" + std::to_string(i) + "]";
    Fields rf((*regions)[i], where, error);
    DerpRegion r;
    r.id = static_cast<RegionId>(rf.Int("id", 1, kMaxRegionId));
    r.name = rf.String("name");
    const json* nodes = rf.Array("nodes");
    if (!rf.ok()) return std::nullopt;
    for (size_t k = 0; k < nodes->size(); ++k) {
      Fields nf((*nodes)[k], where + ".nodes[" + std::to_string(k) + "]", error);
      DerpNode n;
      n.name = nf.String("name");
      n.derp = nf.EndpointAt("derp");
      n.stun_port = static_cast<uint16_t>(nf.Int("stun_port", 0, 65535));
      if (nf.Has("public_key")) n.public_key = nf.Key<NodeKeyRole>("public_key");
      if (nf.Has("plain_http")) n.plain_http = nf.Bool("plain_http");
      if (nf.Has("cert_name")) n.cert_name = nf.String("cert_name");
      if (nf.Has("insecure_for_tests")) n.insecure_for_tests = nf.Bool("insecure_for_tests");
      if (!nf.ok()) return std::nullopt;
      r.nodes.push_back(std::move(n));
    }
    m.regions.push_back(std::move(r));
  }
  return m;
}

std::optional<Message> NetmapFromJson(ReadMessage& read, std::string& error) {
  Fields f(read.dom, "netmap", error);
  NetmapMsg m;
  m.netmap.domain = f.String("domain");
  f.Get("self");  // read.self_read says what it was
  f.Array("peers");
  const json* derp = f.Get("derp_map");
  if (!f.ok()) return std::nullopt;
  // Both are judged, the DERP map's error last (as it always was).
  const std::string self_problem = EntryProblem(read.self_read);
  if (!self_problem.empty()) error = "netmap.self" + self_problem;
  auto derp_map = DerpMapFromJson(*derp, error);
  if (!self_problem.empty() || !derp_map) return std::nullopt;
  m.netmap.self = std::move(*read.self);
  m.netmap.derp_map = std::move(*derp_map);
  if (!NodesFromEntries(std::move(read.peers), "netmap.peers", m.netmap.peers, error)) {
    return std::nullopt;
  }
  return Message(std::move(m));
}

std::optional<Message> PeersChangedFromJson(ReadMessage& read, std::string& error) {
  Fields f(read.dom, "peers_changed", error);
  f.Array("changed");
  if (f.Has("patched")) f.Array("patched");  // absent: no patches
  const json* removed = f.Array("removed");
  if (!f.ok()) return std::nullopt;
  PeersChangedMsg m;
  if (!NodesFromEntries(std::move(read.changed), "peers_changed.changed", m.changed, error) ||
      !PatchesFromEntries(std::move(read.patched), "peers_changed.patched", m.patched, error)) {
    return std::nullopt;
  }
  m.removed.reserve(removed->size());
  for (size_t i = 0; i < removed->size(); ++i) {
    const json& k = (*removed)[i];
    auto key = k.is_string() ? NodePublicKey::Parse(k.get<std::string>()) : std::nullopt;
    if (!key) {
      error = "peers_changed.removed[" + std::to_string(i) + "] is not a node key";
      return std::nullopt;
    }
    m.removed.push_back(*key);
  }
  return Message(std::move(m));
}

std::optional<Message> BodyFromJson(const std::string& type, ReadMessage& read,
                                    std::string& error) {
  Fields f(read.dom, type, error);
  Message out;
  if (type == "hello") {
    HelloMsg m;
    m.version = static_cast<int>(f.Int("version", 0, std::numeric_limits<int>::max()));
    m.node_key = f.Key<NodeKeyRole>("node_key");
    out = m;
  } else if (type == "register") {
    RegisterMsg m;
    m.challenge = f.ChallengeAt("challenge");
    m.token = f.String("token");
    m.disco_key = f.Key<DiscoKeyRole>("disco_key");
    m.endpoints = f.Endpoints("endpoints");
    m.home_region = static_cast<RegionId>(f.Int("home_region", 0, kMaxRegionId));
    if (f.Has("compress")) {
      if (f.String("compress") == CompressionName(Compression::kZstd)) {
        m.compress = Compression::kZstd;
      } else if (f.ok()) {
        f.Fail("compress", "is not \"zstd\"");
      }
    }
    out = std::move(m);
  } else if (type == "update") {
    UpdateMsg m;
    if (f.Has("endpoints")) m.endpoints = f.Endpoints("endpoints");
    if (f.Has("disco_key")) m.disco_key = f.Key<DiscoKeyRole>("disco_key");
    if (f.Has("home_region")) {
      m.home_region = static_cast<RegionId>(f.Int("home_region", 0, kMaxRegionId));
    }
    if (!m.endpoints && !m.disco_key && !m.home_region) f.Fail("", "changes nothing");
    out = std::move(m);
  } else if (type == "leave") {
    out = LeaveMsg{};
  } else if (type == "ping") {
    out = PingMsg{};
  } else if (type == "challenge") {
    out = ChallengeMsg{f.ChallengeAt("challenge")};
  } else if (type == "registered") {
    RegisteredMsg m;
    m.address = f.Address("address");
    m.user = f.String("user");
    m.domain = f.String("domain");
    out = std::move(m);
  } else if (type == "refused") {
    out = RefusedMsg{f.String("reason")};
  } else if (type == "netmap") {
    return NetmapFromJson(read, error);
  } else if (type == "peers_changed") {
    return PeersChangedFromJson(read, error);
  } else if (type == "pong") {
    out = PongMsg{};
  } else if (type == "goodbye") {
    out = GoodbyeMsg{f.String("reason")};
  } else {
    f.Fail("type", "\"" + type + "\" is not a known message type");
  }
  if (!f.ok()) return std::nullopt;
  return out;
}

// `texts` as the inside of a JSON array: joined by commas.
void AppendJoined(std::string& out, const std::vector<const std::string*>& texts) {
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) out += ',';
    out += *texts[i];
  }
}

}  // namespace

const char* MessageTypeName(const Message& msg) {
  return std::visit(Overloaded{[](const HelloMsg&) { return "hello"; },
                               [](const RegisterMsg&) { return "register"; },
                               [](const UpdateMsg&) { return "update"; },
                               [](const LeaveMsg&) { return "leave"; },
                               [](const PingMsg&) { return "ping"; },
                               [](const ChallengeMsg&) { return "challenge"; },
                               [](const RegisteredMsg&) { return "registered"; },
                               [](const RefusedMsg&) { return "refused"; },
                               [](const NetmapMsg&) { return "netmap"; },
                               [](const PeersChangedMsg&) { return "peers_changed"; },
                               [](const PongMsg&) { return "pong"; },
                               [](const GoodbyeMsg&) { return "goodbye"; }},
                    msg);
}

Bytes EncodeMessage(const Message& msg, uint64_t seq) {
  json j = std::visit(
      Overloaded{
          [](const HelloMsg& m) -> json {
            return {{"version", m.version}, {"node_key", m.node_key.ToString()}};
          },
          [](const ChallengeMsg& m) -> json {
            return {{"challenge", ToHex(ByteView(m.challenge.data(), m.challenge.size()))}};
          },
          [](const RegisterMsg& m) -> json {
            json r = {{"challenge", ToHex(ByteView(m.challenge.data(), m.challenge.size()))},
                      {"token", m.token},
                      {"disco_key", m.disco_key.ToString()},
                      {"endpoints", EndpointsToJson(m.endpoints)},
                      {"home_region", m.home_region}};
            if (m.compress != Compression::kNone) r["compress"] = CompressionName(m.compress);
            return r;
          },
          [](const UpdateMsg& m) -> json {
            json u = json::object();
            if (m.endpoints) u["endpoints"] = EndpointsToJson(*m.endpoints);
            if (m.disco_key) u["disco_key"] = m.disco_key->ToString();
            if (m.home_region) u["home_region"] = *m.home_region;
            return u;
          },
          [](const RegisteredMsg& m) -> json {
            return {{"address", m.address.ToString()}, {"user", m.user}, {"domain", m.domain}};
          },
          [](const RefusedMsg& m) -> json { return {{"reason", m.reason}}; },
          [](const NetmapMsg& m) -> json {
            json peers = json::array();
            for (const NodeInfo& p : m.netmap.peers) peers.push_back(NodeToJson(p));
            return {{"domain", m.netmap.domain},
                    {"self", NodeToJson(m.netmap.self)},
                    {"peers", std::move(peers)},
                    {"derp_map", DerpMapToJson(m.netmap.derp_map)}};
          },
          [](const PeersChangedMsg& m) -> json {
            json changed = json::array();
            for (const NodeInfo& n : m.changed) changed.push_back(NodeToJson(n));
            json removed = json::array();
            for (const NodePublicKey& k : m.removed) removed.push_back(k.ToString());
            json out = {{"changed", std::move(changed)}, {"removed", std::move(removed)}};
            if (!m.patched.empty()) {
              json patched = json::array();
              for (const PeerPatch& p : m.patched) patched.push_back(PatchToJson(p));
              out["patched"] = std::move(patched);
            }
            return out;
          },
          [](const GoodbyeMsg& m) -> json { return {{"reason", m.reason}}; },
          [](const auto&) -> json { return json::object(); }},
      msg);
  j["type"] = MessageTypeName(msg);
  j["seq"] = seq;
  // Strings here are ours or came through the JSON parser, so they are valid
  // UTF-8; replacing instead of throwing keeps a slip from ever escaping.
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return Bytes(text.begin(), text.end());
}

PreparedMessage PrepareMessage(const Message& msg) {
  // Keys are sorted, so a message without keys after "type" ends in
  // "seq":0,"type":"NAME"}; a '"' inside a string is escaped, so that text
  // cannot be a string's.
  const Bytes zero = EncodeMessage(msg, 0);
  const std::string text(zero.begin(), zero.end());
  const std::string seq_key = "\"seq\":";
  const std::string tail = std::string(",\"type\":\"") + MessageTypeName(msg) + "\"}";
  const std::string end = seq_key + "0" + tail;
  PreparedMessage p;
  if (text.size() < end.size() || text.compare(text.size() - end.size(), end.size(), end) != 0) {
    p.whole = msg;
    return p;
  }
  p.head = text.substr(0, text.size() - end.size() + seq_key.size());
  p.tail = tail;
  return p;
}

std::string EncodeNodeInfo(const NodeInfo& node) {
  return NodeToJson(node).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EncodePeerPatch(const PeerPatch& patch) {
  return PatchToJson(patch).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EncodeDerpMap(const DerpMap& map) {
  return DerpMapToJson(map).dump(-1, ' ', false, json::error_handler_t::replace);
}

PreparedMessage PrepareNetmap(const std::string& domain, const std::string& self,
                              const std::vector<const std::string*>& peers,
                              const std::string& derp_map) {
  // EncodeMessage's text: keys sorted (derp_map, domain, peers, self, seq,
  // type), no spaces.
  const std::string domain_text =
      json(domain).dump(-1, ' ', false, json::error_handler_t::replace);
  size_t size = 64 + derp_map.size() + domain_text.size() + self.size();
  for (const std::string* text : peers) size += text->size() + 1;
  PreparedMessage p;
  p.head.reserve(size);
  p.head += "{\"derp_map\":";
  p.head += derp_map;
  p.head += ",\"domain\":";
  p.head += domain_text;
  p.head += ",\"peers\":[";
  AppendJoined(p.head, peers);
  p.head += "],\"self\":";
  p.head += self;
  p.head += ",\"seq\":";
  p.tail = std::string(",\"type\":\"") + MessageTypeName(Message{NetmapMsg{}}) + "\"}";
  return p;
}

PreparedMessage PreparePeersChanged(const std::vector<const std::string*>& changed,
                                    const std::vector<NodePublicKey>& removed,
                                    const std::vector<const std::string*>& patched) {
  // EncodeMessage's text: keys sorted (changed, patched when there are any,
  // removed, seq, type), no spaces.
  json removed_json = json::array();
  for (const NodePublicKey& k : removed) removed_json.push_back(k.ToString());
  const std::string removed_text =
      removed_json.dump(-1, ' ', false, json::error_handler_t::replace);
  size_t size = 32 + removed_text.size();
  for (const std::string* text : changed) size += text->size() + 1;
  for (const std::string* text : patched) size += text->size() + 1;
  PreparedMessage p;
  p.head.reserve(size);
  p.head += "{\"changed\":[";
  AppendJoined(p.head, changed);
  if (!patched.empty()) {
    p.head += "],\"patched\":[";
    AppendJoined(p.head, patched);
  }
  p.head += "],\"removed\":";
  p.head += removed_text;
  p.head += ",\"seq\":";
  p.tail = std::string(",\"type\":\"") + MessageTypeName(Message{PeersChangedMsg{}}) + "\"}";
  return p;
}

Bytes EncodePrepared(const PreparedMessage& prepared, uint64_t seq) {
  if (prepared.whole) return EncodeMessage(*prepared.whole, seq);
  const std::string number = std::to_string(seq);
  Bytes out;
  out.reserve(prepared.head.size() + number.size() + prepared.tail.size());
  out.insert(out.end(), prepared.head.begin(), prepared.head.end());
  out.insert(out.end(), number.begin(), number.end());
  out.insert(out.end(), prepared.tail.begin(), prepared.tail.end());
  return out;
}

std::optional<DecodedMessage> DecodeMessage(ByteView bytes, std::string& error) {
  ReadMessage read;
  if (!ReadMessageJson(bytes, read)) {
    error = "message is not valid JSON";
    return std::nullopt;
  }
  Fields f(read.dom, "message", error);
  const std::string type = f.String("type");
  const auto seq = static_cast<uint64_t>(f.Int("seq", 0, std::numeric_limits<int64_t>::max()));
  if (!f.ok()) return std::nullopt;
  auto msg = BodyFromJson(type, read, error);
  if (!msg) return std::nullopt;
  return DecodedMessage{seq, std::move(*msg)};
}

}  // namespace punchlab::control
