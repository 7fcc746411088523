#include "scenario/yaml-reader.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "scenario/suggest.h"
#include "scenario/units.h"

namespace punchlab {
namespace scenario {

namespace {

// "in internet", "at the top level".
std::string In(const std::string& path) { return path.empty() ? "at the top level" : "in " + path; }

std::string KindOf(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (n.IsScalar()) return "a single value ('" + n.Scalar() + "')";
  return "empty";
}

bool HasPosition(const YAML::Node& n) { return n.IsDefined() && !n.IsNull() && n.Mark().line >= 0; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ExampleHint(const Value& v) {
  return v.key != nullptr && !v.key->example.empty() ? "; write e.g. " + v.key->example : "";
}

}  // namespace

std::string Value::what() const {
  if (key_name.empty()) return where;
  return where.empty() ? key_name : key_name + " in " + where;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 32 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

const Value* Fields::Own(std::string_view key) const {
  for (const auto& [name, value] : entries_) {
    if (name == key) return &value;
  }
  return nullptr;
}

bool Fields::Has(std::string_view key) const {
  for (const Fields* f = this; f != nullptr; f = f->inherit_) {
    if (f->Own(key) != nullptr) return true;
  }
  return false;
}

void Reader::Error(const YAML::Mark& mark, const std::string& message) {
  Diagnostic d;
  d.file = file_;
  if (mark.line >= 0) {
    d.line = mark.line + 1;
    d.column = mark.column + 1;
  }
  d.message = message;
  for (const Diagnostic& e : errors_) {
    if (e.line == d.line && e.column == d.column && e.message == d.message) return;
  }
  errors_.push_back(std::move(d));
}

std::vector<Diagnostic> Reader::TakeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return std::move(errors_);
}

std::optional<Fields> Reader::Map(const Value& value, std::string path, std::string_view section,
                                  const Fields* inherit) {
  Fields fields;
  fields.path_ = std::move(path);
  fields.section_ = std::string(section);
  fields.mark_ = value.mark;
  fields.inherit_ = inherit;
  const YAML::Node& node = value.node;
  if (!node.IsDefined() || node.IsNull()) return fields;
  const std::vector<std::string> known = SchemaKeyNames(section);
  if (!node.IsMap()) {
    const std::string subject = value.what().empty() ? "a scenario file" : value.what();
    Error(value.mark, subject + " must be a map of keys (" + JoinNames(known, 20) + "), not " +
                          KindOf(node) + ExampleHint(value));
    return std::nullopt;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: it->first is a temporary
    if (!key_node.IsScalar()) {
      Error(key_node.Mark(), "keys " + In(fields.path_) + " must be plain words, not " +
                                 KindOf(key_node));
      continue;
    }
    const std::string name = key_node.Scalar();
    const SchemaKey* row = FindSchemaKey(section, name);
    if (row == nullptr) {
      std::optional<std::string> guess;
      for (const SchemaKey& k : SchemaKeys()) {
        if (k.section != section) continue;
        for (const std::string& alias : k.aliases) {
          if (!guess && Lower(alias) == Lower(name)) guess = k.key;
        }
      }
      if (!guess) guess = ClosestMatch(name, known);
      Error(key_node.Mark(), "unknown key '" + name + "' " + In(fields.path_) +
                                 (guess ? "; did you mean '" + *guess + "'?" : "") + " (keys: " +
                                 JoinNames(known, 20) + ")");
      continue;
    }
    if (const Value* first = fields.Own(name)) {
      Error(key_node.Mark(), "key '" + name + "' appears twice " + In(fields.path_) +
                                 " (first at line " + std::to_string(first->key_mark.line + 1) +
                                 "); keep one");
      continue;
    }
    Value v;
    v.node.reset(it->second);
    v.key_mark = key_node.Mark();
    // yaml-cpp places an empty value at the start of the next line.
    v.mark = HasPosition(it->second) ? it->second.Mark() : key_node.Mark();
    v.key_name = name;
    v.where = fields.path_;
    v.key = row;
    fields.entries_.emplace_back(name, std::move(v));
  }
  return fields;
}

std::optional<std::vector<Value>> Reader::List(const Value& value, const std::string& path) {
  std::vector<Value> items;
  const YAML::Node& node = value.node;
  if (!node.IsDefined() || node.IsNull()) return items;
  if (!node.IsSequence()) {
    Error(value.mark, value.what() + " must be a list (entries start with '- '), not " +
                          KindOf(node) + ExampleHint(value));
    return std::nullopt;
  }
  size_t i = 0;
  for (const YAML::Node& entry : node) {
    Value v;
    v.node.reset(entry);
    v.mark = HasPosition(entry) ? entry.Mark() : value.mark;
    v.key_mark = v.mark;
    v.where = path + "[" + std::to_string(i++) + "]";
    v.from_file = value.from_file;
    items.push_back(std::move(v));
  }
  return items;
}

std::optional<std::vector<std::pair<std::string, Value>>> Reader::NamedEntries(
    const Value& value, const std::string& path) {
  std::vector<std::pair<std::string, Value>> entries;
  const YAML::Node& node = value.node;
  if (!node.IsDefined() || node.IsNull()) return entries;
  if (!node.IsMap()) {
    Error(value.mark, value.what() + " must be a map of NAME: {...} entries, not " +
                          KindOf(node) + ExampleHint(value));
    return std::nullopt;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: it->first is a temporary
    const std::string name = key_node.IsScalar() ? key_node.Scalar() : "";
    if (!key_node.IsScalar() || !IsValidName(name)) {
      Error(key_node.Mark(),
            "'" + (key_node.IsScalar() ? name : KindOf(key_node)) + "' in " + path +
                " is not a valid name; use letters, digits, '-', '_' and '.', starting with a "
                "letter or digit (at most 32 characters)");
      continue;
    }
    auto same = std::find_if(entries.begin(), entries.end(),
                             [&](const auto& e) { return e.first == name; });
    if (same != entries.end()) {
      Error(key_node.Mark(), "'" + name + "' appears twice in " + path + " (first at line " +
                                 std::to_string(same->second.key_mark.line + 1) +
                                 "); give each a distinct name");
      continue;
    }
    Value v;
    v.node.reset(it->second);
    v.key_mark = key_node.Mark();
    v.mark = HasPosition(it->second) ? it->second.Mark() : key_node.Mark();
    v.where = path + "." + name;
    entries.emplace_back(name, std::move(v));
  }
  return entries;
}

std::optional<Value> Reader::Get(const Fields& fields, std::string_view key) {
  const SchemaKey* row = FindSchemaKey(fields.section_, key);
  if (row == nullptr) {
    throw std::logic_error("scenario schema has no key '" + std::string(key) + "' in " +
                           fields.section_);
  }
  for (const Fields* f = &fields; f != nullptr; f = f->inherit_) {
    if (const Value* v = f->Own(key)) return *v;
  }
  switch (row->default_kind) {
    case DefaultKind::kRequired:
      Error(fields.mark_, "missing key '" + std::string(key) + "' " + In(fields.path_) +
                              "; write e.g. " + row->example);
      return std::nullopt;
    case DefaultKind::kLiteral: {
      Value v;
      v.node.reset(YAML::Load(row->default_text));
      v.mark = fields.mark_;
      v.key_mark = fields.mark_;
      v.key_name = std::string(key);
      v.where = fields.path_;
      v.key = row;
      v.from_file = false;
      return v;
    }
    case DefaultKind::kComputed:
    case DefaultKind::kUnset:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Value> Reader::GetKind(const Fields& f, std::string_view key, ValueKind kind) {
  const SchemaKey* row = FindSchemaKey(f.section_, key);
  if (row == nullptr || row->kind != kind) {
    throw std::logic_error("scenario schema: " + f.section_ + "." + std::string(key) +
                           " is read as another type than the schema says");
  }
  return Get(f, key);
}

std::optional<std::string> Reader::Scalar(const Value& v) {
  if (!v.node.IsDefined() || v.node.IsNull()) {
    Error(v.mark, v.what() + " has no value" + ExampleHint(v));
    return std::nullopt;
  }
  if (!v.node.IsScalar()) {
    Error(v.mark, v.what() + " must be a single value, not " + KindOf(v.node) + ExampleHint(v));
    return std::nullopt;
  }
  return v.node.Scalar();
}

void Reader::BadValue(const Value& v, const std::string& text, std::string_view hint) {
  Error(v.mark, v.what() + ": '" + text + "' " + std::string(hint));
}

std::optional<std::string> Reader::Text(const Value& v) { return Scalar(v); }

std::optional<std::string> Reader::Name(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  if (!IsValidName(*text)) {
    BadValue(v, *text,
             "is not a valid name; use letters, digits, '-', '_' and '.', starting with a "
             "letter or digit (at most 32 characters)");
    return std::nullopt;
  }
  return text;
}

std::optional<std::vector<std::pair<std::string, YAML::Mark>>> Reader::NameList(const Value& v) {
  if (!v.node.IsSequence()) {
    Error(v.mark, v.what() + " must be a list of names, not " + KindOf(v.node) + ExampleHint(v));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, YAML::Mark>> names;
  bool ok = true;
  for (const YAML::Node& item : v.node) {
    Value element = v;
    element.node.reset(item);
    element.mark = HasPosition(item) ? item.Mark() : v.mark;
    auto name = Name(element);
    if (!name) {
      ok = false;
      continue;
    }
    names.emplace_back(*name, element.mark);
  }
  if (!ok) return std::nullopt;
  return names;
}

std::optional<std::vector<std::pair<std::string, YAML::Mark>>> Reader::TextList(const Value& v) {
  if (v.node.IsNull()) return std::vector<std::pair<std::string, YAML::Mark>>{};
  if (!v.node.IsSequence()) {
    Error(v.mark, v.what() + " must be a list, not " + KindOf(v.node) + ExampleHint(v));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, YAML::Mark>> out;
  bool ok = true;
  for (const YAML::Node& item : v.node) {
    Value element = v;
    element.node.reset(item);
    element.mark = HasPosition(item) ? item.Mark() : v.mark;
    auto text = Scalar(element);
    if (!text) {
      ok = false;
      continue;
    }
    out.emplace_back(*text, element.mark);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<Reader::TextEntry>> Reader::TextMap(const Value& v) {
  if (v.node.IsNull()) return std::vector<TextEntry>{};
  if (!v.node.IsMap()) {
    Error(v.mark, v.what() + " must be a map of NAME: text, not " + KindOf(v.node) +
                      ExampleHint(v));
    return std::nullopt;
  }
  std::vector<TextEntry> out;
  bool ok = true;
  for (const auto& item : v.node) {
    Value key = v;
    key.node.reset(item.first);
    key.mark = HasPosition(item.first) ? item.first.Mark() : v.mark;
    Value value = v;
    value.node.reset(item.second);
    value.mark = HasPosition(item.second) ? item.second.Mark() : key.mark;
    auto k = Scalar(key);
    auto text = Scalar(value);
    if (!k || !text) {
      ok = false;
      continue;
    }
    for (const TextEntry& e : out) {
      if (e.key == *k) {
        Error(key.mark, v.what() + " names '" + *k + "' twice (line " +
                            std::to_string(e.key_mark.line + 1) + ")");
        ok = false;
      }
    }
    out.push_back({*k, key.mark, *text, value.mark});
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<uint64_t> Reader::Integer(const Value& v, uint64_t min, uint64_t max) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  uint64_t n = 0;
  bool ok = !text->empty() && text->size() <= 20;
  for (char c : *text) {
    if (c < '0' || c > '9' || __builtin_mul_overflow(n, uint64_t{10}, &n) ||
        __builtin_add_overflow(n, static_cast<uint64_t>(c - '0'), &n)) {
      ok = false;
      break;
    }
  }
  if (!ok || n < min || n > max) {
    BadValue(v, *text,
             "is not a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                 ExampleHint(v));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Reader::Bool(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  const std::string t = Lower(*text);
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  BadValue(v, *text, "is not true or false" + ExampleHint(v));
  return std::nullopt;
}

std::optional<Duration> Reader::DurationOf(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  if (auto d = Duration::Parse(*text)) return d;
  BadValue(v, *text,
           std::string(IsBareNumber(*text) ? "has no unit" : "is not a duration") +
               "; write a duration like 20ms or 1.5s (units: ns, us, ms, s, m, h)");
  return std::nullopt;
}

std::optional<uint64_t> Reader::BitRate(const Value& v, bool allow_unlimited) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  if (allow_unlimited && *text == "unlimited") return 0;
  auto rate = ParseBitRate(*text);
  if (rate && *rate > 0) return rate;
  const std::string problem = rate                   ? "is no bit rate at all"
                              : IsBareNumber(*text) ? "has no unit"
                                                    : "is not a bit rate";
  BadValue(v, *text,
           problem + "; write a bit rate like 10Mbit or 1Gbit" +
               (allow_unlimited ? " (or unlimited)" : ""));
  return std::nullopt;
}

std::optional<uint64_t> Reader::Size(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  if (auto size = ParseSize(*text)) return size;
  BadValue(v, *text,
           std::string(IsBareNumber(*text) ? "has no unit" : "is not a whole number of bytes") +
               "; write a size like 200B or 1.5KiB");
  return std::nullopt;
}

std::optional<double> Reader::Percent(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  if (auto p = ParsePercent(*text)) return p;
  BadValue(v, *text,
           std::string(IsBareNumber(*text) ? "has no unit" : "is not a percentage") +
               "; write a percentage from 0% to 100% like 1% or 0.5%");
  return std::nullopt;
}

std::optional<std::string> Reader::Choice(const Value& v) {
  auto text = Scalar(v);
  if (!text) return std::nullopt;
  const std::vector<std::string>& choices = v.key->choices;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  const auto guess = ClosestMatch(*text, choices);
  Error(v.mark, "unknown " + v.key_name + " '" + *text + "' " + In(v.where) +
                    (guess ? "; did you mean '" + *guess + "'?" : "") + " (one of: " +
                    JoinNames(choices, 20) + ")");
  return std::nullopt;
}

void Reader::UnknownName(const YAML::Mark& mark, std::string_view kind, std::string_view kinds,
                         std::string_view what, const std::string& name,
                         const std::vector<std::string>& known, std::string_view extra) {
  const auto guess = ClosestMatch(name, known);
  std::string message = "unknown " + std::string(kind) + " '" + name + "' in " +
                        std::string(what);
  if (guess) message += "; did you mean '" + *guess + "'?";
  message += known.empty() ? " (there are no " + std::string(kinds) + ")"
                           : " (" + std::string(kinds) + ": " + JoinNames(known) + ")";
  Error(mark, message + std::string(extra));
}

std::optional<std::string> Reader::GetText(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kText);
  return v ? Text(*v) : std::nullopt;
}
std::optional<std::string> Reader::GetName(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kName);
  return v ? Name(*v) : std::nullopt;
}
std::optional<uint64_t> Reader::GetInteger(const Fields& f, std::string_view key, uint64_t min,
                                           uint64_t max) {
  auto v = GetKind(f, key, ValueKind::kInteger);
  return v ? Integer(*v, min, max) : std::nullopt;
}
std::optional<bool> Reader::GetBool(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kBool);
  return v ? Bool(*v) : std::nullopt;
}
std::optional<Duration> Reader::GetDuration(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kDuration);
  return v ? DurationOf(*v) : std::nullopt;
}
std::optional<uint64_t> Reader::GetBitRate(const Fields& f, std::string_view key,
                                           bool allow_unlimited) {
  auto v = GetKind(f, key, ValueKind::kBitRate);
  return v ? BitRate(*v, allow_unlimited) : std::nullopt;
}
std::optional<uint64_t> Reader::GetSize(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kSize);
  return v ? Size(*v) : std::nullopt;
}
std::optional<double> Reader::GetPercent(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kPercent);
  return v ? Percent(*v) : std::nullopt;
}
std::optional<std::string> Reader::GetChoice(const Fields& f, std::string_view key) {
  auto v = GetKind(f, key, ValueKind::kChoice);
  return v ? Choice(*v) : std::nullopt;
}

}  // namespace scenario
}  // namespace punchlab
