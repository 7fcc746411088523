// MAC1/MAC2 and cookie replies (paper section 5.4.4, 5.4.7): the DoS defence
// around handshake messages. MAC1 proves the sender knows our public key;
// under load a responder also demands MAC2, keyed by a cookie bound to the
// sender's address that it hands out in an encrypted cookie reply.
#pragma once

#include <cstdint>
#include <optional>

#include "punchlab/endpoint.h"
#include "punchlab/random.h"
#include "punchlab/time.h"
#include "punchlab/wireguard/messages.h"
#include "punchlab/wireguard/noise.h"

namespace punchlab::wireguard {

// The responder side: checks the MACs of handshake messages sent to us and
// makes cookie replies. The secret the cookies derive from is drawn afresh
// every two minutes (COOKIE_REFRESH_TIME).
class CookieChecker {
 public:
  static constexpr Duration kRefresh = Duration::Seconds(120);

  explicit CookieChecker(const LocalStatic& local) : mac1_key_(local.mac1_key), cookie_key_(local.cookie_key) {}

  // `message` is a whole initiation or response.
  bool CheckMac1(ByteView message) const;
  bool CheckMac2(Timestamp now, RandomSource& rng, ByteView message, const Endpoint& source);
  // A cookie reply to `message` (whose sender index is `receiver`) for `source`.
  CookieReply MakeReply(Timestamp now, RandomSource& rng, ByteView message, uint32_t receiver,
                        const Endpoint& source);

 private:
  Mac16 CookieFor(Timestamp now, RandomSource& rng, const Endpoint& source);

  Key32 mac1_key_;
  Key32 cookie_key_;
  Key32 secret_{};
  std::optional<Timestamp> secret_born_;
};

// The initiator side, one per peer: fills MAC1/MAC2 of the handshake messages
// we send it, and takes the cookies it replies with.
class CookieGenerator {
 public:
  explicit CookieGenerator(const RemoteStatic& remote) : mac1_key_(remote.mac1_key), cookie_key_(remote.cookie_key) {}

  // Fills mac1 and mac2 of an encoded initiation or response in place; MAC2
  // stays zero without a cookie younger than two minutes.
  void AddMacs(Timestamp now, Bytes& message);
  // Accepts a reply to the last message we MAC'd (once); false otherwise.
  bool ConsumeReply(Timestamp now, const CookieReply& reply);
  bool has_cookie(Timestamp now) const;

 private:
  Key32 mac1_key_;
  Key32 cookie_key_;
  Mac16 last_mac1_{};
  bool awaiting_reply_ = false;
  Mac16 cookie_{};
  std::optional<Timestamp> cookie_born_;
};

}  // namespace punchlab::wireguard
