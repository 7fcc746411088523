#include "control/message-reader.h"

#include <algorithm>
#include <utility>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "punchlab/control/messages.h"
#include "punchlab/json.h"

namespace punchlab::control {
namespace {

using nlohmann::json;

static_assert(NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR == 11,
              "message-reader.cc uses nlohmann::detail::json_sax_dom_parser<json>, whose "
              "template parameters changed in 3.12: recheck its use before this version");
using Field = EntryRead::Field;
using Seen = EntryRead::Seen;

// The SAX handler. Outside the captured places every event goes to
// nlohmann's DOM builder (the one json::parse uses, so the DOM is the same;
// as there, the last of duplicate keys wins, in captured entries too).
class Reader {
 public:
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit Reader(ReadMessage& out) : out_(out), dom_(out.dom, /*allow_exceptions=*/false) {}

  bool null() { return Scalar({}, [&] { return dom_.null(); }); }
  bool boolean(bool v) { return Scalar({}, [&] { return dom_.boolean(v); }); }
  bool number_integer(json::number_integer_t v) {
    return Scalar(Value::Int(v >= 0 && v <= kMaxRegionId, v),
                  [&] { return dom_.number_integer(v); });
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return Scalar(Value::Int(v <= static_cast<uint64_t>(kMaxRegionId), static_cast<int64_t>(v)),
                  [&] { return dom_.number_unsigned(v); });
  }
  bool number_float(json::number_float_t v, const string_t& s) {
    return Scalar({}, [&] { return dom_.number_float(v, s); });
  }
  bool string(string_t& s) { return Scalar(Value::String(s), [&] { return dom_.string(s); }); }
  // The same for text that is not in a string_t (simdjson's).
  bool string(std::string_view s) {
    return Scalar(Value::String(s), [&] {
      string_t copy(s);
      return dom_.string(copy);
    });
  }
  bool binary(binary_t& v) { return Scalar({}, [&] { return dom_.binary(v); }); }

  bool start_object(size_t n) { return Open(false, [&] { return dom_.start_object(n); }); }
  bool start_array(size_t n) { return Open(true, [&] { return dom_.start_array(n); }); }
  bool end_object() { return Close([&] { return dom_.end_object(); }); }
  bool end_array() { return Close([&] { return dom_.end_array(); }); }

  bool key(string_t& k) { return Key(k, &k); }
  bool key(std::string_view k) { return Key(k, nullptr); }

  bool parse_error(size_t position, const std::string& token, const json::exception& e) {
    return dom_.parse_error(position, token, e);
  }

 private:
  // `owned` is k as a string_t when the caller has one (nlohmann's parser).
  bool Key(std::string_view k, string_t* owned) {
    switch (mode_) {
      case Mode::kEntry:
        if (depth_ == 1) field_ = FieldNamed(k);
        return true;
      case Mode::kDom:
        // Depth 1 has keys only when the message is an object.
        if (dom_depth_ == 1) place_ = PlaceNamed(k);
        if (owned) return dom_.key(*owned);
        {
          string_t copy(k);
          return dom_.key(copy);
        }
      case Mode::kList:  // (an array has no keys)
      case Mode::kSkip:
        return true;
    }
    return true;
  }

  enum class Mode : uint8_t {
    kDom,    // building the DOM
    kList,   // directly inside a captured "peers"/"changed"/"patched" array
    kEntry,  // inside a captured entry (depth_ >= 1)
    kSkip,   // inside a value no one reads (depth_ >= 1), then back to skip_to_
  };
  enum class Place : uint8_t { kNone, kSelf, kPeers, kChanged, kPatched };

  // A scalar as the entry fields see it.
  struct Value {
    enum class Kind : uint8_t { kOther, kString, kInt } kind = Kind::kOther;
    std::string_view text;     // kString
    bool region_ok = false;    // kInt: within [0, kMaxRegionId]
    int64_t number = 0;
    static Value String(std::string_view s) { return {Kind::kString, s, false, 0}; }
    static Value Int(bool ok, int64_t v) { return {Kind::kInt, {}, ok, v}; }
  };

  static Place PlaceNamed(std::string_view k) {
    if (k == "self") return Place::kSelf;
    if (k == "peers") return Place::kPeers;
    if (k == "changed") return Place::kChanged;
    if (k == "patched") return Place::kPatched;
    return Place::kNone;
  }

  static std::optional<Field> FieldNamed(std::string_view k) {
    static constexpr std::pair<const char*, Field> kNames[] = {
        {"node_key", Field::kNodeKey},       {"disco_key", Field::kDiscoKey},
        {"endpoints", Field::kEndpoints},    {"home_region", Field::kHomeRegion},
        {"address", Field::kAddress},        {"user", Field::kUser}};
    for (const auto& [name, field] : kNames) {
      if (k == name) return field;
    }
    return std::nullopt;
  }

  // Where a captured list's entries go.
  EntryList& ListAt(Place place) {
    switch (place) {
      case Place::kPeers: return out_.peers;
      case Place::kChanged: return out_.changed;
      default: return out_.patched;
    }
  }

  // The value of a top-level key we capture comes now: which one (once).
  Place TakePlace() {
    if (mode_ != Mode::kDom || dom_depth_ != 1) return Place::kNone;
    return std::exchange(place_, Place::kNone);
  }

  template <typename Dom>
  bool Scalar(const Value& v, Dom dom) {
    switch (mode_) {
      case Mode::kDom: {
        const Place place = TakePlace();
        if (place == Place::kSelf) {
          StartSelf(/*object=*/false);
          return dom_.null();
        }
        // A scalar "peers"/"changed"/"patched" stays in the DOM, for the
        // judge to refuse.
        if (place != Place::kNone) ListAt(place) = {};
        return dom();
      }
      case Mode::kList:
        NewEntry();  // not an object
        return true;
      case Mode::kEntry:
        if (depth_ == 1 && field_) {
          Judge(*field_, v);
        } else if (depth_ == 2 && in_endpoints_) {
          EndpointItem(v.kind == Value::Kind::kString ? &v.text : nullptr);
        }
        return true;
      case Mode::kSkip:
        return true;
    }
    return true;
  }

  template <typename Dom>
  bool Open(bool array, Dom dom) {
    switch (mode_) {
      case Mode::kDom: {
        const Place place = TakePlace();
        if (place == Place::kSelf) {
          StartSelf(/*object=*/!array);
          if (array) {
            Skip(Mode::kDom);
          } else {
            StartEntry(&*out_.self, &out_.self_read, Mode::kDom);
          }
          return dom_.null();
        }
        if (place != Place::kNone) {
          EntryList& list = ListAt(place);
          list = {};
          if (array) {
            // The DOM gets an empty array: the entries are read here.
            list_ = &list;
            mode_ = Mode::kList;
            return dom_.start_array(0) && dom_.end_array();
          }
        }
        ++dom_depth_;
        return dom();
      }
      case Mode::kList:
        NewEntry();
        if (array) {
          Skip(Mode::kList);  // not an object
        } else {
          list_->reads.back().object = true;
          StartEntry(&list_->nodes.back(), &list_->reads.back(), Mode::kList);
        }
        return true;
      case Mode::kEntry:
        if (depth_ == 1 && field_) {
          if (array && *field_ == Field::kEndpoints) {
            in_endpoints_ = true;
            endpoint_items_ = 0;
            endpoints_bad_ = false;
            node_->endpoints.clear();
          } else {
            Judge(*field_, Value{});
          }
        } else if (depth_ == 2 && in_endpoints_) {
          EndpointItem(nullptr);
        }
        ++depth_;
        return true;
      case Mode::kSkip:
        ++depth_;
        return true;
    }
    return true;
  }

  template <typename Dom>
  bool Close(Dom dom) {
    switch (mode_) {
      case Mode::kDom:
        --dom_depth_;
        return dom();
      case Mode::kList:  // the captured array ends
        mode_ = Mode::kDom;
        list_ = nullptr;
        return true;
      case Mode::kEntry:
        --depth_;
        if (depth_ == 1 && in_endpoints_) {
          in_endpoints_ = false;
          // As Fields::Endpoints: the size is judged before the items.
          (*read_)[Field::kEndpoints] = endpoint_items_ > kMaxEndpoints ? Seen::kWrongType
                                        : endpoints_bad_                ? Seen::kBadValue
                                                                        : Seen::kOk;
        }
        if (depth_ == 0) mode_ = after_entry_;
        return true;
      case Mode::kSkip:
        if (--depth_ == 0) mode_ = skip_to_;
        return true;
    }
    return true;
  }

  // ---- entries

  // "self" (again: the last one counts); only an object has fields.
  void StartSelf(bool object) {
    out_.self_read = {};
    out_.self_read.object = object;
    if (object) {
      out_.self.emplace();
    } else {
      out_.self.reset();
    }
  }

  void NewEntry() {
    list_->nodes.emplace_back();
    list_->reads.emplace_back();
  }

  void StartEntry(NodeInfo* node, EntryRead* read, Mode after) {
    node_ = node;
    read_ = read;
    after_entry_ = after;
    mode_ = Mode::kEntry;
    depth_ = 1;
    field_.reset();
    in_endpoints_ = false;
  }

  // Skips the array or object just opened.
  void Skip(Mode after) {
    skip_to_ = after;
    mode_ = Mode::kSkip;
    depth_ = 1;
  }

  // The value of one field of an entry (Value{} for an array or object).
  void Judge(Field f, const Value& v) {
    Seen& seen = (*read_)[f];
    if (f == Field::kHomeRegion) {
      seen = v.kind == Value::Kind::kInt && v.region_ok ? Seen::kOk : Seen::kBadValue;
      if (seen == Seen::kOk) node_->home_region = static_cast<RegionId>(v.number);
      return;
    }
    if (f == Field::kEndpoints || v.kind != Value::Kind::kString) {
      seen = Seen::kWrongType;
      return;
    }
    // The parsers take a std::string: the entry's one scratch string holds
    // the text (no allocation per field once it is long enough).
    const std::string& s = scratch_.assign(v.text);
    seen = Seen::kBadValue;
    switch (f) {
      case Field::kNodeKey:
        if (auto k = NodePublicKey::Parse(s); k && !k->IsZero()) {
          node_->node_key = *k;
          seen = Seen::kOk;
        }
        break;
      case Field::kDiscoKey:
        if (auto k = DiscoPublicKey::Parse(s); k && !k->IsZero()) {
          node_->disco_key = *k;
          seen = Seen::kOk;
        }
        break;
      case Field::kAddress:
        if (auto a = IpAddress::Parse(s)) {
          node_->address = *a;
          seen = Seen::kOk;
        }
        break;
      case Field::kUser:
        node_->user = s;
        seen = Seen::kOk;
        break;
      case Field::kEndpoints:
      case Field::kHomeRegion:
        break;
    }
  }

  // One item of an entry's endpoints array: its text, nullptr when it is not
  // a string.
  void EndpointItem(const std::string_view* text) {
    ++endpoint_items_;
    if (endpoints_bad_ || endpoint_items_ > kMaxEndpoints) return;
    auto e = text ? Endpoint::Parse(scratch_.assign(*text)) : std::nullopt;
    if (e) {
      node_->endpoints.push_back(*e);
    } else {
      endpoints_bad_ = true;
    }
  }

  ReadMessage& out_;
  // nlohmann's own SAX-to-DOM builder (detail:: but what json::parse runs).
  // Its template parameters changed in 3.12 (an input adapter was added):
  // the static_assert below names the versions this line was written for.
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  Mode mode_ = Mode::kDom;
  size_t dom_depth_ = 0;         // containers open in the DOM
  Place place_ = Place::kNone;   // the top-level key just read, when captured
  EntryList* list_ = nullptr;    // kList: where its entries go
  size_t depth_ = 0;             // kEntry, kSkip: containers open inside
  Mode after_entry_ = Mode::kDom;
  Mode skip_to_ = Mode::kDom;
  NodeInfo* node_ = nullptr;     // kEntry: the entry being read
  EntryRead* read_ = nullptr;
  std::optional<Field> field_;   // the entry's key just read, when known
  bool in_endpoints_ = false;    // inside the entry's endpoints array
  size_t endpoint_items_ = 0;
  bool endpoints_bad_ = false;
  std::string scratch_;  // the text being parsed (Judge, EndpointItem)
};

// Replays a document simdjson parsed as the SAX events nlohmann's parser
// would send for the same text, in document order (duplicate keys too).
// false: the document holds a number that is not an integer, which this
// does not replay (nlohmann's parser reads those itself), or a callback of
// the reader returned false, where nlohmann's sax_parse would stop (its
// parser then judges the text too).
class Replay {
 public:
  explicit Replay(Reader& reader) : reader_(reader) {}

  bool Value(simdjson::dom::element e) {
    using Type = simdjson::dom::element_type;
    // nlohmann's parser does not know a container's size before its end.
    constexpr size_t kUnknownSize = static_cast<size_t>(-1);
    switch (e.type()) {
      case Type::ARRAY: {
        if (!reader_.start_array(kUnknownSize)) return false;
        const simdjson::dom::array items = e.get_array().value_unsafe();
        for (simdjson::dom::element item : items) {
          if (!Value(item)) return false;
        }
        return reader_.end_array();
      }
      case Type::OBJECT: {
        if (!reader_.start_object(kUnknownSize)) return false;
        const simdjson::dom::object fields = e.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair field : fields) {
          if (!reader_.key(field.key) || !Value(field.value)) return false;
        }
        return reader_.end_object();
      }
      case Type::INT64: {
        // nlohmann's lexer: unsigned unless there is a minus sign ("-0" is
        // a double in simdjson, so a negative int64 here had one).
        const int64_t v = e.get_int64().value_unsafe();
        return v < 0 ? reader_.number_integer(v)
                     : reader_.number_unsigned(static_cast<uint64_t>(v));
      }
      case Type::UINT64:
        return reader_.number_unsigned(e.get_uint64().value_unsafe());
      case Type::STRING:
        return reader_.string(e.get_string().value_unsafe());
      case Type::BOOL:
        return reader_.boolean(e.get_bool().value_unsafe());
      case Type::NULL_VALUE:
        return reader_.null();
      case Type::DOUBLE:
        return false;
    }
    return false;
  }

 private:
  Reader& reader_;
};

// simdjson's reusable buffers (its parser keeps them between documents), and
// the message copied with the padding simdjson reads past its end. Only
// scratch: nothing in them outlives a call. They grow to the largest message
// read and stay, one set per thread (not per connection: a tailnet of N
// nodes would hold N of them).
struct SimdjsonScratch {
  simdjson::dom::parser parser;
  std::vector<uint8_t> padded;
};

}  // namespace

bool ReadMessageJsonSimdjson(ByteView bytes, ReadMessage& out) {
  out = ReadMessage{};
  thread_local SimdjsonScratch scratch;
  scratch.padded.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
  std::copy(bytes.begin(), bytes.end(), scratch.padded.begin());
  std::fill(scratch.padded.begin() + static_cast<std::ptrdiff_t>(bytes.size()),
            scratch.padded.end(), uint8_t{' '});
  simdjson::dom::element root;
  if (scratch.parser.parse(scratch.padded.data(), bytes.size(), /*realloc_if_needed=*/false)
          .get(root) != simdjson::SUCCESS) {
    return false;
  }
  Reader reader(out);
  return Replay(reader).Value(root);
}

bool ReadMessageJsonNlohmann(ByteView bytes, ReadMessage& out) {
  out = ReadMessage{};
  Reader reader(out);
  // As json::parse: a parse error, or anything after the value, fails.
  return json::sax_parse(bytes.begin(), bytes.end(), &reader);
}

bool ReadMessageJson(ByteView bytes, ReadMessage& out) {
  // Not JSON, though nlohmann's lexer would stop at the NUL (punchlab/json.h).
  if (HoldsRawNul(bytes)) {
    out = ReadMessage{};
    return false;
  }
  // What simdjson refused or did not replay, nlohmann's parser judges (its
  // verdict is the codec's): not JSON, or a number that is not an integer.
  return ReadMessageJsonSimdjson(bytes, out) || ReadMessageJsonNlohmann(bytes, out);
}

}  // namespace punchlab::control
