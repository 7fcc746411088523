#include "punchlab/wireguard/noise.h"

#include <cstring>
#include <string_view>

namespace punchlab::wireguard {
namespace {

constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
constexpr std::string_view kLabelMac1 = "mac1----";
constexpr std::string_view kLabelCookie = "cookie--";

ByteView Text(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
template <size_t N>
ByteView V(const std::array<uint8_t, N>& a) { return ByteView(a.data(), N); }

// Ci = HASH(construction), Hi = HASH(Ci || identifier): the same for every handshake.
const Key32& InitialChainingKey() {
  static const Key32 ck = Hash({Text(kConstruction)});
  return ck;
}
const Key32& InitialHash() {
  static const Key32 h = Hash({V(InitialChainingKey()), Text(kIdentifier)});
  return h;
}

void MixHash(Key32& h, ByteView data) { h = Hash({V(h), data}); }

Key32 GenerateEphemeral(RandomSource& rng) {
  Key32 k{};
  rng.Fill(k.data(), k.size());
  return k;
}

template <size_t N>
bool OpenInto(const Key32& key, ByteView ciphertext, ByteView ad, std::array<uint8_t, N>& out) {
  Bytes plain;
  if (!AeadOpen(key, 0, ciphertext, ad, plain) || plain.size() != N) return false;
  if constexpr (N > 0) std::memcpy(out.data(), plain.data(), N);
  Wipe(plain.data(), plain.size());
  return true;
}

template <size_t N>
void SealInto(const Key32& key, ByteView plaintext, ByteView ad, std::array<uint8_t, N>& out) {
  Bytes sealed;
  AeadSeal(key, 0, plaintext, ad, sealed);
  std::memcpy(out.data(), sealed.data(), N);
}

}  // namespace

LocalStatic::LocalStatic(const Key32& priv) : private_key(priv) {
  public_key = PublicFromPrivate(V(private_key));
  mac1_key = Hash({Text(kLabelMac1), V(public_key)});
  cookie_key = Hash({Text(kLabelCookie), V(public_key)});
}
LocalStatic::~LocalStatic() { Wipe(private_key); }

RemoteStatic::RemoteStatic(const LocalStatic& local, const Key32& pub, const Key32& psk)
    : public_key(pub), preshared_key(psk) {
  if (auto ss = Dh(V(local.private_key), V(public_key))) {
    static_static = *ss;
    static_static_ok = true;
  }
  mac1_key = Hash({Text(kLabelMac1), V(public_key)});
  cookie_key = Hash({Text(kLabelCookie), V(public_key)});
}
RemoteStatic::~RemoteStatic() {
  Wipe(static_static);
  Wipe(preshared_key);
}

void HandshakeState::Clear() {
  stage = Stage::kNone;
  Wipe(hash);
  Wipe(chaining_key);
  Wipe(ephemeral_private);
  Wipe(remote_ephemeral);
  local_index = remote_index = 0;
}

Initiation CreateInitiation(const LocalStatic& local, const RemoteStatic& remote, HandshakeState& hs,
                            RandomSource& rng, uint32_t local_index, const Tai64n& timestamp) {
  Initiation m;
  hs.Clear();
  hs.chaining_key = InitialChainingKey();
  hs.hash = InitialHash();
  MixHash(hs.hash, V(remote.public_key));

  hs.ephemeral_private = GenerateEphemeral(rng);
  m.ephemeral = PublicFromPrivate(V(hs.ephemeral_private));
  Kdf1(V(hs.chaining_key), V(m.ephemeral), hs.chaining_key);
  MixHash(hs.hash, V(m.ephemeral));

  Key32 key{};
  // A low-order peer key makes the DH fail; the message then cannot be
  // answered (as wireguard-go, which refuses such a peer up front).
  const Key32 es = Dh(V(hs.ephemeral_private), V(remote.public_key)).value_or(Key32{});
  Kdf2(V(hs.chaining_key), V(es), hs.chaining_key, key);
  SealInto(key, V(local.public_key), V(hs.hash), m.encrypted_static);
  MixHash(hs.hash, V(m.encrypted_static));

  Kdf2(V(hs.chaining_key), V(remote.static_static), hs.chaining_key, key);
  SealInto(key, V(timestamp), V(hs.hash), m.encrypted_timestamp);
  MixHash(hs.hash, V(m.encrypted_timestamp));
  Wipe(key);

  m.sender = local_index;
  hs.local_index = local_index;
  hs.stage = HandshakeState::Stage::kInitiationCreated;
  return m;
}

std::optional<OpenedInitiation> OpenInitiation(const LocalStatic& local, const Initiation& m) {
  OpenedInitiation o;
  o.chaining_key = InitialChainingKey();
  o.hash = InitialHash();
  MixHash(o.hash, V(local.public_key));
  MixHash(o.hash, V(m.ephemeral));
  Kdf1(V(o.chaining_key), V(m.ephemeral), o.chaining_key);

  const auto es = Dh(V(local.private_key), V(m.ephemeral));
  if (!es) return std::nullopt;
  Key32 key{};
  Kdf2(V(o.chaining_key), V(*es), o.chaining_key, key);
  if (!OpenInto(key, V(m.encrypted_static), V(o.hash), o.initiator_static)) return std::nullopt;
  MixHash(o.hash, V(m.encrypted_static));
  Wipe(key);
  o.remote_ephemeral = m.ephemeral;
  o.remote_index = m.sender;
  return o;
}

bool OpenTimestamp(const RemoteStatic& remote, const Initiation& m, OpenedInitiation& o) {
  if (!remote.static_static_ok) return false;
  Key32 key{};
  Kdf2(V(o.chaining_key), V(remote.static_static), o.chaining_key, key);
  const bool ok = OpenInto(key, V(m.encrypted_timestamp), V(o.hash), o.timestamp);
  Wipe(key);
  if (!ok) return false;
  MixHash(o.hash, V(m.encrypted_timestamp));
  return true;
}

void AcceptInitiation(const OpenedInitiation& o, HandshakeState& hs) {
  hs.Clear();
  hs.hash = o.hash;
  hs.chaining_key = o.chaining_key;
  hs.remote_ephemeral = o.remote_ephemeral;
  hs.remote_index = o.remote_index;
  hs.stage = HandshakeState::Stage::kInitiationConsumed;
}

namespace {
// (T_send_i, T_recv_i) = KDF2(C, empty); the responder's are the same, swapped.
void DeriveKeys(HandshakeState& hs, bool initiator, SessionKeys& keys) {
  Key32 first{}, second{};
  Kdf2(V(hs.chaining_key), ByteView(), first, second);
  keys.send = initiator ? first : second;
  keys.receive = initiator ? second : first;
  keys.local_index = hs.local_index;
  keys.remote_index = hs.remote_index;
  keys.initiator = initiator;
  Wipe(first);
  Wipe(second);
  hs.Clear();
}
}  // namespace

Response CreateResponse(const RemoteStatic& remote, HandshakeState& hs, RandomSource& rng,
                        uint32_t local_index, SessionKeys& keys) {
  Response m;
  hs.ephemeral_private = GenerateEphemeral(rng);
  m.ephemeral = PublicFromPrivate(V(hs.ephemeral_private));
  MixHash(hs.hash, V(m.ephemeral));
  Kdf1(V(hs.chaining_key), V(m.ephemeral), hs.chaining_key);

  const Key32 ee = Dh(V(hs.ephemeral_private), V(hs.remote_ephemeral)).value_or(Key32{});
  Kdf1(V(hs.chaining_key), V(ee), hs.chaining_key);
  const Key32 se = Dh(V(hs.ephemeral_private), V(remote.public_key)).value_or(Key32{});
  Kdf1(V(hs.chaining_key), V(se), hs.chaining_key);

  Key32 tau{}, key{};
  Kdf3(V(hs.chaining_key), V(remote.preshared_key), hs.chaining_key, tau, key);
  MixHash(hs.hash, V(tau));
  SealInto(key, ByteView(), V(hs.hash), m.encrypted_nothing);
  MixHash(hs.hash, V(m.encrypted_nothing));
  Wipe(tau);
  Wipe(key);

  m.sender = local_index;
  m.receiver = hs.remote_index;
  hs.local_index = local_index;
  hs.stage = HandshakeState::Stage::kResponseCreated;
  DeriveKeys(hs, /*initiator=*/false, keys);
  return m;
}

std::optional<SessionKeys> ConsumeResponse(const LocalStatic& local, const RemoteStatic& remote,
                                           HandshakeState& hs, const Response& m) {
  if (hs.stage != HandshakeState::Stage::kInitiationCreated || m.receiver != hs.local_index) {
    return std::nullopt;
  }
  // Work on copies: a forged response must not disturb the pending handshake.
  Key32 hash = hs.hash, ck = hs.chaining_key;
  MixHash(hash, V(m.ephemeral));
  Kdf1(V(ck), V(m.ephemeral), ck);
  const auto ee = Dh(V(hs.ephemeral_private), V(m.ephemeral));
  const auto se = Dh(V(local.private_key), V(m.ephemeral));
  if (!ee || !se) return std::nullopt;
  Kdf1(V(ck), V(*ee), ck);
  Kdf1(V(ck), V(*se), ck);
  Key32 tau{}, key{};
  Kdf3(V(ck), V(remote.preshared_key), ck, tau, key);
  MixHash(hash, V(tau));
  std::array<uint8_t, 0> nothing{};
  const bool ok = OpenInto(key, V(m.encrypted_nothing), V(hash), nothing);
  Wipe(tau);
  Wipe(key);
  if (!ok) return std::nullopt;
  MixHash(hash, V(m.encrypted_nothing));
  hs.hash = hash;
  hs.chaining_key = ck;
  hs.remote_index = m.sender;
  SessionKeys keys;
  DeriveKeys(hs, /*initiator=*/true, keys);
  return keys;
}

}  // namespace punchlab::wireguard
