// A control message's JSON read by both of the codec's parsers
// (protocol/src/control/message-reader.h): simdjson, which reads what the
// codec writes, and nlohmann's, which judges what simdjson declines.
//
// Invariants: whatever simdjson reads, nlohmann's parser reads too, to the
// same DOM and the same node entries, field by field (so the codec's verdict
// and error words are nlohmann's for every text); decoding the message as a
// whole yields a message or names its error, never both, and text holding a
// raw NUL byte never decodes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "control/message-reader.h"
#include "fuzz-check.h"
#include "punchlab/control/messages.h"
#include "punchlab/json.h"

using namespace punchlab;
using namespace punchlab::control;

namespace {

bool SameRead(const EntryRead& a, const EntryRead& b) {
  return a.object == b.object && a.seen == b.seen;
}

bool SameList(const EntryList& a, const EntryList& b) {
  if (a.nodes != b.nodes || a.reads.size() != b.reads.size()) return false;
  for (size_t i = 0; i < a.reads.size(); ++i) {
    if (!SameRead(a.reads[i], b.reads[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView bytes(data, size);
  ReadMessage simd;
  if (ReadMessageJsonSimdjson(bytes, simd)) {
    ReadMessage nl;
    FUZZ_CHECK(ReadMessageJsonNlohmann(bytes, nl));
    FUZZ_CHECK(simd.dom == nl.dom);
    FUZZ_CHECK(simd.self == nl.self);
    FUZZ_CHECK(SameRead(simd.self_read, nl.self_read));
    FUZZ_CHECK(SameList(simd.peers, nl.peers));
    FUZZ_CHECK(SameList(simd.changed, nl.changed));
    FUZZ_CHECK(SameList(simd.patched, nl.patched));
  }
  std::string error;
  const auto decoded = DecodeMessage(bytes, error);
  FUZZ_CHECK(decoded.has_value() == error.empty());
  // A raw NUL is not JSON, though nlohmann's lexer would stop reading at it.
  FUZZ_CHECK(!decoded || !HoldsRawNul(bytes));
  return 0;
}
