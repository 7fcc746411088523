#include "punchlab/wireguard/cookie.h"

#include <sodium.h>

#include <cstring>

namespace punchlab::wireguard {
namespace {

// Offsets of mac1 in the two message types that carry MACs.
size_t Mac1Offset(ByteView message) {
  return message.size() == kInitiationSize ? kInitiationMac1Offset : kResponseMac1Offset;
}

bool EqualMac(const Mac16& a, ByteView b) {
  return b.size() == a.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The bytes a cookie is bound to: the source address and port.
Bytes SourceBytes(const Endpoint& source) {
  Bytes b(source.ip.bytes().begin(), source.ip.bytes().begin() + static_cast<long>(source.ip.size()));
  b.push_back(static_cast<uint8_t>(source.port >> 8));
  b.push_back(static_cast<uint8_t>(source.port));
  return b;
}

}  // namespace

bool CookieChecker::CheckMac1(ByteView message) const {
  const size_t at = Mac1Offset(message);
  if (message.size() < at + 32) return false;
  return EqualMac(Mac(View(mac1_key_), message.sub(0, at)), message.sub(at, 16));
}

Mac16 CookieChecker::CookieFor(Timestamp now, RandomSource& rng, const Endpoint& source) {
  if (!secret_born_ || now - *secret_born_ >= kRefresh) {
    rng.Fill(secret_.data(), secret_.size());
    secret_born_ = now;
  }
  const Bytes src = SourceBytes(source);
  return Mac(View(secret_), src);
}

bool CookieChecker::CheckMac2(Timestamp now, RandomSource& rng, ByteView message, const Endpoint& source) {
  const size_t at = Mac1Offset(message) + 16;
  if (message.size() < at + 16) return false;
  const Mac16 cookie = CookieFor(now, rng, source);
  return EqualMac(Mac(ByteView(cookie.data(), cookie.size()), message.sub(0, at)), message.sub(at, 16));
}

CookieReply CookieChecker::MakeReply(Timestamp now, RandomSource& rng, ByteView message, uint32_t receiver,
                                     const Endpoint& source) {
  CookieReply reply;
  reply.receiver = receiver;
  rng.Fill(reply.nonce.data(), reply.nonce.size());
  const Mac16 cookie = CookieFor(now, rng, source);
  const ByteView mac1 = message.sub(Mac1Offset(message), 16);
  Bytes sealed;
  XAeadSeal(cookie_key_, ByteView(reply.nonce.data(), reply.nonce.size()), ByteView(cookie.data(), cookie.size()),
            mac1, sealed);
  std::memcpy(reply.encrypted_cookie.data(), sealed.data(), reply.encrypted_cookie.size());
  return reply;
}

void CookieGenerator::AddMacs(Timestamp now, Bytes& message) {
  const size_t at = Mac1Offset(message);
  const Mac16 mac1 = Mac(View(mac1_key_), ByteView(message.data(), at));
  std::memcpy(message.data() + at, mac1.data(), mac1.size());
  last_mac1_ = mac1;
  awaiting_reply_ = true;
  Mac16 mac2{};
  if (has_cookie(now)) mac2 = Mac(ByteView(cookie_.data(), cookie_.size()), ByteView(message.data(), at + 16));
  std::memcpy(message.data() + at + 16, mac2.data(), mac2.size());
}

bool CookieGenerator::ConsumeReply(Timestamp now, const CookieReply& reply) {
  if (!awaiting_reply_) return false;
  Bytes cookie;
  if (!XAeadOpen(cookie_key_, ByteView(reply.nonce.data(), reply.nonce.size()),
                 ByteView(reply.encrypted_cookie.data(), reply.encrypted_cookie.size()),
                 ByteView(last_mac1_.data(), last_mac1_.size()), cookie) ||
      cookie.size() != cookie_.size()) {
    return false;
  }
  std::memcpy(cookie_.data(), cookie.data(), cookie_.size());
  cookie_born_ = now;
  awaiting_reply_ = false;
  return true;
}

bool CookieGenerator::has_cookie(Timestamp now) const {
  return cookie_born_ && now - *cookie_born_ < CookieChecker::kRefresh;
}

}  // namespace punchlab::wireguard
