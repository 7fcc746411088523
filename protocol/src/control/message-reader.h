// Reads a control message's JSON as a stream of SAX events (nlohmann's SAX
// interface). Node entries (a netmap's "self" and the elements of its
// "peers", and of a peers_changed's "changed" and "patched") are decoded into
// NodeInfo as they are read; everything else becomes the usual DOM, built by
// nlohmann's own DOM builder. A netmap of N peers used to become a DOM of
// about 10 N small nodes (a std::map and a string per field) that was turned
// into NodeInfo and freed: a quarter of a tailnet of 1,000's CPU.
//
// simdjson parses the text and its document is replayed as those events:
// in a tailnet of 250's first 3 simulated seconds the JSON read took 1,680 M
// of the client decode's 2,008 M instructions (84 %) with nlohmann's lexer,
// and with simdjson the decode took 1,101 M (bench/README.md, "Session 15
// (json15)"). What simdjson refuses (anything not JSON, nesting past 1,024,
// integers past 64 bits, a byte order mark) or would read differently
// (numbers that are not integers: simdjson reads "-0" as a double, nlohmann
// as the integer 0) is parsed by nlohmann's parser instead, so every verdict
// and error stays nlohmann's: the codec writes none of these, so they cost
// only malformed messages. Text holding a raw NUL byte is refused before
// either parser runs (nlohmann's lexer would stop reading at it;
// punchlab/json.h).
//
// The reader only records how each field of an entry read (missing, of the
// wrong type, a bad value, fine); messages.cc judges them in the same order
// and words as every other field, and only for the message types that have
// entries. The message's "type" comes last (keys are sorted), so the reader
// cannot know it while reading: it reads these keys of any message.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "punchlab/bytes.h"
#include "punchlab/control/netmap.h"

namespace punchlab::control {

// The largest DERP region id a message may carry (a home region, a region of
// the DERP map): what RegionId holds. The reader and messages.cc judge by it.
inline constexpr int64_t kMaxRegionId = std::numeric_limits<RegionId>::max();

// How one node entry read.
struct EntryRead {
  enum class Field : uint8_t { kNodeKey, kDiscoKey, kEndpoints, kHomeRegion, kAddress, kUser };
  static constexpr size_t kFields = 6;
  enum class Seen : uint8_t {
    kMissing,
    kWrongType,  // endpoints: also more than kMaxEndpoints items
    kBadValue,   // a string that does not parse; endpoints: an item that is not ip:port
    kOk,
  };
  bool object = false;  // false: the entry is not a JSON object (no field read)
  std::array<Seen, kFields> seen{};

  Seen& operator[](Field f) { return seen[static_cast<size_t>(f)]; }
  Seen operator[](Field f) const { return seen[static_cast<size_t>(f)]; }
};

// The entries of one array ("peers", "changed" or "patched"), in order: nodes[i] holds
// what read well of entry i.
struct EntryList {
  std::vector<NodeInfo> nodes;
  std::vector<EntryRead> reads;
};

struct ReadMessage {
  // The message; a top-level "self" is null here and a top-level "peers",
  // "changed" or "patched" that is an array is empty here: their contents are
  // below.
  nlohmann::json dom;
  std::optional<NodeInfo> self;  // with self_read, when the message has "self"
  EntryRead self_read;
  EntryList peers;    // when dom["peers"] is an array
  EntryList changed;  // when dom["changed"] is an array
  // A peers_changed's patches (PeerPatch), read as entries with only some
  // fields; messages.cc judges them as patches.
  EntryList patched;  // when dom["patched"] is an array
};

// false when the bytes are not valid JSON: they hold a raw NUL
// (HoldsRawNul), or nlohmann::json::parse refuses them. Read by
// ReadMessageJsonSimdjson, or where it declines, ReadMessageJsonNlohmann.
bool ReadMessageJson(ByteView json, ReadMessage& out);

// The two parsers alone, for the fuzz target that holds them to the same
// result (tests/fuzz/control-json.cc). simdjson's is false when simdjson
// refuses the text or the text holds a number that is not an integer (see
// above); then `out` is unspecified.
bool ReadMessageJsonSimdjson(ByteView json, ReadMessage& out);
bool ReadMessageJsonNlohmann(ByteView json, ReadMessage& out);

}  // namespace punchlab::control
