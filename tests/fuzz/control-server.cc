// The control server machine fed one connection's bytes. Three honest nodes
// (real ControlClient machines) are registered, alice and bob in a.example
// and carol in b.example. a.example has access rules (kRules: alice may
// reach mallory, so they see each other and bob sees no one); b.example has
// none (everyone sees everyone). Mallory's connection is the fuzzer's: a script of raw bytes,
// a hello (for her own key or for alice's, which she cannot prove),
// plaintext of the fuzzer's choosing sealed with her session key (the
// server's JSON decoder behind the box, which raw bytes never reach), a
// register carrying one of several tokens (valid for her key and domain,
// from a provider not trusted for the domain, from a stranger, alice's,
// expired, or the fuzzer's text) and asking for compression or not, time
// passing, honest nodes changing, and closing. What the server sends mallory
// is opened (and decompressed, when a register of hers asked) and decoded as
// her client would. The honest clients ask for compression (the default).
//
// The honest set-up (alice and carol registered, mallory's connection open)
// is built once per process and cloned for each input (the machines'
// Clone(): the same state, fresh random streams), so an input pays for its
// own script, not for the registrations before it.
//
// Invariants:
//  * a node registers only with a valid token for its key and domain:
//    mallory's connection registers only her own key, and only into a
//    domain for which she presented a token valid for that key and domain;
//  * netmaps never cross domains: every netmap or change a node receives
//    (alice, carol, mallory) is of the domain the node registered in, and
//    names only nodes that registered in that domain;
//  * a netmap never lists a peer the rules hide: every peer a node is told
//    of (in the netmap an honest client keeps, and in every netmap or change
//    mallory reads) is visible to it under the rules, judged here from the
//    rules themselves (Sees), not from the server's index;
//  * a patch (PeerPatch) reaches only a session that holds the patched
//    entry: an honest client never drops one as unknown, and mallory's name
//    nodes of her domain.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/channel.h"
#include "fuzz-addresses.h"
#include "fuzz-check.h"
#include "punchlab/control/client.h"
#include "punchlab/control/frame.h"
#include "punchlab/control/identity.h"
#include "punchlab/control/server.h"
#include "punchlab/crypto/box.h"
#include "punchlab/random.h"
#include "set-up-coverage.h"
#include "support/server-wiring.h"

using namespace punchlab;
using namespace punchlab::control;

namespace {

using fuzz::kControlServerAddr;
const Timestamp kExpires = Timestamp::Zero() + Duration::Seconds(100000);

// Keys and tokens are the same for every input: made once (key generation
// and signing would otherwise be most of each run).
struct Material {
  Material()
      : rng(1),
        idp_a(SigningKey::Generate(rng)),
        idp_b(SigningKey::Generate(rng)),
        stranger(SigningKey::Generate(rng)),
        server(NodePrivateKey::Generate(rng)),
        alice(NodePrivateKey::Generate(rng)),
        carol(NodePrivateKey::Generate(rng)),
        mallory(NodePrivateKey::Generate(rng)),
        disco(DiscoPrivateKey::Generate(rng).Public()),
        bob(NodePrivateKey::Generate(rng)) {
    const NodePublicKey me = mallory.Public();
    honest_tokens = {*idp_a.Issue({"alice", "a.example", alice.Public(), kExpires}),
                     *idp_b.Issue({"carol", "b.example", carol.Public(), kExpires}),
                     *idp_a.Issue({"bob", "a.example", bob.Public(), kExpires})};
    mallory_tokens = {
        *idp_a.Issue({"mallory", "a.example", me, kExpires}),  // valid: the one way in
        *idp_a.Issue({"mallory", "b.example", me, kExpires}),  // provider not trusted there
        *stranger.Issue({"mallory", "a.example", me, kExpires}),
        honest_tokens[0],                                            // alice's
        *idp_b.Issue({"mallory", "b.example", me, Timestamp::Zero()}),  // expired
    };
  }
  DeterministicRandom rng;
  IdentityProvider idp_a, idp_b, stranger;
  NodePrivateKey server, alice, carol, mallory;
  DiscoPublicKey disco;
  NodePrivateKey bob;  // after the others: their keys stay what they were
  std::vector<std::string> honest_tokens;  // in the order World adds them
  std::vector<std::string> mallory_tokens;
};

const Material& M() {
  static const Material m;
  return m;
}

// a.example's rules; b.example has none.
const AccessRules kRules = {{"a.example", {{{"alice"}, {"mallory"}}}}};

// Whether a node of `user` in `domain` may be told of a peer of `peer_user`:
// some rule lets one reach the other. Straight from the rules.
bool Sees(const std::string& domain, const std::string& user, const std::string& peer_user) {
  auto d = kRules.find(domain);
  if (d == kRules.end()) return true;
  auto in = [](const std::vector<std::string>& side, const std::string& u) {
    for (const std::string& e : side) {
      if (e == "*" || e == u) return true;
    }
    return false;
  };
  for (const AccessRule& r : d->second) {
    if ((in(r.src, user) && in(r.dst, peer_user)) || (in(r.src, peer_user) && in(r.dst, user))) {
      return true;
    }
  }
  return false;
}

struct Honest {
  Honest(std::string name_, std::string domain_, const NodePrivateKey& key_, uint8_t host_)
      : name(std::move(name_)),
        domain(std::move(domain_)),
        key(key_.Clone()),
        host(host_),
        rng(host),
        address(IpAddress::V4(203, 0, 113, host), 41641) {}
  // The same node in the same state, with a fresh random stream.
  Honest(const Honest& other)
      : name(other.name),
        domain(other.domain),
        key(other.key.Clone()),
        host(other.host),
        rng(host),
        client(std::make_unique<ControlClient>(other.client->Clone(rng))),
        address(other.address) {}
  std::string name;
  std::string domain;
  NodePrivateKey key;
  uint8_t host;
  DeterministicRandom rng;
  std::unique_ptr<ControlClient> client;
  Endpoint address;
};

class World {
 public:
  // alice, carol and bob registered; mallory's connection open.
  World()
      : server_rng_(2),
        server_(M().server.Clone(), Config(), server_rng_),
        mallory_key_(M().mallory.Clone()),
        mallory_rng_(3),
        mallory_channel_(kMaxFrameSize),
        wiring_(server_, kControlServerAddr, Timestamp::Zero() + Duration::Seconds(1000)) {
    AddHonest("alice", "a.example", M().alice, 10);
    AddHonest("carol", "b.example", M().carol, 11);
    AddHonest("bob", "a.example", M().bob, 12);
    Hook();
    Start();
  }

  // A copy of a set-up world (every machine cloned, in the same state) for
  // one input to run on.
  World(const World& set_up)
      : server_rng_(2),
        server_(set_up.server_.Clone(server_rng_)),
        honest_(CloneHonest(set_up.honest_)),
        mallory_key_(set_up.mallory_key_.Clone()),
        mallory_rng_(3),
        mallory_channel_(set_up.mallory_channel_),
        hello_as_alice_(set_up.hello_as_alice_),
        mallory_reads_(set_up.mallory_reads_),
        challenge_(set_up.challenge_),
        mallory_domain_(set_up.mallory_domain_),
        valid_offers_(set_up.valid_offers_),
        ever_in_(set_up.ever_in_),
        wiring_(set_up.wiring_, server_, Clients(honest_)) {
    Hook();
  }

 private:
  static std::vector<std::unique_ptr<Honest>> CloneHonest(
      const std::vector<std::unique_ptr<Honest>>& honest) {
    std::vector<std::unique_ptr<Honest>> copies;
    for (const auto& h : honest) copies.push_back(std::make_unique<Honest>(*h));
    return copies;
  }
  static std::vector<StreamMachine*> Clients(const std::vector<std::unique_ptr<Honest>>& honest) {
    std::vector<StreamMachine*> clients;
    for (const auto& h : honest) clients.push_back(h->client.get());
    return clients;
  }

  void Hook() {
    wiring_.stray = fuzz::CheckStray;
    wiring_.to_mallory = [this](ByteView bytes) { ToMallory(bytes); };
    // The server's events first: a registration is known before the
    // netmaps it caused are delivered.
    wiring_.before_round = [this] {
      while (auto e = server_.PollEvent()) OnServerEvent(*e);
    };
    wiring_.after_round = [this] {
      for (auto& h : honest_) {
        while (auto e = h->client->PollEvent()) (void)e;
        CheckNetmap(*h);
      }
    };
  }

  void Start() {
    wiring_.Do([this](Timestamp now) {
      for (size_t i = 0; i < honest_.size(); ++i) {
        Honest* h = honest_[i].get();
        Registration r{M().honest_tokens[i], M().disco, {h->address}, 1};
        h->client->Register(now, h->key.Clone(), r);
      }
    });
    for (auto& h : honest_) FUZZ_CHECK(h->client->registered());
    wiring_.OpenMallory(Endpoint(IpAddress::V4(198, 18, 0, 66), 6666));
  }

 public:
  void MalloryRaw(ByteView bytes) {
    // Bytes before the harness's hello may hold a hello of the fuzzer's: the
    // session's numbering is then unknown here, and her view is not checked.
    if (!mallory_channel_.has_key() && !bytes.empty()) mallory_reads_ = false;
    ToServer(Bytes(bytes.begin(), bytes.end()));
  }

  void MalloryHello(bool as_alice) {
    if (mallory_channel_.has_key()) return;
    HelloMsg hello;
    hello.node_key = as_alice ? honest_[0]->key.Public() : mallory_key_.Public();
    hello_as_alice_ = as_alice;
    const Bytes frame = mallory_channel_.EncodePlain(hello);
    // Her side of the box is her own key whatever she claimed; set before the
    // server's answer (the challenge) arrives.
    mallory_channel_.SetKey(*SharedKey::Compute(mallory_key_, server_.public_key()));
    ToServerFrame(frame);
  }

  void MallorySealed(ByteView plaintext) {
    if (!mallory_channel_.has_key()) mallory_reads_ = false;
    const auto key = SharedKey::Compute(mallory_key_, server_.public_key());
    ToServerFrame(EncodeFrame(key->Seal(mallory_rng_, plaintext)));
    // A register of the fuzzer's that asks for compression: what the server
    // answers (if it takes it) comes compressed.
    std::string error;
    const auto m = DecodeMessage(plaintext, error);
    const auto* reg = m ? std::get_if<RegisterMsg>(&m->msg) : nullptr;
    if (reg && reg->compress == Compression::kZstd) mallory_channel_.ExpectCompressed();
  }

  void MalloryRegisters(uint8_t which, const std::string& text, bool echo_challenge,
                        bool compress) {
    if (!mallory_channel_.has_key()) return;
    RegisterMsg reg;
    if (echo_challenge && challenge_) reg.challenge = *challenge_;
    reg.disco_key = M().disco;
    reg.endpoints = {Endpoint(IpAddress::V4(198, 18, 0, 66), 6666)};
    const size_t choice = which % (M().mallory_tokens.size() + 1);
    reg.token = choice < M().mallory_tokens.size() ? M().mallory_tokens[choice] : text;
    if (choice == 0 && !hello_as_alice_) valid_offers_.insert("a.example");
    if (compress) reg.compress = Compression::kZstd;
    const auto frame = mallory_channel_.EncodeSealed(reg, mallory_rng_, kMaxNodeFrameSize);
    if (compress) mallory_channel_.ExpectCompressed();
    if (frame) ToServerFrame(*frame);
  }

  void HonestMoves(uint8_t which, uint16_t port) {
    Honest& h = *honest_[which % honest_.size()];
    wiring_.Do(
        [&](Timestamp now) { h.client->UpdateEndpoints(now, {Endpoint(h.address.ip, port)}); });
  }

  void Advance(Duration d) { wiring_.Advance(d); }
  void MalloryCloses() { wiring_.MalloryCloses(); }

 private:
  ControlServerConfig Config() {
    ControlServerConfig c;
    c.trusted_issuers = {{M().idp_a.verify_key(), {"a.example"}},
                         {M().idp_b.verify_key(), {"b.example"}}};
    c.access_rules = kRules;
    return c;
  }

  void AddHonest(const std::string& name, const std::string& domain, const NodePrivateKey& key,
                 uint8_t host) {
    auto h = std::make_unique<Honest>(name, domain, key, host);
    ControlClientConfig c;
    c.server = kControlServerAddr;
    c.server_key = server_.public_key();
    h->client = std::make_unique<ControlClient>(c, h->rng);
    wiring_.AddHonest(*h->client, h->address);
    honest_.push_back(std::move(h));
  }

  void ToServerFrame(const Bytes& frame) { ToServer(frame); }
  void ToServer(const Bytes& bytes) { wiring_.MalloryWrites(bytes); }

  void OnServerEvent(const ServerEvent& e) {
    if (const auto* r = std::get_if<NodeRegistered>(&e)) {
      if (r->conn == testsupport::ServerWiring::kMallory) {
        FUZZ_CHECK(r->node.node_key == mallory_key_.Public());
        FUZZ_CHECK(valid_offers_.count(r->domain) == 1);
      } else {
        bool honest = false;
        for (auto& h : honest_) {
          honest = honest || (r->conn == wiring_.ServerConn(*h->client) &&
                              r->node.node_key == h->key.Public() && r->domain == h->domain);
        }
        FUZZ_CHECK(honest);
      }
      ever_in_[r->node.node_key].insert(r->domain);
    }
  }

  // Every peer named to a node of `user` in `domain` registered in `domain`
  // and is visible to it under the rules.
  void CheckPeers(const std::string& domain, const std::string& user,
                  const std::vector<NodeInfo>& peers) {
    for (const NodeInfo& p : peers) {
      auto it = ever_in_.find(p.node_key);
      FUZZ_CHECK(it != ever_in_.end() && it->second.count(domain) == 1);
      FUZZ_CHECK(Sees(domain, user, p.user));
    }
  }

  void CheckNetmap(const Honest& h) {
    if (!h.client->netmap()) return;
    FUZZ_CHECK(h.client->netmap()->domain == h.domain);
    CheckPeers(h.domain, h.name, h.client->netmap()->peers);
    // A patch goes only to a session that holds the patched entry.
    FUZZ_CHECK(h.client->stats().unknown_patches == 0);
  }

  // What mallory's client would read.
  void ToMallory(ByteView bytes) {
    // Nothing is sealed to her before her hello; after a hello for alice's
    // key it is sealed to alice, which she cannot open.
    if (!mallory_channel_.has_key() || hello_as_alice_ || !mallory_reads_) return;
    mallory_channel_.Feed(bytes);
    for (;;) {
      Channel::Incoming in = mallory_channel_.Next();
      if (in.kind == Channel::Incoming::Kind::kNone) return;
      FUZZ_CHECK(in.kind == Channel::Incoming::Kind::kMessage);  // the server's output parses
      if (const auto* c = std::get_if<ChallengeMsg>(&in.msg)) challenge_ = c->challenge;
      if (const auto* r = std::get_if<RegisteredMsg>(&in.msg)) mallory_domain_ = r->domain;
      if (const auto* n = std::get_if<NetmapMsg>(&in.msg)) {
        FUZZ_CHECK(mallory_domain_ && n->netmap.domain == *mallory_domain_);
        CheckPeers(*mallory_domain_, "mallory", n->netmap.peers);
      }
      if (const auto* p = std::get_if<PeersChangedMsg>(&in.msg)) {
        FUZZ_CHECK(mallory_domain_.has_value());
        // Her own entry comes back to her when it changes.
        std::vector<NodeInfo> peers;
        for (const NodeInfo& n : p->changed) {
          if (n.node_key != mallory_key_.Public()) peers.push_back(n);
        }
        CheckPeers(*mallory_domain_, "mallory", peers);
        for (const PeerPatch& patch : p->patched) {
          auto it = ever_in_.find(patch.node_key);
          FUZZ_CHECK(it != ever_in_.end() && it->second.count(*mallory_domain_) == 1);
        }
      }
    }
  }

  DeterministicRandom server_rng_;
  ControlServer server_;
  std::vector<std::unique_ptr<Honest>> honest_;

  NodePrivateKey mallory_key_;
  DeterministicRandom mallory_rng_;
  Channel mallory_channel_;
  bool hello_as_alice_ = false;
  bool mallory_reads_ = true;  // her channel follows the session (see MalloryRaw)
  std::optional<Challenge> challenge_;
  std::optional<std::string> mallory_domain_;
  std::set<std::string> valid_offers_;  // domains she presented a valid token for
  std::map<NodePublicKey, std::set<std::string>> ever_in_;
  testsupport::ServerWiring wiring_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The set-up, built once (never destroyed: the process exits with it).
  static const World* const kSetUp = new World();
  FuzzedDataProvider in(data, size);
  World w(*kSetUp);
  fuzz::ForgetSetUpCoverage();
  for (int steps = 0; steps < 32 && in.remaining_bytes() > 0; ++steps) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0: w.MalloryHello(in.ConsumeIntegralInRange(0, 3) == 0); break;
      case 1: {
        const uint8_t which = in.ConsumeIntegral<uint8_t>();
        const bool echo = in.ConsumeIntegralInRange(0, 7) != 0;
        const bool compress = in.ConsumeBool();
        w.MalloryRegisters(which, in.ConsumeRandomLengthString(256), echo, compress);
        break;
      }
      case 2: w.Advance(Duration::Millis(in.ConsumeIntegralInRange(0, 90000))); break;
      case 3: w.HonestMoves(in.ConsumeIntegral<uint8_t>(), in.ConsumeIntegral<uint16_t>()); break;
      case 4: w.MalloryCloses(); break;
      case 5: {
        const std::string plain = in.ConsumeRandomLengthString(1024);
        w.MallorySealed(ByteView(reinterpret_cast<const uint8_t*>(plain.data()), plain.size()));
        break;
      }
      default: {
        const std::string raw = in.ConsumeRandomLengthString(512);
        w.MalloryRaw(ByteView(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
      }
    }
  }
  return 0;
}
