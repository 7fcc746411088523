// Compressed server messages, as Tailscale's map responses: a client asks
// for them in its register ("compress": "zstd", Tailscale's
// MapRequest.Compress), and from then on the server compresses every message
// it sends on that session, each as one independent zstd frame (what
// Tailscale's zstdframe.AppendEncode makes, at its fastest level) inside the
// sealed box: frame = length || nonce || box(zstd(JSON)). Independent frames
// need no per-connection history: a streaming context per session would keep
// a window per connection (~1.4 MB each at level 1) for < 2 % fewer bytes
// (bench/README.md, "Session 16 (zstd16)").
//
// libzstd on memory only (no threads, no files). A receiver bounds what a
// frame may expand to by its own frame limit, read from the frame's header
// before anything is allocated: a decompression bomb is refused as oversized
// (a counted drop), never allocated.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "punchlab/bytes.h"

struct ZSTD_CCtx_s;

namespace punchlab::control {

enum class Compression { kNone, kZstd };

// The register's "compress" value ("zstd"), or "" for kNone.
const char* CompressionName(Compression c);

// Compresses messages one frame each. Holds a zstd context, reused across
// messages (its tables, not their contents: frames stay independent); a copy
// starts its own context, so machines that copy (Clone) copy it freely.
class ZstdCompressor {
 public:
  ZstdCompressor();
  // For tests: a compressor whose context may allocate at most `budget`
  // bytes in all (frees do not give any back), so that compression fails as
  // it would when memory runs out.
  explicit ZstdCompressor(size_t budget);
  ZstdCompressor(const ZstdCompressor&);
  ZstdCompressor& operator=(const ZstdCompressor&);
  ZstdCompressor(ZstdCompressor&&) noexcept;
  ZstdCompressor& operator=(ZstdCompressor&&) noexcept;
  ~ZstdCompressor();

  // One zstd frame holding `message`, its size in the frame header; nullopt
  // if libzstd could not make it (no memory for its context or workspace,
  // or a parameter it refused): never throws.
  std::optional<Bytes> Compress(ByteView message);

 private:
  struct Free {
    void operator()(ZSTD_CCtx_s* ctx) const;
  };
  static void* BudgetAlloc(void* opaque, size_t size);
  static void BudgetFree(void* opaque, void* address);
  // The test constructor's limit and what the context allocated so far (a
  // copy starts again at zero); null: no limit. On the heap, so the
  // context's allocator keeps pointing at it when the compressor moves.
  struct Budget {
    size_t limit;
    size_t allocated = 0;
  };
  std::unique_ptr<Budget> budget_;
  std::unique_ptr<ZSTD_CCtx_s, Free> ctx_;  // made at first use
};

// The message in `frame`, one zstd frame and nothing after it that declares
// its decompressed size, at most `max_size` bytes. nullopt with `error` set
// otherwise; `too_large` says the declared size was above `max_size` (nothing
// was allocated for it).
std::optional<Bytes> ZstdDecompress(ByteView frame, size_t max_size, std::string& error,
                                    bool& too_large);

}  // namespace punchlab::control
