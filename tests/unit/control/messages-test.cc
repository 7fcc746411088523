#include "punchlab/control/messages.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace punchlab::control {
namespace {

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

NodePublicKey NodeKey(uint8_t fill) {
  KeyBytes k;
  k.fill(fill);
  return NodePublicKey(k);
}

DiscoPublicKey DiscoKey(uint8_t fill) {
  KeyBytes k;
  k.fill(fill);
  return DiscoPublicKey(k);
}

Netmap SampleNetmap() {
  Netmap m;
  m.domain = "a.example";
  m.self = {NodeKey(1), DiscoKey(2), {*Endpoint::Parse("192.0.2.1:41641")}, 1,
            IpAddress::V4(100, 64, 0, 1), "alice"};
  m.peers.push_back({NodeKey(3), DiscoKey(4),
                     {*Endpoint::Parse("198.51.100.9:1234"), *Endpoint::Parse("[2001:db8::1]:5")},
                     2, IpAddress::V4(100, 64, 0, 2), "bob@a.example"});
  m.derp_map.regions.push_back({1, "fra", {{"1a", *Endpoint::Parse("203.0.113.10:443"), 3478}}});
  m.derp_map.regions.push_back({2, "nyc", {}});
  // A pinned server key travels with the map; an unpinned one (1a) does not.
  m.derp_map.regions.push_back(
      {3, "sfo", {{"3a", *Endpoint::Parse("203.0.113.30:443"), 3478, NodeKey(9)}}});
  // How to dial each: TLS unless said (1a, 3a), a pinned certificate, a
  // name, insecure for tests, plain HTTP.
  control::DerpRegion tls{4, "ams", {}};
  for (int i = 0; i < 4; ++i) {
    control::DerpNode n{"4" + std::string(1, static_cast<char>('a' + i)),
                        *Endpoint::Parse("203.0.113.40:443"), 3478};
    if (i == 0) n.cert_name = "sha256-raw:" + std::string(64, 'e');
    if (i == 1) n.cert_name = "derp.example";
    if (i == 2) n.insecure_for_tests = true;
    if (i == 3) n.plain_http = true;
    tls.nodes.push_back(n);
  }
  m.derp_map.regions.push_back(tls);
  return m;
}

template <typename T>
T RoundTrip(const Message& msg, uint64_t seq) {
  std::string error;
  auto d = DecodeMessage(EncodeMessage(msg, seq), error);
  EXPECT_TRUE(d) << error;
  if (!d) return T{};
  EXPECT_EQ(d->seq, seq);
  EXPECT_TRUE(std::holds_alternative<T>(d->msg)) << MessageTypeName(d->msg);
  return std::get<T>(d->msg);
}

TEST(Messages, HelloIsCompactJsonWithSortedKeys) {
  const std::string key_text = "nodekey:" + std::string(64, '0').replace(62, 2, "01");
  KeyBytes raw{};
  raw[31] = 1;
  const Bytes wire = EncodeMessage(HelloMsg{1, NodePublicKey(raw)}, 0);
  EXPECT_EQ(std::string(wire.begin(), wire.end()),
            "{\"node_key\":\"" + key_text + "\",\"seq\":0,\"type\":\"hello\",\"version\":1}");
}

TEST(Messages, DerpMapSaysHowToDialEachServer) {
  const Netmap m = SampleNetmap();
  const std::string json = [&] {
    const Bytes wire = EncodeMessage(NetmapMsg{m}, 1);
    return std::string(wire.begin(), wire.end());
  }();
  // TLS is the default and not written; plain HTTP is the one said.
  EXPECT_NE(json.find("\"plain_http\":true"), std::string::npos);
  EXPECT_EQ(json.find("\"plain_http\":false"), std::string::npos);
  const auto& nodes = m.derp_map.regions.back().nodes;
  EXPECT_EQ(nodes[0].Tls(), (TlsDial{"", "sha256-raw:" + std::string(64, 'e'), false}));
  EXPECT_EQ(nodes[1].Tls(), (TlsDial{"", "derp.example", false}));
  EXPECT_EQ(nodes[2].Tls(), (TlsDial{"", "", true}));
  EXPECT_FALSE(nodes[3].Tls());
  // A wrong type is refused with where it was.
  std::string bad = json;
  bad.replace(bad.find("\"plain_http\":true"), 17, "\"plain_http\":\"yes\"");
  std::string error;
  EXPECT_FALSE(DecodeMessage(Bytes(bad.begin(), bad.end()), error));
  EXPECT_NE(error.find("plain_http"), std::string::npos) << error;
}

TEST(Messages, EveryMessageRoundTrips) {
  auto hello = RoundTrip<HelloMsg>(HelloMsg{1, NodeKey(9)}, 0);
  EXPECT_EQ(hello.node_key, NodeKey(9));
  EXPECT_EQ(hello.version, 1);

  Challenge ch;
  for (size_t i = 0; i < ch.size(); ++i) ch[i] = static_cast<uint8_t>(i * 7);
  EXPECT_EQ(RoundTrip<ChallengeMsg>(ChallengeMsg{ch}, 0).challenge, ch);

  RegisterMsg reg{ch, "pltoken1.abc.def", DiscoKey(5),
                  {*Endpoint::Parse("10.0.0.2:41641"), *Endpoint::Parse("[::1]:9")}, 3};
  auto reg2 = RoundTrip<RegisterMsg>(reg, 1);
  EXPECT_EQ(reg2.challenge, ch);
  EXPECT_EQ(reg2.token, reg.token);
  EXPECT_EQ(reg2.disco_key, reg.disco_key);
  EXPECT_EQ(reg2.endpoints, reg.endpoints);
  EXPECT_EQ(reg2.home_region, 3);
  EXPECT_EQ(reg2.compress, Compression::kNone);
  // Asking for compression is one more member; not asking leaves it out.
  EXPECT_EQ(Str(EncodeMessage(reg, 1)).find("compress"), std::string::npos);
  reg.compress = Compression::kZstd;
  EXPECT_NE(Str(EncodeMessage(reg, 1)).find(R"("compress":"zstd")"), std::string::npos);
  EXPECT_EQ(RoundTrip<RegisterMsg>(reg, 1).compress, Compression::kZstd);

  UpdateMsg only_region;
  only_region.home_region = 0;
  auto u1 = RoundTrip<UpdateMsg>(only_region, 2);
  EXPECT_FALSE(u1.endpoints);
  EXPECT_FALSE(u1.disco_key);
  EXPECT_EQ(u1.home_region, 0);
  UpdateMsg all;
  all.endpoints = std::vector<Endpoint>{};
  all.disco_key = DiscoKey(6);
  all.home_region = 7;
  auto u2 = RoundTrip<UpdateMsg>(all, 3);
  EXPECT_EQ(u2.endpoints, std::vector<Endpoint>{});
  EXPECT_EQ(u2.disco_key, DiscoKey(6));
  EXPECT_EQ(u2.home_region, 7);

  RoundTrip<LeaveMsg>(LeaveMsg{}, 4);
  RoundTrip<PingMsg>(PingMsg{}, 5);
  RoundTrip<PongMsg>(PongMsg{}, 6);
  auto ok = RoundTrip<RegisteredMsg>(RegisteredMsg{IpAddress::V4(100, 100, 1, 2), "alice", "a.b"}, 1);
  EXPECT_EQ(ok.address, IpAddress::V4(100, 100, 1, 2));
  EXPECT_EQ(ok.user, "alice");
  EXPECT_EQ(ok.domain, "a.b");
  EXPECT_EQ(RoundTrip<RefusedMsg>(RefusedMsg{"token \"x\" expired"}, 1).reason,
            "token \"x\" expired");
  EXPECT_EQ(RoundTrip<GoodbyeMsg>(GoodbyeMsg{"replaced"}, 9).reason, "replaced");
  EXPECT_EQ(RoundTrip<NetmapMsg>(NetmapMsg{SampleNetmap()}, 2).netmap, SampleNetmap());
  const Netmap sample = SampleNetmap();
  PeerPatch moved{NodeKey(5), std::vector<Endpoint>{*Endpoint::Parse("198.51.100.7:41641")},
                  std::nullopt, 2};
  PeerPatch restarted{NodeKey(6), std::nullopt, DiscoKey(8), std::nullopt};
  PeerPatch silent{NodeKey(7), std::vector<Endpoint>{}, std::nullopt, std::nullopt};
  const PeersChangedMsg change{
      {sample.peers.at(0)}, {sample.self.node_key}, {moved, restarted, silent}};
  const PeersChangedMsg back = RoundTrip<PeersChangedMsg>(change, 3);
  EXPECT_EQ(back.changed, change.changed);
  EXPECT_EQ(back.removed, change.removed);
  EXPECT_EQ(back.patched, change.patched);
  // Without patches the list is left out of the text.
  const Bytes none = EncodeMessage(PeersChangedMsg{{sample.peers.at(0)}, {}, {}}, 1);
  EXPECT_EQ(std::string(none.begin(), none.end()).find("patched"), std::string::npos);
  EXPECT_TRUE(RoundTrip<PeersChangedMsg>(PeersChangedMsg{}, 4).changed.empty());
}

// Encoded once for many connections, a message is the same bytes as encoded
// per connection, whatever its sequence number and whatever its strings
// hold (a user named like the sequence key included); messages whose keys
// do not end with seq and type (hello: "version") fall back to a whole copy.
TEST(Messages, APreparedMessageIsTheSameBytesForEverySequenceNumber) {
  Netmap sample = SampleNetmap();
  sample.peers[0].user = "\"seq\":0,\"type\":\"peers_changed\"}";
  UpdateMsg update;
  update.home_region = 2;
  const std::vector<Message> messages = {
      PeersChangedMsg{{sample.peers.at(0), sample.self}, {NodeKey(7)}, {}},
      PeersChangedMsg{{}, {}, {PeerPatch{NodeKey(3), std::nullopt, std::nullopt, 1}}},
      PeersChangedMsg{},
      NetmapMsg{sample},
      HelloMsg{1, NodeKey(9)},
      update,
      PingMsg{},
      GoodbyeMsg{"\"seq\":0"}};
  for (const Message& m : messages) {
    const PreparedMessage prepared = PrepareMessage(m);
    for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{10}, uint64_t{123456789},
                         uint64_t{1} << 62}) {
      EXPECT_EQ(EncodePrepared(prepared, seq), EncodeMessage(m, seq))
          << MessageTypeName(m) << " seq " << seq;
    }
  }
  EXPECT_FALSE(PrepareMessage(PeersChangedMsg{}).whole);  // split: encoded once
  EXPECT_TRUE(PrepareMessage(HelloMsg{1, NodeKey(9)}).whole);
}

// A batch's entries encoded once each and spliced into each member's own
// subset are the bytes EncodeMessage gives that subset: any number of
// entries (none included), any removed keys, strings that need escaping.
TEST(Messages, ASplicedPeersChangedIsTheSameBytesAsOneEncodedWhole) {
  Netmap sample = SampleNetmap();
  sample.peers[0].user = "\"seq\":0,\"changed\":[]}\\ \xc3\xa9";
  const std::vector<NodeInfo> entries = {sample.peers.at(0), sample.self, sample.peers.back()};
  std::vector<std::string> texts;
  for (const NodeInfo& n : entries) texts.push_back(EncodeNodeInfo(n));
  const std::vector<PeerPatch> patches = {
      PeerPatch{NodeKey(9), sample.self.endpoints, std::nullopt, 3},
      PeerPatch{NodeKey(10), std::nullopt, DiscoKey(11), std::nullopt}};
  std::vector<std::string> patch_texts;
  for (const PeerPatch& p : patches) patch_texts.push_back(EncodePeerPatch(p));
  for (size_t count = 0; count <= entries.size(); ++count) {
    for (const std::vector<NodePublicKey>& removed :
         {std::vector<NodePublicKey>{}, std::vector<NodePublicKey>{NodeKey(7), NodeKey(8)}}) {
      for (size_t patch_count = 0; patch_count <= patches.size(); ++patch_count) {
        std::vector<const std::string*> spliced;
        for (size_t i = 0; i < count; ++i) spliced.push_back(&texts[i]);
        std::vector<const std::string*> spliced_patches;
        for (size_t i = 0; i < patch_count; ++i) spliced_patches.push_back(&patch_texts[i]);
        const PeersChangedMsg whole{
            {entries.begin(), entries.begin() + static_cast<long>(count)},
            removed,
            {patches.begin(), patches.begin() + static_cast<long>(patch_count)}};
        for (uint64_t seq : {uint64_t{0}, uint64_t{42}, uint64_t{1} << 62}) {
          EXPECT_EQ(EncodePrepared(PreparePeersChanged(spliced, removed, spliced_patches), seq),
                    EncodeMessage(whole, seq))
              << count << " entries, " << removed.size() << " removed, " << patch_count
              << " patches, seq " << seq;
        }
      }
    }
  }
}

// A whole netmap spliced from entries encoded once each (the server keeps
// them until the node changes) and the DERP map encoded once is the bytes
// EncodeMessage gives it: no peers, some, strings that need escaping.
TEST(Messages, ASplicedNetmapIsTheSameBytesAsOneEncodedWhole) {
  Netmap sample = SampleNetmap();
  sample.peers[0].user = "\"seq\":0,\"peers\":[]}\\ \xc3\xa9";
  sample.domain = "a \"domain\"";
  sample.peers.push_back(sample.self);
  sample.peers.back().node_key = NodeKey(5);
  std::vector<std::string> texts;
  for (const NodeInfo& n : sample.peers) texts.push_back(EncodeNodeInfo(n));
  const std::string self = EncodeNodeInfo(sample.self);
  const std::string derp = EncodeDerpMap(sample.derp_map);
  for (size_t count = 0; count <= sample.peers.size(); ++count) {
    Netmap m = sample;
    m.peers.resize(count);
    std::vector<const std::string*> spliced;
    for (size_t i = 0; i < count; ++i) spliced.push_back(&texts[i]);
    for (uint64_t seq : {uint64_t{0}, uint64_t{42}, uint64_t{1} << 62}) {
      EXPECT_EQ(EncodePrepared(PrepareNetmap(m.domain, self, spliced, derp), seq),
                EncodeMessage(NetmapMsg{m}, seq))
          << count << " peers, seq " << seq;
    }
  }
  const DerpMap none;
  Netmap bare = sample;
  bare.derp_map = none;
  bare.peers.clear();
  EXPECT_EQ(EncodePrepared(PrepareNetmap(bare.domain, self, {}, EncodeDerpMap(none)), 7),
            EncodeMessage(NetmapMsg{bare}, 7));
}

TEST(Messages, PeersChangedNeedsBothListsAndRealKeys) {
  std::string error;
  EXPECT_FALSE(DecodeMessage(Text(R"({"type":"peers_changed","seq":1,"changed":[]})"), error));
  EXPECT_NE(error.find("removed"), std::string::npos) << error;
  EXPECT_FALSE(DecodeMessage(
      Text(R"({"type":"peers_changed","seq":1,"changed":[],"removed":["nodekey:12"]})"), error));
  EXPECT_EQ(error, "peers_changed.removed[0] is not a node key");
  EXPECT_FALSE(DecodeMessage(
      Text(R"({"type":"peers_changed","seq":1,"changed":[{"node_key":"x"}],"removed":[]})"),
      error));
  EXPECT_NE(error.find("peers_changed.changed[0]"), std::string::npos) << error;
}

// A patch names its node and carries at least one of the fields an update
// may change, each as strict as in a whole entry; an address or user cannot
// be patched (a node with a new one registered again); a bad patch is named
// by its place in the list, and the list must be an array when present.
TEST(Messages, EachWayAPatchCanBeWrongIsNamed) {
  const std::string key = NodeKey(3).ToString();
  const std::string disco = DiscoKey(4).ToString();
  const auto message = [](const std::string& patches) {
    return R"({"type":"peers_changed","seq":1,"changed":[],"removed":[],"patched":)" + patches +
           "}";
  };
  const std::string good = R"({"node_key":")" + key + R"(","home_region":2})";
  const std::pair<std::string, std::string> cases[] = {
      {"5", "peers_changed.patched is not an array"},
      {"[5]", "peers_changed.patched[0] is not an object"},
      {"[" + good + ",[]]", "peers_changed.patched[1] is not an object"},
      {R"([{"home_region":2}])", "peers_changed.patched[0].node_key is missing"},
      {R"([{"node_key":"nodekey:00","home_region":2}])",
       "peers_changed.patched[0].node_key is not a nodekey: key"},
      {R"([{"node_key":")" + key + R"("}])", "peers_changed.patched[0] changes nothing"},
      {R"([{"node_key":")" + key + R"(","future":1}])", "peers_changed.patched[0] changes nothing"},
      {R"([{"node_key":")" + key + R"(","home_region":-1}])",
       "peers_changed.patched[0].home_region is not an integer in [0, " +
           std::to_string(std::numeric_limits<RegionId>::max()) + "]"},
      {R"([{"node_key":")" + key + R"(","endpoints":["x"]}])",
       "peers_changed.patched[0].endpoints holds something that is not an ip:port endpoint"},
      {R"([{"node_key":")" + key + R"(","endpoints":"x"}])",
       "peers_changed.patched[0].endpoints is not an array of at most 32 endpoints"},
      {R"([{"node_key":")" + key + R"(","disco_key":"discokey:00"}])",
       "peers_changed.patched[0].disco_key is not a discokey: key"},
      {R"([{"node_key":")" + key + R"(","home_region":1,"user":"eve"}])",
       "peers_changed.patched[0].user cannot be patched (a whole entry says it)"},
      {R"([{"node_key":")" + key + R"(","home_region":1,"address":"100.64.0.9"}])",
       "peers_changed.patched[0].address cannot be patched (a whole entry says it)"},
  };
  for (const auto& [patches, problem] : cases) {
    std::string error;
    EXPECT_FALSE(DecodeMessage(Text(message(patches)), error)) << patches;
    EXPECT_EQ(error, problem) << patches;
  }
  // Good ones read as what they say; an empty endpoint list is a change.
  std::string error;
  auto d = DecodeMessage(Text(message("[" + good + R"(,{"node_key":")" + key +
                                      R"(","endpoints":[],"disco_key":")" + disco + R"("}])")),
                         error);
  ASSERT_TRUE(d) << error;
  const std::vector<PeerPatch> expected = {
      PeerPatch{NodeKey(3), std::nullopt, std::nullopt, 2},
      PeerPatch{NodeKey(3), std::vector<Endpoint>{}, DiscoKey(4), std::nullopt}};
  EXPECT_EQ(std::get<PeersChangedMsg>(d->msg).patched, expected);
  // Absent: no patches.
  d = DecodeMessage(Text(R"({"type":"peers_changed","seq":1,"changed":[],"removed":[]})"), error);
  ASSERT_TRUE(d) << error;
  EXPECT_TRUE(std::get<PeersChangedMsg>(d->msg).patched.empty());
}

// Node entries (a netmap's self and peers, a peers_changed's changed) are
// read straight into NodeInfo (message-reader.h), not through the DOM every
// other field goes through; each way an entry can be wrong still gets the
// words it always had, wherever the entry is, and the first wrong field in
// NodeInfo's order is the one named.
TEST(Messages, EachWayANodeEntryCanBeWrongIsNamedWhereverItIs) {
  const std::string good_key = NodeKey(3).ToString();
  const std::string good_disco = DiscoKey(4).ToString();
  const auto entry = [&](const std::string& node_key, const std::string& endpoints,
                         const std::string& rest) {
    std::string text = "{";
    if (!node_key.empty()) text += R"("node_key":)" + node_key + ",";
    if (!endpoints.empty()) text += R"("endpoints":)" + endpoints + ",";
    return text + rest + "}";
  };
  const std::string key = "\"" + good_key + "\"";
  const std::string eps = R"(["192.0.2.1:1"])";
  const std::string rest = R"("disco_key":")" + good_disco +
                           R"(","home_region":1,"address":"100.64.0.2","user":"bob")";
  std::string many = "[";
  for (size_t i = 0; i <= kMaxEndpoints; ++i) many += std::string(i ? "," : "") + "\"192.0.2.1:1\"";
  many += "]";
  const std::string many_with_a_bad_one = "[\"x\"," + many.substr(1);
  const std::string region = "is not an integer in [0, " +
                             std::to_string(std::numeric_limits<RegionId>::max()) + "]";
  const struct {
    std::string entry;
    std::string problem;  // after the entry's name; empty: decodes
  } cases[] = {
      {entry(key, eps, rest), ""},
      {"5", " is not an object"},
      {"null", " is not an object"},
      {"[" + entry(key, eps, rest) + "]", " is not an object"},
      {entry("", eps, rest), ".node_key is missing"},
      {entry("5", eps, rest), ".node_key is not a string"},
      {entry("{\"a\":[1]}", eps, rest), ".node_key is not a string"},
      {entry(R"("nodekey:00")", eps, rest), ".node_key is not a nodekey: key"},
      {entry("\"nodekey:" + std::string(64, '0') + "\"", eps, rest),
       ".node_key is not a nodekey: key"},
      {entry("\"" + good_disco + "\"", eps, rest), ".node_key is not a nodekey: key"},
      {entry(key, eps, R"("home_region":1,"address":"100.64.0.2","user":"bob")"),
       ".disco_key is missing"},
      {entry(key, "", rest), ".endpoints is missing"},
      {entry(key, R"("192.0.2.1:1")", rest),
       ".endpoints is not an array of at most 32 endpoints"},
      {entry(key, many, rest), ".endpoints is not an array of at most 32 endpoints"},
      {entry(key, many_with_a_bad_one, rest),
       ".endpoints is not an array of at most 32 endpoints"},
      {entry(key, many.substr(0, many.size() - 15) + "]", rest), ""},
      {entry(key, R"(["192.0.2.1"])", rest),
       ".endpoints holds something that is not an ip:port endpoint"},
      {entry(key, R"(["192.0.2.1:1",["192.0.2.1:1"]])", rest),
       ".endpoints holds something that is not an ip:port endpoint"},
      {entry(key, R"(["192.0.2.1:1",null])", rest),
       ".endpoints holds something that is not an ip:port endpoint"},
      {entry(key, eps, R"("disco_key":")" + good_disco + R"(","home_region":-1,"user":"b")"),
       ".home_region " + region},
      {entry(key, eps, R"("disco_key":")" + good_disco + R"(","home_region":1.0,"user":"b")"),
       ".home_region " + region},
      {entry(key, eps, R"("disco_key":")" + good_disco + R"(","home_region":"1","user":"b")"),
       ".home_region " + region},
      {entry(key, eps, R"("disco_key":")" + good_disco +
                           R"(","home_region":2147483648,"user":"b")"),
       ".home_region " + region},
      {entry(key, eps, R"("disco_key":")" + good_disco +
                           R"(","home_region":0,"address":"100.64.0.256","user":"b")"),
       ".address is not an IP address"},
      {entry(key, eps, R"("disco_key":")" + good_disco +
                           R"(","home_region":0,"address":null,"user":"b")"),
       ".address is not a string"},
      {entry(key, eps, R"("disco_key":")" + good_disco +
                           R"(","home_region":0,"address":"100.64.0.2","user":7)"),
       ".user is not a string"},
      {entry(key, eps, R"("disco_key":")" + good_disco + R"(","home_region":0,"address":"100.64.0.2")"),
       ".user is missing"},
      // The first wrong field in NodeInfo's order, not in the text's.
      {entry("5", R"(["x"])", R"("user":1)"), ".node_key is not a string"},
      {entry(key, R"(["x"])", R"("disco_key":")" + good_disco + R"(","user":1)"),
       ".endpoints holds something that is not an ip:port endpoint"},
      // The last of a duplicated key counts; unknown keys, however deep, do not.
      {entry("5", eps, rest + ",\"node_key\":" + key), ""},
      {entry(key, eps, rest + R"(,"node_key":"nodekey:00")"), ".node_key is not a nodekey: key"},
      {entry(key, R"(["x"])", rest + ",\"endpoints\":" + eps), ""},
      {entry(key, eps, rest + R"(,"future":{"node_key":5,"endpoints":[[{}],"x"],"user":[]})"), ""},
  };
  const std::string derp = R"({"regions":[]})";
  const std::string self = entry(key, eps, rest);
  for (const auto& c : cases) {
    const std::string as_self =
        R"({"type":"netmap","seq":1,"domain":"d","peers":[],"derp_map":)" + derp +
        R"(,"self":)" + c.entry + "}";
    const std::string as_peer = R"({"type":"netmap","seq":1,"domain":"d","self":)" + self +
                                R"(,"derp_map":)" + derp + R"(,"peers":[)" + self + "," +
                                c.entry + "]}";
    const std::string as_change =
        R"({"type":"peers_changed","seq":1,"removed":[],"changed":[)" + c.entry + "]}";
    for (const auto& [text, where] : {std::pair{as_self, std::string("netmap.self")},
                                      std::pair{as_peer, std::string("netmap.peers[1]")},
                                      std::pair{as_change, std::string("peers_changed.changed[0]")}}) {
      std::string error;
      auto d = DecodeMessage(Text(text), error);
      if (c.problem.empty()) {
        EXPECT_TRUE(d) << text << ": " << error;
      } else {
        EXPECT_FALSE(d) << text;
        EXPECT_EQ(error, where + c.problem) << text;
      }
    }
  }
  // A good entry reads as what it says.
  std::string error;
  auto d = DecodeMessage(
      Text(R"({"type":"peers_changed","seq":1,"removed":[],"changed":[)" +
           entry(key, R"(["192.0.2.1:1","[2001:db8::1]:5"])", rest) + "]}"),
      error);
  ASSERT_TRUE(d) << error;
  const NodeInfo expected{NodeKey(3), DiscoKey(4),
                          {*Endpoint::Parse("192.0.2.1:1"), *Endpoint::Parse("[2001:db8::1]:5")},
                          1, IpAddress::V4(100, 64, 0, 2), "bob"};
  EXPECT_EQ(std::get<PeersChangedMsg>(d->msg).changed, std::vector<NodeInfo>{expected});
}

// The lists themselves: not arrays, or absent, are named before any entry.
TEST(Messages, ANetmapsListsAreJudgedBeforeTheirEntries) {
  std::string error;
  EXPECT_FALSE(DecodeMessage(
      Text(R"({"type":"netmap","seq":1,"domain":"d","self":5,"peers":{},"derp_map":{}})"), error));
  EXPECT_EQ(error, "netmap.peers is not an array");
  EXPECT_FALSE(DecodeMessage(
      Text(R"({"type":"netmap","seq":1,"domain":"d","peers":[5],"derp_map":{}})"), error));
  EXPECT_EQ(error, "netmap.self is missing");
  EXPECT_FALSE(DecodeMessage(
      Text(R"({"type":"peers_changed","seq":1,"changed":"x","removed":[]})"), error));
  EXPECT_EQ(error, "peers_changed.changed is not an array");
  // "self", "peers" and "changed" mean nothing to other messages.
  EXPECT_TRUE(DecodeMessage(
      Text(R"({"type":"ping","seq":1,"self":5,"peers":[1,{"a":2}],"changed":{}})"), error))
      << error;
}

TEST(Messages, UnknownFieldsAreIgnored) {
  std::string error;
  auto d = DecodeMessage(Text(R"({"type":"ping","seq":3,"future":[1,2]})"), error);
  ASSERT_TRUE(d) << error;
  EXPECT_TRUE(std::holds_alternative<PingMsg>(d->msg));
}

TEST(Messages, MalformedInputIsRejectedWithAReason) {
  const std::string key = NodeKey(1).ToString();
  const std::string disco = DiscoKey(2).ToString();
  const std::string ch(64, 'a');
  const std::string bad[] = {
      "",
      "not json",
      "[1,2,3]",
      R"({"seq":0})",
      R"({"type":"ping"})",
      R"({"type":"ping","seq":-1})",
      R"({"type":"ping","seq":1.5})",
      R"({"type":"ping","seq":"1"})",
      R"({"type":"ping","seq":18446744073709551615})",
      R"({"type":"launch","seq":0})",
      R"({"type":7,"seq":0})",
      R"({"type":"hello","seq":0,"version":1})",
      R"({"type":"hello","seq":0,"version":1,"node_key":"nodekey:00"})",
      R"({"type":"hello","seq":0,"version":1,"node_key":")" + disco + R"("})",
      R"({"type":"hello","seq":0,"version":1,"node_key":"nodekey:)" + std::string(64, '0') +
          R"("})",
      R"({"type":"hello","seq":0,"version":-1,"node_key":")" + key + R"("})",
      R"({"type":"challenge","seq":0,"challenge":"abcd"})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","token":"t","disco_key":")" +
          disco + R"(","endpoints":["1.2.3.4"],"home_region":1})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","token":"t","disco_key":")" +
          disco + R"(","endpoints":"1.2.3.4:5","home_region":1})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","token":"t","disco_key":")" +
          disco + R"(","endpoints":[],"home_region":-3})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","disco_key":")" + disco +
          R"(","endpoints":[],"home_region":1})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","token":"t","disco_key":")" +
          disco + R"(","endpoints":[],"home_region":1,"compress":"gzip"})",
      R"({"type":"register","seq":1,"challenge":")" + ch + R"(","token":"t","disco_key":")" +
          disco + R"(","endpoints":[],"home_region":1,"compress":true})",
      R"({"type":"update","seq":2})",
      R"({"type":"update","seq":2,"home_region":"1"})",
      R"({"type":"registered","seq":0,"address":"100.64.0.256","user":"a","domain":"b"})",
      R"({"type":"netmap","seq":1,"domain":"a","self":{},"peers":[],"derp_map":{"regions":[]}})",
      R"({"type":"netmap","seq":1,"domain":"a","self":null,"peers":[],"derp_map":{}})",
  };
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(DecodeMessage(Text(text), error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(Messages, TooManyEndpointsAreRejected) {
  std::vector<Endpoint> eps(kMaxEndpoints + 1, *Endpoint::Parse("192.0.2.1:1"));
  UpdateMsg u;
  u.endpoints = eps;
  std::string error;
  EXPECT_FALSE(DecodeMessage(EncodeMessage(u, 1), error));
  EXPECT_NE(error.find("endpoints"), std::string::npos) << error;
  eps.pop_back();
  u.endpoints = eps;
  EXPECT_TRUE(DecodeMessage(EncodeMessage(u, 1), error)) << error;
}

// The codec reads with simdjson and leaves to nlohmann's parser what simdjson
// refuses or reads otherwise (message-reader.cc): the verdicts at JSON's
// corners are nlohmann's, as they always were, but for a raw NUL, which the
// codec refuses first (nlohmann's lexer would end the text there).
TEST(Messages, JsonsCornersReadAsNlohmannReadsThem) {
  const std::string entry = R"({"address":"100.64.0.2","disco_key":")" + DiscoKey(4).ToString() +
                            R"(","endpoints":["192.0.2.1:1"],"home_region":HOME,"node_key":")" +
                            NodeKey(3).ToString() + R"(","user":USER})";
  const auto peers_changed = [&](const std::string& home, const std::string& user) {
    std::string e = entry;
    e.replace(e.find("HOME"), 4, home);
    e.replace(e.find("USER"), 4, user);
    return R"({"changed":[)" + e + R"(],"removed":[],"seq":1,"type":"peers_changed"})";
  };
  const std::string seq_range =
      " is not an integer in [0, " + std::to_string(std::numeric_limits<int64_t>::max()) + "]";
  const std::string region_range =
      " is not an integer in [0, " + std::to_string(std::numeric_limits<RegionId>::max()) + "]";
  const struct {
    std::string text;
    std::string error;  // empty: decodes
  } cases[] = {
      // "-0" is the integer 0 to nlohmann (simdjson reads a double).
      {R"({"seq":-0,"type":"ping"})", ""},
      {peers_changed("-0", R"("bob")"), ""},
      // Numbers that are not integers, and integers past 64 bits.
      {R"({"seq":1e0,"type":"ping"})", "message.seq" + seq_range},
      {R"({"seq":18446744073709551616,"type":"ping"})", "message.seq" + seq_range},
      {R"({"seq":-9223372036854775809,"type":"ping"})", "message.seq" + seq_range},
      {peers_changed("1.0", R"("bob")"), "peers_changed.changed[0].home_region" + region_range},
      {R"({"seq":1e400,"type":"ping"})", "message is not valid JSON"},
      // A byte order mark is skipped (simdjson refuses it). A raw NUL is not
      // JSON anywhere, though nlohmann's lexer would end the text at it.
      {"\xEF\xBB\xBF" R"({"seq":0,"type":"ping"})", ""},
      {std::string(R"({"seq":0,"type":"ping"})") + '\0' + "x", "message is not valid JSON"},
      {std::string(R"({"seq":0,"type":"ping"})") + '\0', "message is not valid JSON"},
      {std::string(R"({"seq":0,)") + '\0' + R"("type":"ping"})", "message is not valid JSON"},
      // An escaped NUL is text; a lone surrogate is not.
      {peers_changed("1", R"("b\u0000b")"), ""},
      {peers_changed("1", R"("b\udc00")"), "message is not valid JSON"},
      // The last of duplicate keys counts, in an entry too.
      {R"({"seq":0,"type":"ping","type":"pong"})", ""},
      {peers_changed(R"(1,"home_region":"x")", R"("bob")"),
       "peers_changed.changed[0].home_region" + region_range},
  };
  for (const auto& c : cases) {
    std::string error;
    const auto d = DecodeMessage(Text(c.text), error);
    EXPECT_EQ(d.has_value(), c.error.empty()) << c.text << ": " << error;
    if (!c.error.empty()) {
      EXPECT_EQ(error, c.error) << c.text;
    }
  }
  std::string error;
  auto d = DecodeMessage(Text(R"({"seq":0,"type":"ping","type":"pong"})"), error);
  ASSERT_TRUE(d) << error;
  EXPECT_TRUE(std::holds_alternative<PongMsg>(d->msg));
  d = DecodeMessage(Text(peers_changed("-0", R"("b\u0000b")")), error);
  ASSERT_TRUE(d) << error;
  const auto& changed = std::get<PeersChangedMsg>(d->msg).changed;
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].home_region, 0);
  EXPECT_EQ(changed[0].user, std::string("b\0b", 3));
}

TEST(Messages, DeeplyNestedJsonIsRejectedWithoutCrashing) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  std::string error;
  EXPECT_FALSE(DecodeMessage(Text(deep), error));
  const std::string in_field =
      R"({"type":"ping","seq":0,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(DecodeMessage(Text(in_field), error));  // unknown field, ignored, no crash
}

}  // namespace
}  // namespace punchlab::control
