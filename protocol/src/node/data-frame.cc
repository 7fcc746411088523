#include "punchlab/node/data-frame.h"

namespace punchlab {
namespace node {

const char* DataPlaneName(DataPlane p) {
  switch (p) {
    case DataPlane::kWireGuard: return "wireguard";
    case DataPlane::kSealedFrame: return "sealed-frame";
  }
  return "unknown";
}

bool LooksLikeData(ByteView packet) {
  return packet.size() >= kDataOverhead && packet[0] == kDataFrameType;
}

Bytes SealData(RandomSource& rng, const NodePublicKey& sender, const SharedKey& key,
               ByteView payload) {
  Bytes out;
  out.reserve(kDataOverhead + payload.size());
  ByteWriter w(out);
  w.U8(kDataFrameType);
  w.Append(sender.view());
  w.Append(key.Seal(rng, payload));
  return out;
}

std::optional<NodePublicKey> PeekDataSender(ByteView frame) {
  if (!LooksLikeData(frame)) return std::nullopt;
  return NodePublicKey::FromBytes(frame.sub(1, kCurve25519KeySize));
}

std::optional<Bytes> OpenData(const SharedKey& key, ByteView frame) {
  if (!LooksLikeData(frame)) return std::nullopt;
  return key.Open(frame.sub(kDataHeaderSize));
}

}  // namespace node
}  // namespace punchlab
