// STUN: any datagram through the codec and through an RFC 5780 server (with
// and without its per-source rate limit). Invariants: a decoded message
// re-encodes to something that decodes again with the same fields; every
// datagram the server sends decodes, goes to the request's source IP and
// leaves from one of the server's own endpoints.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz-check.h"
#include "punchlab/stun/message.h"
#include "punchlab/stun/server.h"

using namespace punchlab;

namespace {

const Endpoint kPrimary(IpAddress::V4(198, 51, 100, 1), 3478);
const Endpoint kAlternate(IpAddress::V4(198, 51, 100, 2), 3479);
const Endpoint kSource(IpAddress::V4(203, 0, 113, 5), 40000);

void CheckRoundTrip(const stun::Message& m) {
  // The encoder asserts on what cannot be written (strings over an
  // attribute's size, messages over 64 KiB); a decoded message never is that.
  stun::Message again = m;
  again.message_integrity.reset();  // the codec never writes it (no key)
  const Bytes encoded = stun::EncodeMessage(again);
  const stun::DecodeResult back = stun::DecodeMessage(encoded);
  FUZZ_CHECK(back);
  const stun::Message& b = *back.message;
  FUZZ_CHECK(b.method == m.method && b.cls == m.cls && b.transaction_id == m.transaction_id);
  FUZZ_CHECK(b.xor_mapped_address == m.xor_mapped_address);
  FUZZ_CHECK(b.mapped_address == m.mapped_address);
  FUZZ_CHECK(b.software == m.software);
  FUZZ_CHECK(b.change_request.has_value() == m.change_request.has_value());
  FUZZ_CHECK(b.response_port == m.response_port);
  FUZZ_CHECK(b.padding == m.padding);
  FUZZ_CHECK(b.fingerprint == m.fingerprint);
}

void CheckServer(stun::StunServer& server, const Endpoint& local, ByteView datagram) {
  const std::vector<Endpoint> mine = server.LocalEndpoints();
  server.HandleDatagram(Timestamp::Zero(), local, kSource, datagram);
  while (auto t = server.PollTransmit()) {
    FUZZ_CHECK(stun::DecodeMessage(t->payload));
    FUZZ_CHECK(t->destination.ip == kSource.ip);  // never reflected elsewhere
    FUZZ_CHECK(std::find(mine.begin(), mine.end(), t->source) != mine.end());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView datagram(data, size);
  const stun::DecodeResult decoded = stun::DecodeMessage(datagram);
  if (decoded) CheckRoundTrip(*decoded.message);
  (void)stun::LooksLikeStun(datagram);

  static stun::StunServer single([] {
    stun::StunServerConfig c;
    c.primary = kPrimary;
    return c;
  }());
  static stun::StunServer rfc5780([] {
    stun::StunServerConfig c;
    c.primary = kPrimary;
    c.alternate = kAlternate;
    c.rate_limit = stun::RateLimitConfig{1000000, 1000000, 16};
    return c;
  }());
  CheckServer(single, kPrimary, datagram);
  const std::vector<Endpoint> locals = rfc5780.LocalEndpoints();
  CheckServer(rfc5780, locals[size % locals.size()], datagram);
  return 0;
}
