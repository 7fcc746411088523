// WireGuard, what arrives off the wire: a message into a Device that knows
// one peer, with (first byte odd) or without a session established by a real
// handshake first. The rest of the input is cut into messages at 0xff 0xff
// boundaries (so a script of several messages, e.g. a replay, can be written).
// Invariants: every well-formed message decodes and re-encodes byte for byte;
// nothing the fuzzer writes authenticates (no data, no handshake), and an
// established session still carries data afterwards.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "fuzz-check.h"
#include "punchlab/wireguard/device.h"

using namespace punchlab;
using namespace punchlab::wireguard;

namespace {

const Endpoint kA(IpAddress::V4(10, 0, 0, 1), 1);
const Endpoint kB(IpAddress::V4(10, 0, 0, 2), 2);

Key32 Private(uint8_t b) {
  Key32 k{};
  k.fill(b);
  return k;
}

void CheckRoundTrip(ByteView m) {
  const auto type = ClassifyMessage(m);
  if (!type) return;
  Bytes again;
  switch (*type) {
    case MessageType::kInitiation: again = Encode(*DecodeInitiation(m)); break;
    case MessageType::kResponse: again = Encode(*DecodeResponse(m)); break;
    case MessageType::kCookieReply: again = Encode(*DecodeCookieReply(m)); break;
    case MessageType::kTransport: {
      ByteView ct;
      const auto h = DecodeTransport(m, ct);
      again = EncodeTransport(*h, ct);
      break;
    }
  }
  FUZZ_CHECK(again == m.ToBytes());
}

void Exchange(Device& from, Device& to, Timestamp now, const Endpoint& src) {
  while (auto o = from.PollTransmit()) to.HandleMessage(now, src, o->message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  DeterministicRandom ra(1), rb(2);
  // Under load from the first message when the second byte says so: the
  // cookie path is reached too.
  const uint32_t load = size > 1 && (data[1] & 1) ? 0 : 128;
  Device a(DeviceConfig{Private(1), Duration::Seconds(1700000000), 128, true, {}}, ra);
  Device b(DeviceConfig{Private(2), Duration::Seconds(1700000000), load, true, {}}, rb);
  a.AddPeer(PeerConfig{b.public_key(), {}, kB, Duration::Zero()});
  b.AddPeer(PeerConfig{a.public_key(), {}, kA, Duration::Zero()});
  Timestamp now = Timestamp::FromNanos(1);
  const bool session = data[0] & 1;
  if (session && load != 0) {
    a.Initiate(now, b.public_key());
    Exchange(a, b, now, kA);
    Exchange(b, a, now, kB);
    Exchange(a, b, now, kA);  // the confirming keepalive
    FUZZ_CHECK(b.HasSession(now, a.public_key()));
    while (b.PollEvent()) {
    }
  }

  const ByteView rest(data + 1, size - 1);
  size_t start = 0;
  for (size_t i = 0; i <= rest.size(); ++i) {
    const bool cut = i + 1 < rest.size() && rest[i] == 0xff && rest[i + 1] == 0xff;
    if (!cut && i != rest.size()) continue;
    const ByteView message = rest.sub(start, i - start);
    CheckRoundTrip(message);
    now += Duration::Millis(30);
    b.HandleMessage(now, kA, message);
    while (b.PollTransmit()) {
    }
    b.HandleTimeout(now);
    while (auto e = b.PollEvent()) {
      FUZZ_CHECK(!std::holds_alternative<DataReceived>(*e));
      FUZZ_CHECK(!std::holds_alternative<HandshakeComplete>(*e));
    }
    start = i + 2;
    ++i;
  }

  if (session && load != 0) {
    const char text[] = "still here";
    a.Send(now, b.public_key(), ByteView(reinterpret_cast<const uint8_t*>(text), sizeof text));
    Exchange(a, b, now, kA);
    bool got = false;
    while (auto e = b.PollEvent()) {
      if (const auto* d = std::get_if<DataReceived>(&*e)) got = std::memcmp(d->data.data(), text, sizeof text) == 0;
    }
    FUZZ_CHECK(got);
  }
  return 0;
}
