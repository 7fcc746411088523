#include "control/message-reader.h"

#include <utility>
#include <limits>
#include <string>

#include "punchlab/control/messages.h"

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
  bool binary(binary_t& v) { return Scalar({}, [&] { return dom_.binary(v); }); }

  bool start_object(size_t n) { return Open(false, [&] { return dom_.start_object(n); }); }
  bool start_array(size_t n) { return Open(true, [&] { return dom_.start_array(n); }); }
  bool end_object() { return Close([&] { return dom_.end_object(); }); }
  bool end_array() { return Close([&] { return dom_.end_array(); }); }

  bool key(string_t& k) {
    switch (mode_) {
      case Mode::kEntry:
        if (depth_ == 1) field_ = FieldNamed(k);
        return true;
      case Mode::kDom:
        // Depth 1 has keys only when the message is an object.
        if (dom_depth_ == 1) place_ = PlaceNamed(k);
        return dom_.key(k);
      case Mode::kList:  // (an array has no keys)
      case Mode::kSkip:
        return true;
    }
    return true;
  }

  bool parse_error(size_t position, const std::string& token, const json::exception& e) {
    return dom_.parse_error(position, token, e);
  }

 private:
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
    const string_t* text = nullptr;  // kString
    bool region_ok = false;          // kInt: within [0, kMaxRegionId]
    int64_t number = 0;
    static Value String(const string_t& s) { return {Kind::kString, &s, false, 0}; }
    static Value Int(bool ok, int64_t v) { return {Kind::kInt, nullptr, ok, v}; }
  };

  static Place PlaceNamed(const string_t& k) {
    if (k == "self") return Place::kSelf;
    if (k == "peers") return Place::kPeers;
    if (k == "changed") return Place::kChanged;
    if (k == "patched") return Place::kPatched;
    return Place::kNone;
  }

  static std::optional<Field> FieldNamed(const string_t& k) {
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
          EndpointItem(v.kind == Value::Kind::kString ? v.text : nullptr);
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
    const string_t& s = *v.text;
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
  void EndpointItem(const string_t* text) {
    ++endpoint_items_;
    if (endpoints_bad_ || endpoint_items_ > kMaxEndpoints) return;
    auto e = text ? Endpoint::Parse(*text) : std::nullopt;
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
};

}  // namespace

bool ReadMessageJson(ByteView bytes, ReadMessage& out) {
  out = ReadMessage{};
  Reader reader(out);
  // As json::parse: a parse error, or anything after the value, fails.
  return json::sax_parse(bytes.begin(), bytes.end(), &reader);
}

}  // namespace punchlab::control
