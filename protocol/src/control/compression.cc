#include "punchlab/control/compression.h"

// For ZSTD_createCCtx_advanced (the test constructor's allocator); exported
// by libzstd's shared library.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <cstdlib>
#include <memory>

namespace punchlab::control {

namespace {
// Tailscale's servers compress map responses at their fastest setting
// (zstdframe.FastestCompression, klauspost's SpeedFastest, about zstd's level
// 1). Measured on the fully visible tailnet of 1,000's messages, level 1
// also compresses better than 3 here (3.36x against 3.01x): bench/README.md.
constexpr int kLevel = 1;

}  // namespace

void* ZstdCompressor::BudgetAlloc(void* opaque, size_t size) {
  auto* b = static_cast<Budget*>(opaque);
  if (size > b->limit - b->allocated) return nullptr;
  b->allocated += size;
  return std::malloc(size);
}

void ZstdCompressor::BudgetFree(void*, void* address) { std::free(address); }

const char* CompressionName(Compression c) { return c == Compression::kZstd ? "zstd" : ""; }

void ZstdCompressor::Free::operator()(ZSTD_CCtx_s* ctx) const { ZSTD_freeCCtx(ctx); }

ZstdCompressor::ZstdCompressor() = default;
ZstdCompressor::ZstdCompressor(size_t budget) : budget_(std::make_unique<Budget>(Budget{budget})) {}
ZstdCompressor::ZstdCompressor(const ZstdCompressor& other) {
  if (other.budget_) budget_ = std::make_unique<Budget>(Budget{other.budget_->limit});
}
ZstdCompressor& ZstdCompressor::operator=(const ZstdCompressor& other) {
  if (this != &other) {
    ctx_.reset();
    budget_.reset();
    if (other.budget_) budget_ = std::make_unique<Budget>(Budget{other.budget_->limit});
  }
  return *this;
}
ZstdCompressor::ZstdCompressor(ZstdCompressor&&) noexcept = default;
ZstdCompressor& ZstdCompressor::operator=(ZstdCompressor&&) noexcept = default;
ZstdCompressor::~ZstdCompressor() = default;

std::optional<Bytes> ZstdCompressor::Compress(ByteView message) {
  if (!ctx_) {
    if (budget_) {
      ctx_.reset(ZSTD_createCCtx_advanced(ZSTD_customMem{BudgetAlloc, BudgetFree, budget_.get()}));
    } else {
      ctx_.reset(ZSTD_createCCtx());
    }
    if (!ctx_) return std::nullopt;
    // The content size in the header lets the receiver bound its buffer
    // before decoding; no checksum: the box around the frame authenticates.
    if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, kLevel)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_checksumFlag, 0))) {
      ctx_.reset();  // the next message tries a fresh context
      return std::nullopt;
    }
  }
  Bytes out(ZSTD_compressBound(message.size()));
  const size_t n =
      ZSTD_compress2(ctx_.get(), out.data(), out.size(), message.data(), message.size());
  if (ZSTD_isError(n)) return std::nullopt;
  out.resize(n);
  return out;
}

std::optional<Bytes> ZstdDecompress(ByteView frame, size_t max_size, std::string& error,
                                    bool& too_large) {
  too_large = false;
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) {
    error = "not a zstd frame";
    return std::nullopt;
  }
  if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
    error = "zstd frame does not declare its decompressed size";
    return std::nullopt;
  }
  if (size > max_size) {
    too_large = true;
    error = "compressed message would decompress to " + std::to_string(size) +
            " bytes, above the " + std::to_string(max_size) + "-byte limit";
    return std::nullopt;
  }
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) {
    error = std::string("zstd frame: ") + ZSTD_getErrorName(frame_size);
    return std::nullopt;
  }
  if (frame_size != frame.size()) {
    error = std::to_string(frame.size() - frame_size) + " bytes after the zstd frame";
    return std::nullopt;
  }
  // At most max_size: the header's size bounds the buffer, and decoding
  // more than it into the buffer is an error, not a reallocation.
  Bytes out(static_cast<size_t>(size));
  const size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    error = std::string("zstd frame: ") + ZSTD_getErrorName(n);
    return std::nullopt;
  }
  if (n != out.size()) {
    error = "zstd frame holds " + std::to_string(n) + " bytes where its header says " +
            std::to_string(size);
    return std::nullopt;
  }
  return out;
}

}  // namespace punchlab::control
