#include "punchlab/disco/sealer.h"

#include <utility>

namespace punchlab {
namespace disco {

const char* DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kNotDisco: return "not disco";
    case DropReason::kTooShort: return "too short";
    case DropReason::kUnknownSender: return "unknown sender key";
    case DropReason::kBoxFailed: return "box failed to open";
    case DropReason::kUnknownType: return "unknown message type";
    case DropReason::kBadPayload: return "bad payload";
  }
  return "unknown";
}

uint64_t SealerStats::DroppedTotal() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

DiscoSealer::DiscoSealer(DiscoPrivateKey mine, size_t max_peers)
    : mine_(std::move(mine)), max_peers_(max_peers) {}

DiscoSealer::AddPeerResult DiscoSealer::AddPeer(const DiscoPublicKey& peer) {
  if (HasPeer(peer)) return AddPeerResult::kAlreadyKnown;
  if (peers_.size() >= max_peers_) {
    ++stats_.peers_rejected_full;
    return AddPeerResult::kFull;
  }
  peers_.emplace(peer, Entry{});
  return AddPeerResult::kAdded;
}

const SharedKey* DiscoSealer::KeyOf(const DiscoPublicKey& peer, Entry& entry) {
  if (!entry.key && !entry.low_order) {
    entry.key = SharedKey::Compute(mine_, peer);
    if (entry.key) {
      ++stats_.keys_derived;
    } else {
      entry.low_order = true;
      ++stats_.peers_rejected_low_order;
    }
  }
  return entry.key ? &*entry.key : nullptr;
}

bool DiscoSealer::Prepare(const DiscoPublicKey& peer) {
  auto it = peers_.find(peer);
  return it != peers_.end() && KeyOf(peer, it->second) != nullptr;
}

size_t DiscoSealer::DerivedCount() const {
  size_t n = 0;
  for (const auto& [peer, entry] : peers_) n += entry.key ? 1 : 0;
  return n;
}

bool DiscoSealer::RemovePeer(const DiscoPublicKey& peer) { return peers_.erase(peer) != 0; }

std::optional<Bytes> DiscoSealer::Seal(RandomSource& rng, const DiscoPublicKey& to,
                                       const Message& m) {
  BoxNonce nonce{};
  rng.Fill(nonce.data(), nonce.size());
  return Seal(nonce, to, m);
}

std::optional<Bytes> DiscoSealer::Seal(const BoxNonce& nonce, const DiscoPublicKey& to,
                                       const Message& m) {
  return SealPlaintext(nonce, to, EncodeMessage(m));
}

std::optional<Bytes> DiscoSealer::SealPlaintext(const BoxNonce& nonce, const DiscoPublicKey& to,
                                                ByteView plaintext) {
  auto it = peers_.find(to);
  if (it == peers_.end()) return std::nullopt;
  const SharedKey* key = KeyOf(to, it->second);
  if (!key) return std::nullopt;
  Bytes out;
  out.reserve(kHeaderSize + kBoxOverhead + plaintext.size());
  ByteWriter w(out);
  w.Append(ByteView(kMagic.data(), kMagic.size()));
  w.Append(public_key().view());
  w.Append(key->Seal(nonce, plaintext));  // nonce || box
  ++stats_.sealed;
  return out;
}

std::optional<DiscoPublicKey> DiscoSealer::PeekSender(ByteView packet) {
  if (!LooksLikeDisco(packet)) return std::nullopt;
  return DiscoPublicKey::FromBytes(packet.sub(kMagicSize, kCurve25519KeySize));
}

OpenResult DiscoSealer::Drop(DropReason r) {
  ++stats_.dropped[static_cast<size_t>(r)];
  OpenResult out;
  out.drop = r;
  return out;
}

OpenResult DiscoSealer::Open(ByteView packet) {
  if (packet.size() < kMagicSize || packet.sub(0, kMagicSize) != ByteView(kMagic.data(), kMagicSize)) {
    return Drop(DropReason::kNotDisco);
  }
  if (packet.size() < kMinPacketSize) return Drop(DropReason::kTooShort);
  const std::optional<DiscoPublicKey> sender = PeekSender(packet);
  auto it = sender ? peers_.find(*sender) : peers_.end();
  if (it == peers_.end()) return Drop(DropReason::kUnknownSender);
  const SharedKey* key = KeyOf(*sender, it->second);
  if (!key) return Drop(DropReason::kUnknownSender);  // low-order: no one can be it
  std::optional<Bytes> plaintext = key->Open(packet.sub(kMagicSize + kCurve25519KeySize));
  if (!plaintext) return Drop(DropReason::kBoxFailed);
  DecodeResult decoded = DecodeMessage(*plaintext);
  switch (decoded.error) {
    case DecodeError::kNone: break;
    case DecodeError::kUnknownType: return Drop(DropReason::kUnknownType);
    // A sealed plaintext shorter than type+version is as malformed as a short payload.
    case DecodeError::kTooShort:
    case DecodeError::kBadPayload: return Drop(DropReason::kBadPayload);
  }
  ++stats_.opened;
  OpenResult out;
  out.opened = Opened{*sender, std::move(decoded.message)};
  return out;
}

}  // namespace disco
}  // namespace punchlab
