// Internal to the loader: reads yaml-cpp nodes against the schema table,
// turning every problem into a positioned Diagnostic instead of an exception.
//  * Map() accepts exactly the keys the schema lists for a section, reports
//    unknown ones with the closest known key, and repeated ones.
//  * Get() finds a key's value: written in the map, else inherited (a node
//    from `defaults`), else the schema's literal default, parsed as YAML and
//    read by the same code as the file's own values.
//  * The typed readers convert one value (quantities with units, names,
//    choices) or report why not and what to write.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "punchlab/time.h"
#include "scenario/loader.h"
#include "scenario/schema.h"

namespace punchlab {
namespace scenario {

// One value and where it came from. Never assign one YAML::Node to another
// (yaml-cpp's operator= writes into the shared tree): use reset().
struct Value {
  YAML::Node node;
  YAML::Mark mark;                 // the value's position (its key's when it has none)
  YAML::Mark key_mark;             // the key's position (= mark for list entries)
  std::string key_name;            // "latency"; "" for a list entry or a named map
  std::string where;               // the enclosing path: "internet", "traffic[2]"; "" = top
  const SchemaKey* key = nullptr;  // the schema row, when the value is a key's
  bool from_file = true;           // false: a schema default

  // For messages: "latency in internet", "stop_time", "traffic[2]".
  std::string what() const;
};

// A YAML map checked against a schema section.
class Fields {
 public:
  const std::string& path() const { return path_; }  // "" at the top level
  const YAML::Mark& mark() const { return mark_; }
  // The value written in this map, if any (not inherited, not a default).
  const Value* Own(std::string_view key) const;
  // Written here or in the map this one inherits from.
  bool Has(std::string_view key) const;

 private:
  friend class Reader;
  std::string path_;
  std::string section_;
  YAML::Mark mark_;
  std::vector<std::pair<std::string, Value>> entries_;
  const Fields* inherit_ = nullptr;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  // Repeats (same position and text) are dropped: a bad inherited value is
  // reported once, not once per node.
  void Error(const YAML::Mark& mark, const std::string& message);
  bool has_errors() const { return !errors_.empty(); }
  std::vector<Diagnostic> TakeErrors();

  // `value` as a map of `section`'s keys, named `path` in messages. Null is an
  // empty map. nullopt (and an error) when it is not a map.
  std::optional<Fields> Map(const Value& value, std::string path, std::string_view section,
                            const Fields* inherit = nullptr);
  // A list's entries, named path[i] (null = no entries); nullopt when not a list.
  std::optional<std::vector<Value>> List(const Value& value, const std::string& path);
  // A map's NAME: value entries (null = none), names checked; each value is
  // named "path.NAME". nullopt when not a map.
  std::optional<std::vector<std::pair<std::string, Value>>> NamedEntries(const Value& value,
                                                                         const std::string& path);

  // The value of `key` (written, inherited or the schema default); nullopt
  // when unset, with an error when the key is required.
  std::optional<Value> Get(const Fields& fields, std::string_view key);

  std::optional<std::string> Text(const Value& v);
  std::optional<std::string> Name(const Value& v);
  std::optional<std::vector<std::pair<std::string, YAML::Mark>>> NameList(const Value& v);
  // A list of scalars, each with its position (null = no entries).
  std::optional<std::vector<std::pair<std::string, YAML::Mark>>> TextList(const Value& v);
  struct TextEntry {
    std::string key;
    YAML::Mark key_mark;
    std::string value;
    YAML::Mark mark;
  };
  // A map of scalars to scalars (null = no entries), in file order.
  std::optional<std::vector<TextEntry>> TextMap(const Value& v);
  std::optional<uint64_t> Integer(const Value& v, uint64_t min, uint64_t max);
  std::optional<bool> Bool(const Value& v);
  std::optional<Duration> DurationOf(const Value& v);
  // Bits per second; `unlimited` gives 0 where allowed.
  std::optional<uint64_t> BitRate(const Value& v, bool allow_unlimited);
  std::optional<uint64_t> Size(const Value& v);
  std::optional<double> Percent(const Value& v);
  // One of v.key->choices.
  std::optional<std::string> Choice(const Value& v);

  // Get() then convert; nullopt when unset or invalid.
  std::optional<std::string> GetText(const Fields& f, std::string_view key);
  std::optional<std::string> GetName(const Fields& f, std::string_view key);
  std::optional<uint64_t> GetInteger(const Fields& f, std::string_view key, uint64_t min,
                                     uint64_t max);
  std::optional<bool> GetBool(const Fields& f, std::string_view key);
  std::optional<Duration> GetDuration(const Fields& f, std::string_view key);
  std::optional<uint64_t> GetBitRate(const Fields& f, std::string_view key, bool allow_unlimited);
  std::optional<uint64_t> GetSize(const Fields& f, std::string_view key);
  std::optional<double> GetPercent(const Fields& f, std::string_view key);
  std::optional<std::string> GetChoice(const Fields& f, std::string_view key);

  // "unknown node 'lptop' in traffic[0]; did you mean 'laptop'? (nodes: ...)" + extra.
  void UnknownName(const YAML::Mark& mark, std::string_view kind, std::string_view kinds,
                   std::string_view what, const std::string& name,
                   const std::vector<std::string>& known, std::string_view extra = {});

 private:
  // The text of a scalar, or an error saying the value must be one.
  std::optional<std::string> Scalar(const Value& v);
  std::optional<Value> GetKind(const Fields& f, std::string_view key, ValueKind kind);
  void BadValue(const Value& v, const std::string& text, std::string_view hint);

  std::string file_;
  std::vector<Diagnostic> errors_;
};

// Names of things in a scenario: letters, digits, '-', '_', '.'; starting
// with a letter or digit; at most 32 characters.
bool IsValidName(std::string_view name);

}  // namespace scenario
}  // namespace punchlab
