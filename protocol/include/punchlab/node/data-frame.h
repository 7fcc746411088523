// Application data between nodes: the two data planes a Node can use.
//
// * WireGuard (protocol/wireguard), as Tailscale's: the node keys
//   are the WireGuard static keys, a handshake precedes the first data, and
//   over DERP the packet inside SendPacket is the WireGuard message. The Node
//   carries payloads, not IP packets, so it does not pad them (nothing would
//   tell their length back): a payload costs a transport message's 32 bytes
//   of header and tag.
// * The sealed frame (NodeConfig's default for now): punchlab's own, one NaCl
//   box per payload, no handshake, no counters, no replay protection:
//
//   type 0xD0 (1) || sender node public key (32) || nonce (24) ||
//   crypto_box(payload) (payload + 16)
//
// The box is between the two nodes' long-lived node keys (one precomputed
// SharedKey per peer), so neither a DERP server nor anything on the UDP path
// sees the payload, and a frame that names a sender whose key did not seal it
// does not open. The type byte keeps the socket's demultiplexer simple: STUN
// has its two top bits clear and disco starts with 'T' (0x54).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/derp/frames.h"
#include "punchlab/random.h"

namespace punchlab {
namespace node {

enum class DataPlane : uint8_t { kWireGuard, kSealedFrame };
const char* DataPlaneName(DataPlane p);  // "wireguard", "sealed-frame"

constexpr uint8_t kDataFrameType = 0xD0;
constexpr size_t kDataHeaderSize = 1 + kCurve25519KeySize;                      // 33
constexpr size_t kDataOverhead = kDataHeaderSize + kBoxNonceSize + kBoxOverhead;  // 73
// The largest payload that still fits one DERP packet in either data plane
// (the sealed frame's overhead is the larger).
constexpr size_t kMaxDataPayload = derp::kMaxPacketSize - kDataOverhead;

// Type byte present and long enough for header, nonce and MAC.
bool LooksLikeData(ByteView packet);

Bytes SealData(RandomSource& rng, const NodePublicKey& sender, const SharedKey& key,
               ByteView payload);

// The sender the frame names (not authenticated until OpenData succeeds).
std::optional<NodePublicKey> PeekDataSender(ByteView frame);

// The payload, or nullopt when the frame is too short, tampered, or was not
// sealed under `key`. Never throws, never reads past `frame`.
std::optional<Bytes> OpenData(const SharedKey& key, ByteView frame);

}  // namespace node
}  // namespace punchlab
