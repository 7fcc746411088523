// StunClient on its own, driven by a virtual clock: retransmission schedule,
// outcomes, and what it drops.
#include <gtest/gtest.h>

#include <vector>

#include "punchlab/random.h"
#include "punchlab/stun/client.h"

namespace punchlab {
namespace stun {
namespace {

const Endpoint kLocal(IpAddress::V4(10, 0, 0, 2), 40000);
const Endpoint kServer(IpAddress::V4(192, 0, 2, 1), 3478);
const Endpoint kMapped(IpAddress::V4(203, 0, 113, 9), 61000);

Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

std::vector<Transmit> DrainTransmits(StunClient& c) {
  std::vector<Transmit> out;
  while (auto t = c.PollTransmit()) out.push_back(std::move(*t));
  return out;
}

// Runs the client alone until it has nothing left to wait for; returns the
// instants at which it sent.
std::vector<int64_t> RunSilently(StunClient& c, std::vector<Bytes>* payloads = nullptr) {
  std::vector<int64_t> sends;
  Timestamp now = Timestamp::Zero();
  for (;;) {
    for (Transmit& t : DrainTransmits(c)) {
      sends.push_back((now - Timestamp::Zero()).nanos() / 1000000);
      if (payloads) payloads->push_back(t.payload);
    }
    auto next = c.PollTimeout();
    if (!next) break;
    EXPECT_GE(*next, now);
    now = *next;
    c.HandleTimeout(now);
  }
  return sends;
}

Bytes Response(const TransactionId& id, MessageClass cls = MessageClass::kSuccessResponse) {
  Message m;
  m.cls = cls;
  m.transaction_id = id;
  if (cls == MessageClass::kSuccessResponse) m.xor_mapped_address = kMapped;
  return EncodeMessage(m);
}

TEST(StunClient, RetransmitScheduleUntilDeadline) {
  DeterministicRandom rng(1);
  StunClient c(rng);
  const TransactionId id = c.StartBinding(Timestamp::Zero(), kLocal, kServer);
  std::vector<Bytes> payloads;
  EXPECT_EQ(RunSilently(c, &payloads), (std::vector<int64_t>{0, 100, 300, 700, 1500}));
  for (const Bytes& p : payloads) EXPECT_EQ(p, payloads.front());  // same txid every time

  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  const auto* timeout = std::get_if<StunTimeout>(&*ev);
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->transaction_id, id);
  EXPECT_EQ(timeout->local, kLocal);
  EXPECT_EQ(timeout->server, kServer);
  EXPECT_EQ(timeout->retransmits, 4u);
  EXPECT_EQ(timeout->rtt, Duration::Seconds(3));  // the deadline, measured from the first send
  EXPECT_FALSE(c.PollEvent());
  EXPECT_FALSE(c.IsPending(id));
  EXPECT_EQ(c.stats().requests_sent, 5u);
  EXPECT_EQ(c.stats().retransmits, 4u);
  EXPECT_EQ(c.stats().timeouts, 1u);
}

TEST(StunClient, RtoCapsAtMaxRto) {
  DeterministicRandom rng(1);
  StunClient c(rng);
  BindingOptions o;
  o.deadline = Duration::Seconds(10);
  c.StartBinding(Timestamp::Zero(), kLocal, kServer, o);
  EXPECT_EQ(RunSilently(c),
            (std::vector<int64_t>{0, 100, 300, 700, 1500, 3100, 4700, 6300, 7900, 9500}));
  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  const auto* timeout = std::get_if<StunTimeout>(&*ev);
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->rtt, Duration::Seconds(10));
}

TEST(StunClient, RequestCarriesOptions) {
  DeterministicRandom rng(2);
  StunClient c(rng);
  BindingOptions o;
  o.software = "tailnode";
  c.StartBinding(Timestamp::Zero(), kLocal, kServer, o);
  o.change_ip = true;
  o.change_port = true;
  o.fingerprint = false;
  o.software.clear();
  c.StartBinding(Timestamp::Zero(), kLocal, kServer, o);
  BindingOptions classic;
  classic.classic = true;
  classic.change_port = true;
  c.StartBinding(Timestamp::Zero(), kLocal, kServer, classic);

  std::vector<Transmit> ts = DrainTransmits(c);
  ASSERT_EQ(ts.size(), 3u);
  for (const Transmit& t : ts) {
    EXPECT_EQ(t.source, kLocal);
    EXPECT_EQ(t.destination, kServer);
  }
  auto a = DecodeMessage(ts[0].payload);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a.message->classic());
  EXPECT_EQ(a.message->cls, MessageClass::kRequest);
  EXPECT_EQ(a.message->software, "tailnode");
  EXPECT_TRUE(a.message->fingerprint);
  EXPECT_FALSE(a.message->change_request);  // no flag set: no attribute
  EXPECT_TRUE(LooksLikeStun(ts[0].payload));

  auto b = DecodeMessage(ts[1].payload);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.message->change_request, (ChangeRequest{true, true}));
  EXPECT_FALSE(b.message->fingerprint);
  EXPECT_FALSE(b.message->software);

  auto k = DecodeMessage(ts[2].payload);
  ASSERT_TRUE(k);
  EXPECT_TRUE(k.message->classic());
  EXPECT_EQ(k.message->change_request, (ChangeRequest{false, true}));
  EXPECT_FALSE(k.message->software);
  EXPECT_FALSE(k.message->fingerprint);
  EXPECT_EQ(ts[2].payload.size(), 28u);  // like the Vovida client's requests
}

TEST(StunClient, SuccessReportsMappedRttAndAttributes) {
  DeterministicRandom rng(3);
  StunClient c(rng);
  const TransactionId id = c.StartBinding(Ms(1000), kLocal, kServer);
  DrainTransmits(c);
  c.HandleTimeout(Ms(1100));  // one retransmission
  c.HandleTimeout(Ms(1300));  // and another
  EXPECT_EQ(DrainTransmits(c).size(), 2u);

  Message m;
  m.cls = MessageClass::kSuccessResponse;
  m.transaction_id = id;
  m.xor_mapped_address = kMapped;
  m.response_origin = Endpoint(IpAddress::V4(192, 0, 2, 2), 3479);
  m.other_address = Endpoint(IpAddress::V4(192, 0, 2, 2), 3479);
  m.software = "srv";
  const Endpoint from(IpAddress::V4(192, 0, 2, 2), 3479);
  c.HandleDatagram(Ms(1350), kLocal, from, EncodeMessage(m));

  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  const auto* ok = std::get_if<StunSuccess>(&*ev);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->mapped, kMapped);
  EXPECT_EQ(ok->response_source, from);
  EXPECT_EQ(ok->response_origin, m.response_origin);
  EXPECT_EQ(ok->other_address, m.other_address);
  EXPECT_EQ(ok->server_software, "srv");
  EXPECT_EQ(ok->rtt, Duration::Millis(350));
  EXPECT_EQ(ok->rtt_since_last_send, Duration::Millis(50));
  EXPECT_EQ(ok->retransmits, 2u);
  EXPECT_FALSE(c.PollTimeout());
  EXPECT_EQ(c.stats().successes, 1u);

  // A late duplicate of the same answer matches nothing any more.
  c.HandleDatagram(Ms(1400), kLocal, from, EncodeMessage(m));
  EXPECT_FALSE(c.PollEvent());
  EXPECT_EQ(c.stats().dropped_unmatched, 1u);
}

TEST(StunClient, AcceptsMappedAddressOnlyAnd8020) {
  DeterministicRandom rng(4);
  StunClient c(rng);
  BindingOptions classic;
  classic.classic = true;
  const TransactionId a = c.StartBinding(Timestamp::Zero(), kLocal, kServer, classic);
  const TransactionId b = c.StartBinding(Timestamp::Zero(), kLocal, kServer);
  DrainTransmits(c);

  Message stund_like;  // what stund's minimum is: MAPPED-ADDRESS only
  stund_like.cls = MessageClass::kSuccessResponse;
  stund_like.transaction_id = a;
  stund_like.mapped_address = kMapped;
  stund_like.changed_address = Endpoint(IpAddress::V4(192, 0, 2, 2), 3479);
  c.HandleDatagram(Ms(20), kLocal, kServer, EncodeMessage(stund_like));

  Message ts_like;  // Tailscale's non-standard 0x8020 only
  ts_like.cls = MessageClass::kSuccessResponse;
  ts_like.transaction_id = b;
  Bytes v = {0x00, 0x01, static_cast<uint8_t>((kMapped.port ^ 0x2112) >> 8),
             static_cast<uint8_t>((kMapped.port ^ 0x2112) & 0xFF)};
  const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
  for (size_t i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(kMapped.ip.bytes()[i] ^ cookie[i]));
  ts_like.other_attributes = {RawAttribute{attr::kXorMappedAddressAlt, v}};
  c.HandleDatagram(Ms(30), kLocal, kServer, EncodeMessage(ts_like));

  auto first = c.PollEvent();
  auto second = c.PollEvent();
  ASSERT_TRUE(first && second);
  const auto* e1 = std::get_if<StunSuccess>(&*first);
  const auto* e2 = std::get_if<StunSuccess>(&*second);
  ASSERT_TRUE(e1 && e2);
  EXPECT_EQ(e1->transaction_id, a);
  EXPECT_EQ(e1->mapped, kMapped);
  EXPECT_EQ(e1->other_address, stund_like.changed_address);
  EXPECT_TRUE(e1->options.classic);
  EXPECT_EQ(e2->transaction_id, b);
  EXPECT_EQ(e2->mapped, kMapped);
}

TEST(StunClient, ErrorResponseReported) {
  DeterministicRandom rng(5);
  StunClient c(rng);
  BindingOptions o;
  o.change_ip = true;
  const TransactionId id = c.StartBinding(Timestamp::Zero(), kLocal, kServer, o);
  Message m;
  m.cls = MessageClass::kErrorResponse;
  m.transaction_id = id;
  m.error_code = ErrorCode{420, "Unknown Attribute"};
  m.unknown_attributes = {attr::kChangeRequest};
  c.HandleDatagram(Ms(40), kLocal, kServer, EncodeMessage(m));
  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  const auto* refused = std::get_if<StunErrorResponse>(&*ev);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->error, m.error_code);
  EXPECT_EQ(refused->unknown_attributes, std::vector<uint16_t>{attr::kChangeRequest});
  EXPECT_EQ(c.stats().error_responses, 1u);
}

TEST(StunClient, DropsAndCountsWhatDoesNotMatch) {
  DeterministicRandom rng(6);
  StunClient c(rng);
  const TransactionId id = c.StartBinding(Timestamp::Zero(), kLocal, kServer);
  DrainTransmits(c);

  DeterministicRandom other(99);
  c.HandleDatagram(Ms(1), kLocal, kServer, Response(TransactionId::Random(other)));  // forged id
  Bytes flipped = Response(id);
  flipped[19] ^= 1;  // last id byte
  c.HandleDatagram(Ms(2), kLocal, kServer, flipped);
  c.HandleDatagram(Ms(3), kLocal, kServer, Bytes{1, 2, 3});                      // garbage
  c.HandleDatagram(Ms(4), kLocal, kServer, Response(id, MessageClass::kRequest));  // a request
  Message no_addr;
  no_addr.cls = MessageClass::kSuccessResponse;
  no_addr.transaction_id = id;
  c.HandleDatagram(Ms(5), kLocal, kServer, EncodeMessage(no_addr));  // success, no address
  Message other_method;
  other_method.method = 0x003;
  other_method.cls = MessageClass::kSuccessResponse;
  other_method.transaction_id = id;
  c.HandleDatagram(Ms(6), kLocal, kServer, EncodeMessage(other_method));

  EXPECT_FALSE(c.PollEvent());
  EXPECT_TRUE(c.IsPending(id));
  const StunClientStats& s = c.stats();
  EXPECT_EQ(s.dropped_unmatched, 2u);
  EXPECT_EQ(s.dropped_malformed, 1u);
  EXPECT_EQ(s.malformed_by_reason[static_cast<size_t>(DecodeError::kTooShort)], 1u);
  EXPECT_EQ(s.dropped_not_response, 2u);
  EXPECT_EQ(s.dropped_no_address, 1u);

  // The genuine answer still gets through.
  c.HandleDatagram(Ms(7), kLocal, kServer, Response(id));
  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  const auto* ok = std::get_if<StunSuccess>(&*ev);
  ASSERT_NE(ok, nullptr);
}

TEST(StunClient, ConcurrentTransactionsAndCancel) {
  DeterministicRandom rng(7);
  StunClient c(rng);
  const Endpoint local2(IpAddress::V4(10, 0, 0, 2), 40001);
  const TransactionId a = c.StartBinding(Ms(0), kLocal, kServer);
  const TransactionId b = c.StartBinding(Ms(50), local2, kServer);
  const TransactionId d = c.StartBinding(Ms(60), kLocal, kServer);
  EXPECT_NE(a, b);
  EXPECT_NE(b, d);
  EXPECT_EQ(c.PendingCount(), 3u);
  EXPECT_EQ(c.PollTimeout(), Ms(100));
  EXPECT_TRUE(c.Cancel(a));
  EXPECT_FALSE(c.Cancel(a));
  EXPECT_EQ(c.PollTimeout(), Ms(150));
  DrainTransmits(c);
  c.HandleTimeout(Ms(150));
  std::vector<Transmit> ts = DrainTransmits(c);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].source, local2);

  c.HandleDatagram(Ms(170), local2, kServer, Response(b));
  auto ev = c.PollEvent();
  ASSERT_TRUE(ev);
  EXPECT_EQ(Exchange(*ev).transaction_id, b);
  EXPECT_EQ(Exchange(*ev).local, local2);
  EXPECT_TRUE(c.IsPending(d));
  EXPECT_EQ(c.stats().cancelled, 1u);
  // The cancelled one's answer is unmatched now.
  c.HandleDatagram(Ms(180), kLocal, kServer, Response(a));
  EXPECT_EQ(c.stats().dropped_unmatched, 1u);
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
