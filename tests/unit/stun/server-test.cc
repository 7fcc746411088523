// StunServer on its own: which endpoint answers, what the answer carries,
// errors, classic requests, and what is dropped.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "punchlab/random.h"
#include "punchlab/stun/server.h"

namespace punchlab {
namespace stun {
namespace {

const IpAddress kA1 = IpAddress::V4(198, 51, 100, 1);
const IpAddress kA2 = IpAddress::V4(198, 51, 100, 2);
constexpr uint16_t kP1 = 3478;
constexpr uint16_t kP2 = 3479;
const Endpoint kClient(IpAddress::V4(203, 0, 113, 5), 40000);

StunServerConfig Rfc5780Config() {
  StunServerConfig c;
  c.primary = Endpoint(kA1, kP1);
  c.alternate = Endpoint(kA2, kP2);
  return c;
}

Bytes Request(RandomSource& rng, std::optional<ChangeRequest> change = std::nullopt,
              TransactionId* id_out = nullptr) {
  Message m;
  m.transaction_id = TransactionId::Random(rng);
  m.change_request = change;
  if (id_out) *id_out = m.transaction_id;
  return EncodeMessage(m);
}

std::vector<Transmit> Drain(StunServer& s) {
  std::vector<Transmit> out;
  while (auto t = s.PollTransmit()) out.push_back(std::move(*t));
  return out;
}

Message Decoded(const Transmit& t) {
  DecodeResult r = DecodeMessage(t.payload);
  EXPECT_TRUE(r) << r.reason;
  return r.message.value_or(Message());
}

TEST(StunServer, LocalEndpointsAndConfigChecks) {
  StunServer s(Rfc5780Config());
  EXPECT_EQ(s.LocalEndpoints(),
            (std::vector<Endpoint>{Endpoint(kA1, kP1), Endpoint(kA1, kP2), Endpoint(kA2, kP1),
                                   Endpoint(kA2, kP2)}));
  StunServerConfig single;
  single.primary = Endpoint(kA1, kP1);
  EXPECT_EQ(StunServer(single).LocalEndpoints(), std::vector<Endpoint>{Endpoint(kA1, kP1)});
  EXPECT_FALSE(s.PollTimeout());

  StunServerConfig same_ip = Rfc5780Config();
  same_ip.alternate = Endpoint(kA1, kP2);
  EXPECT_THROW(StunServer{same_ip}, std::invalid_argument);
  StunServerConfig same_port = Rfc5780Config();
  same_port.alternate = Endpoint(kA2, kP1);
  EXPECT_THROW(StunServer{same_port}, std::invalid_argument);
  StunServerConfig mixed = Rfc5780Config();
  mixed.alternate = Endpoint(*IpAddress::Parse("2001:db8::2"), kP2);
  EXPECT_THROW(StunServer{mixed}, std::invalid_argument);
  StunServerConfig huge_padding = Rfc5780Config();
  huge_padding.padding_mtu = kMaxPaddingMtu + 1;
  EXPECT_THROW(StunServer{huge_padding}, std::invalid_argument);
  huge_padding.padding_mtu = kMaxPaddingMtu;
  EXPECT_NO_THROW(StunServer{huge_padding});
}

TEST(StunServer, ModernResponseCarriesRfc5780Attributes) {
  DeterministicRandom rng(1);
  StunServer s(Rfc5780Config());
  TransactionId id;
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, Request(rng, {}, &id));
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, Endpoint(kA1, kP1));
  EXPECT_EQ(ts[0].destination, kClient);
  Message m = Decoded(ts[0]);
  EXPECT_EQ(m.cls, MessageClass::kSuccessResponse);
  EXPECT_EQ(m.transaction_id, id);
  EXPECT_EQ(m.xor_mapped_address, kClient);
  EXPECT_EQ(m.mapped_address, kClient);
  EXPECT_EQ(m.response_origin, Endpoint(kA1, kP1));
  EXPECT_EQ(m.other_address, Endpoint(kA2, kP2));
  EXPECT_EQ(m.software, "punchlab");
  EXPECT_TRUE(m.fingerprint);
  EXPECT_FALSE(m.source_address);
  EXPECT_EQ(s.stats().requests, 1u);
  EXPECT_EQ(s.stats().success_responses, 1u);
}

// RFC 5780 6.1 table 1, from each of the four endpoints.
TEST(StunServer, ChangeRequestMatrix) {
  DeterministicRandom rng(2);
  StunServer s(Rfc5780Config());
  for (const Endpoint& local : s.LocalEndpoints()) {
    const IpAddress other_ip = local.ip == kA1 ? kA2 : kA1;
    const uint16_t other_port = local.port == kP1 ? kP2 : kP1;
    for (bool ip : {false, true}) {
      for (bool port : {false, true}) {
        s.HandleDatagram(Timestamp::Zero(), local, kClient, Request(rng, ChangeRequest{ip, port}));
        auto ts = Drain(s);
        ASSERT_EQ(ts.size(), 1u);
        const Endpoint want(ip ? other_ip : local.ip, port ? other_port : local.port);
        EXPECT_EQ(ts[0].source, want) << local.ToString() << " ip=" << ip << " port=" << port;
        Message m = Decoded(ts[0]);
        EXPECT_EQ(m.cls, MessageClass::kSuccessResponse);
        EXPECT_EQ(m.response_origin, want);
        EXPECT_EQ(m.other_address, Endpoint(other_ip, other_port));
      }
    }
  }
  EXPECT_EQ(s.stats().changed_responses, 12u);
}

TEST(StunServer, ChangeWithoutAlternateIs420) {
  DeterministicRandom rng(3);
  StunServerConfig c;
  c.primary = Endpoint(kA1, kP1);
  StunServer s(c);
  for (ChangeRequest cr : {ChangeRequest{true, false}, ChangeRequest{false, false}}) {
    s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, Request(rng, cr));
    auto ts = Drain(s);
    ASSERT_EQ(ts.size(), 1u);
    EXPECT_EQ(ts[0].source, c.primary);
    Message m = Decoded(ts[0]);
    EXPECT_EQ(m.cls, MessageClass::kErrorResponse);
    ASSERT_TRUE(m.error_code);
    EXPECT_EQ(m.error_code->code, 420);
    EXPECT_EQ(m.unknown_attributes, std::vector<uint16_t>{attr::kChangeRequest});
    EXPECT_TRUE(m.fingerprint);
  }
  // Without CHANGE-REQUEST it is a plain STUN server: no OTHER-ADDRESS.
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, Request(rng));
  Message ok = Decoded(Drain(s).at(0));
  EXPECT_EQ(ok.cls, MessageClass::kSuccessResponse);
  EXPECT_EQ(ok.response_origin, c.primary);
  EXPECT_FALSE(ok.other_address);
  EXPECT_EQ(s.stats().error_responses, 2u);
}

TEST(StunServer, UnknownLocalEndpointCannotChange) {
  DeterministicRandom rng(4);
  StunServer s(Rfc5780Config());
  const Endpoint wildcard(IpAddress(), kP1);
  s.HandleDatagram(Timestamp::Zero(), wildcard, kClient, Request(rng, ChangeRequest{false, true}));
  Message m = Decoded(Drain(s).at(0));
  ASSERT_TRUE(m.error_code);
  EXPECT_EQ(m.error_code->code, 400);
  // No change asked: answered from there, with no RESPONSE-ORIGIN to claim.
  s.HandleDatagram(Timestamp::Zero(), wildcard, kClient, Request(rng));
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, wildcard);
  Message ok = Decoded(ts[0]);
  EXPECT_EQ(ok.xor_mapped_address, kClient);
  EXPECT_FALSE(ok.response_origin);
}

TEST(StunServer, UnknownRequiredAttributeIs420OptionalIsIgnored) {
  DeterministicRandom rng(5);
  StunServer s(Rfc5780Config());
  Message m;
  m.transaction_id = TransactionId::Random(rng);
  m.other_attributes = {RawAttribute{0x0024, {0, 0, 0, 1}}, RawAttribute{0x8029, Bytes(8, 7)},
                        RawAttribute{0x7ABC, {}}};
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, EncodeMessage(m));
  Message e = Decoded(Drain(s).at(0));
  EXPECT_EQ(e.cls, MessageClass::kErrorResponse);
  EXPECT_EQ(e.error_code->code, 420);
  EXPECT_EQ(e.unknown_attributes, (std::vector<uint16_t>{0x0024, 0x7ABC}));

  m.other_attributes = {RawAttribute{0x8029, Bytes(8, 7)}};
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, EncodeMessage(m));
  EXPECT_EQ(Decoded(Drain(s).at(0)).cls, MessageClass::kSuccessResponse);
}

// coturn's turnutils_stunclient, RFC 5780 step 2 (captured; see
// message-test.cc): RESPONSE-PORT 40616 and CHANGE-REQUEST ip+port.
const char* kCoturnResponsePortRequest =
    "000100102112a44265867e68c5757fbed73188bc002700049ea800000003000400000006";

Bytes RequestWith(RandomSource& rng, std::optional<uint16_t> response_port,
                  std::optional<uint16_t> padding,
                  std::optional<ChangeRequest> change = std::nullopt) {
  Message m;
  m.transaction_id = TransactionId::Random(rng);
  m.response_port = response_port;
  m.padding = padding;
  m.change_request = change;
  return EncodeMessage(m);
}

// RFC 5780 7.5: to the request's source IP, at RESPONSE-PORT; the mapped
// address is still where the request came from.
TEST(StunServer, ResponsePortSendsToSourceIpAtThatPort) {
  StunServer s(Rfc5780Config());
  Bytes req;
  ASSERT_TRUE(FromHex(kCoturnResponsePortRequest, req));
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, req);
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, Endpoint(kA2, kP2));
  EXPECT_EQ(ts[0].destination, Endpoint(kClient.ip, 40616));
  Message m = Decoded(ts[0]);
  EXPECT_EQ(m.cls, MessageClass::kSuccessResponse);
  EXPECT_EQ(m.xor_mapped_address, kClient);
  EXPECT_EQ(m.mapped_address, kClient);
  EXPECT_EQ(m.response_origin, Endpoint(kA2, kP2));
  EXPECT_EQ(m.other_address, Endpoint(kA2, kP2));
  EXPECT_FALSE(m.response_port);  // a request attribute, not echoed
  EXPECT_FALSE(m.padding);
  EXPECT_EQ(s.stats().redirected_responses, 1u);
  EXPECT_EQ(s.stats().changed_responses, 1u);
  EXPECT_EQ(s.stats().error_responses, 0u);
}

// RFC 5780 5: RESPONSE-PORT (and PADDING) make sense on a single-address server.
TEST(StunServer, ResponsePortWithoutAlternate) {
  DeterministicRandom rng(8);
  StunServerConfig c;
  c.primary = Endpoint(kA1, kP1);
  StunServer s(c);
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, RequestWith(rng, 1, std::nullopt));
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, c.primary);
  EXPECT_EQ(ts[0].destination, Endpoint(kClient.ip, 1));
  Message m = Decoded(ts[0]);
  EXPECT_EQ(m.xor_mapped_address, kClient);
  EXPECT_FALSE(m.other_address);
}

// RFC 5780 6.1: PADDING in the request, PADDING in the response: MTU-sized,
// rounded up to 4, but no longer than the request's own.
TEST(StunServer, PaddingAnsweredWithPadding) {
  DeterministicRandom rng(9);
  StunServerConfig c = Rfc5780Config();
  StunServer s(c);
  // coturn's step 3: change ip+port with 1500 bytes of PADDING.
  const Bytes big = RequestWith(rng, std::nullopt, 1500, ChangeRequest{true, true});
  ASSERT_EQ(big.size(), 1532u);
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, big);
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, Endpoint(kA2, kP2));
  EXPECT_EQ(ts[0].destination, kClient);
  Message m = Decoded(ts[0]);
  EXPECT_EQ(m.cls, MessageClass::kSuccessResponse);
  EXPECT_EQ(m.padding, 1500);
  EXPECT_EQ(m.xor_mapped_address, kClient);
  EXPECT_TRUE(m.fingerprint);
  EXPECT_GT(ts[0].payload.size(), 1500u);

  // A small PADDING gets a small one back (rounded up to 4): no amplifier.
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient,
                   RequestWith(rng, std::nullopt, 5));
  EXPECT_EQ(Decoded(Drain(s).at(0)).padding, 8);
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient,
                   RequestWith(rng, std::nullopt, 0));
  EXPECT_EQ(Decoded(Drain(s).at(0)).padding, 0);
  // No PADDING asked, none sent.
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, Request(rng));
  EXPECT_FALSE(Decoded(Drain(s).at(0)).padding);
  EXPECT_EQ(s.stats().padded_responses, 3u);

  // A host that knows a smaller MTU: that, rounded up to a multiple of 4.
  c.padding_mtu = 1401;
  StunServer small(c);
  small.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient,
                       RequestWith(rng, std::nullopt, 1500));
  EXPECT_EQ(Decoded(Drain(small).at(0)).padding, 1404);
}

// RFC 5780 6.1 / 7.5: RESPONSE-PORT with PADDING is a 400, sent (like every
// error) to the request's source port, not to RESPONSE-PORT.
TEST(StunServer, ResponsePortErrorsGoToTheSourcePort) {
  DeterministicRandom rng(10);
  StunServer s(Rfc5780Config());
  const Endpoint at(kA2, kP1);
  s.HandleDatagram(Timestamp::Zero(), at, kClient, RequestWith(rng, 40001, 1500));
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, at);
  EXPECT_EQ(ts[0].destination, kClient);
  Message e = Decoded(ts[0]);
  EXPECT_EQ(e.cls, MessageClass::kErrorResponse);
  ASSERT_TRUE(e.error_code);
  EXPECT_EQ(e.error_code->code, 400);
  EXPECT_FALSE(e.padding);

  // RESPONSE-PORT 0 names no port.
  s.HandleDatagram(Timestamp::Zero(), at, kClient, RequestWith(rng, 0, std::nullopt));
  ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].destination, kClient);
  EXPECT_EQ(Decoded(ts[0]).error_code->code, 400);

  // An unknown comprehension-required attribute next to RESPONSE-PORT: 420 to the source.
  Message m;
  m.transaction_id = TransactionId::Random(rng);
  m.response_port = 40001;
  m.other_attributes = {RawAttribute{0x0024, {0, 0, 0, 1}}};
  s.HandleDatagram(Timestamp::Zero(), at, kClient, EncodeMessage(m));
  ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].destination, kClient);
  e = Decoded(ts[0]);
  EXPECT_EQ(e.error_code->code, 420);
  EXPECT_EQ(e.unknown_attributes, std::vector<uint16_t>{0x0024});

  // Without an alternate, CHANGE-REQUEST next to RESPONSE-PORT: 420 to the source.
  StunServerConfig single;
  single.primary = Endpoint(kA1, kP1);
  StunServer one(single);
  one.HandleDatagram(Timestamp::Zero(), single.primary, kClient,
                     RequestWith(rng, 40001, std::nullopt, ChangeRequest{true, true}));
  ts = Drain(one);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].destination, kClient);
  EXPECT_EQ(Decoded(ts[0]).unknown_attributes, std::vector<uint16_t>{attr::kChangeRequest});

  EXPECT_EQ(s.stats().error_responses, 3u);
  EXPECT_EQ(s.stats().redirected_responses, 0u);
}

// The exact request Debian's `stun` client sends for its test I, answered in
// kind: 16-byte id echoed, MAPPED / SOURCE / CHANGED-ADDRESS, nothing else.
TEST(StunServer, ClassicRequestAnsweredInKindByteForByte) {
  StunServer s(Rfc5780Config());
  Bytes req;
  ASSERT_TRUE(FromHex("0001000801c548742ab2c90db9327c3d1e31c2130003000400000000", req));
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, req);
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, Endpoint(kA1, kP1));
  EXPECT_EQ(ToHex(ts[0].payload),
            "0101002401c548742ab2c90db9327c3d1e31c213"
            "0001000800019c40cb007105"    // MAPPED-ADDRESS 203.0.113.5:40000
            "0004000800010d96c6336401"    // SOURCE-ADDRESS 198.51.100.1:3478
            "0005000800010d97c6336402");  // CHANGED-ADDRESS 198.51.100.2:3479
  EXPECT_EQ(s.stats().classic_requests, 1u);

  // Test II (change IP and port) goes out of A2:P2.
  ASSERT_TRUE(FromHex("0001000802c548742ab2c90db9327c3d1e31c2130003000400000006", req));
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, req);
  ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, Endpoint(kA2, kP2));
  Message m = Decoded(ts[0]);
  EXPECT_TRUE(m.classic());
  EXPECT_EQ(m.source_address, Endpoint(kA2, kP2));
  EXPECT_EQ(m.changed_address, Endpoint(kA2, kP2));
}

TEST(StunServer, ClassicWithoutAlternateAnswersTestIAndDropsChanges) {
  StunServerConfig c;
  c.primary = Endpoint(kA1, kP1);
  StunServer s(c);
  Bytes req;
  ASSERT_TRUE(FromHex("0001000801c548742ab2c90db9327c3d1e31c2130003000400000000", req));
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, req);
  Message m = Decoded(Drain(s).at(0));
  EXPECT_EQ(m.mapped_address, kClient);
  EXPECT_FALSE(m.changed_address);

  ASSERT_TRUE(FromHex("0001000802c548742ab2c90db9327c3d1e31c2130003000400000004", req));
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, req);
  EXPECT_TRUE(Drain(s).empty());
  // Classic with an unknown comprehension-required attribute: dropped, like stund.
  ASSERT_TRUE(FromHex("0001000801c548742ab2c90db9327c3d1e31c2130077000400000000", req));
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, req);
  EXPECT_TRUE(Drain(s).empty());
  // RFC 3489 has no RESPONSE-PORT or PADDING: dropped likewise.
  ASSERT_TRUE(FromHex(
      "0001001001c548742ab2c90db9327c3d1e31c2130003000400000000002700049c410000", req));
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, req);
  ASSERT_TRUE(FromHex(
      "0001001001c548742ab2c90db9327c3d1e31c213000300040000000000260004ffffffff", req));
  s.HandleDatagram(Timestamp::Zero(), c.primary, kClient, req);
  EXPECT_TRUE(Drain(s).empty());
  EXPECT_EQ(s.stats().dropped_classic_unsupported, 4u);
  EXPECT_EQ(s.stats().error_responses, 0u);
}

TEST(StunServer, Rfc5769RequestGets420ForPriority) {
  StunServer s(Rfc5780Config());
  Bytes req;
  ASSERT_TRUE(FromHex(
      "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
      "002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020"
      "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf",
      req));
  s.HandleDatagram(Timestamp::Zero(), Endpoint(kA1, kP1), kClient, req);
  Message m = Decoded(Drain(s).at(0));
  EXPECT_EQ(m.error_code->code, 420);
  EXPECT_EQ(m.unknown_attributes, std::vector<uint16_t>{0x0024});
}

TEST(StunServer, DropsGarbageResponsesAndOtherMethods) {
  DeterministicRandom rng(6);
  StunServer s(Rfc5780Config());
  const Endpoint at(kA1, kP1);
  s.HandleDatagram(Timestamp::Zero(), at, kClient, Bytes(7, 0xAB));
  Bytes bad_fp = Request(rng);
  Message withfp;
  withfp.transaction_id = TransactionId::Random(rng);
  withfp.fingerprint = true;
  bad_fp = EncodeMessage(withfp);
  bad_fp.back() ^= 1;
  s.HandleDatagram(Timestamp::Zero(), at, kClient, bad_fp);
  for (MessageClass cls : {MessageClass::kIndication, MessageClass::kSuccessResponse,
                           MessageClass::kErrorResponse}) {
    Message m;
    m.cls = cls;
    m.transaction_id = TransactionId::Random(rng);
    s.HandleDatagram(Timestamp::Zero(), at, kClient, EncodeMessage(m));
  }
  Message allocate;
  allocate.method = 0x003;
  allocate.transaction_id = TransactionId::Random(rng);
  s.HandleDatagram(Timestamp::Zero(), at, kClient, EncodeMessage(allocate));

  EXPECT_TRUE(Drain(s).empty());
  EXPECT_EQ(s.stats().dropped_malformed, 2u);
  EXPECT_EQ(s.stats().malformed_by_reason[static_cast<size_t>(DecodeError::kTooShort)], 1u);
  EXPECT_EQ(
      s.stats().malformed_by_reason[static_cast<size_t>(DecodeError::kFingerprintMismatch)], 1u);
  EXPECT_EQ(s.stats().dropped_not_request, 4u);
  EXPECT_EQ(s.stats().requests, 0u);
}

TEST(StunServer, Ipv6) {
  DeterministicRandom rng(7);
  StunServerConfig c;
  c.primary = *Endpoint::Parse("[2001:db8::1]:3478");
  c.alternate = *Endpoint::Parse("[2001:db8::2]:3479");
  StunServer s(c);
  const Endpoint client = *Endpoint::Parse("[2001:db8:ffff::9]:50000");
  s.HandleDatagram(Timestamp::Zero(), c.primary, client, Request(rng, ChangeRequest{true, false}));
  auto ts = Drain(s);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, *Endpoint::Parse("[2001:db8::2]:3478"));
  Message m = Decoded(ts[0]);
  EXPECT_EQ(m.xor_mapped_address, client);
  EXPECT_EQ(m.other_address, c.alternate);
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
