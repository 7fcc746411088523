// The one table of scenario keys: for every section, its keys with type,
// default and meaning. It drives the loader (which keys a section accepts,
// what an absent key means: literal defaults are YAML the loader reads with
// the same code as the file), `punchlab schema` (text and --markdown) and
// scenarios/REFERENCE.md (the committed markdown; a test keeps it equal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace punchlab {
namespace scenario {

// Section names: where a key can be written. "NAME" stands for a user's name,
// "[]" for any entry of a list.
namespace section {
inline constexpr std::string_view kTop = "top level";
inline constexpr std::string_view kInternet = "internet";
inline constexpr std::string_view kDerp = "derp";
inline constexpr std::string_view kDerpRegion = "derp.regions[]";
inline constexpr std::string_view kControl = "control";
inline constexpr std::string_view kAcl = "control.acls[]";
inline constexpr std::string_view kNat = "nats.NAME";
inline constexpr std::string_view kPortMapping = "nats.NAME.port_mapping";
inline constexpr std::string_view kFirewall = "firewalls.NAME";
inline constexpr std::string_view kNode = "nodes.NAME";  // also `defaults`
inline constexpr std::string_view kRun = "nodes.NAME.run";  // also defaults.run
inline constexpr std::string_view kLink = "link";        // a node's or box's `link`
inline constexpr std::string_view kTraffic = "traffic[]";
inline constexpr std::string_view kIdle = "traffic[].idle[]";
inline constexpr std::string_view kEvent = "events[]";
inline constexpr std::string_view kExpect = "expect[]";
}  // namespace section

enum class ValueKind : uint8_t {
  kText,       // any string
  kTextList,   // a list of strings
  kTextMap,    // NAME: string
  kName,       // a name: letters, digits, '-', '_', '.'
  kNameList,   // a list of names
  kInteger,
  kBool,       // true/false (on/off, yes/no)
  kDuration,   // 20ms, 1.5s
  kBitRate,    // 10Mbit (or unlimited where the key says so)
  kSize,       // 200B, 1.5KiB
  kPercent,    // 1%, 0.5%
  kChoice,     // one of SchemaKey::choices
  kPortRules,  // a list of udp:41641, tcp:8000-8100, udp
  kMap,        // a map of the keys of SchemaKey::subsection
  kNamedMaps,  // NAME: {keys of subsection}
  kList,       // a list of maps of the keys of subsection
};

enum class DefaultKind : uint8_t {
  kRequired,  // must be written
  kLiteral,   // default_text is YAML, read like the file's own value
  kComputed,  // default_text says how it is derived
  kUnset,     // absent means "not set"; default_text says what that means
};

struct SchemaKey {
  std::string section;
  std::string key;
  ValueKind kind = ValueKind::kText;
  std::vector<std::string> choices;  // kChoice
  std::string subsection;            // kMap, kNamedMaps, kList
  DefaultKind default_kind = DefaultKind::kLiteral;
  std::string default_text;
  std::string example;      // YAML for messages and docs, e.g. "latency: 20ms"
  std::string description;  // a sentence or two
  std::vector<std::string> aliases;  // what people write by mistake, for suggestions
};

struct SchemaSection {
  std::string name;
  std::string applies;      // where in a file these keys go
  std::string description;
};

// In document order.
const std::vector<SchemaSection>& SchemaSections();
const std::vector<SchemaKey>& SchemaKeys();

const SchemaKey* FindSchemaKey(std::string_view section, std::string_view key);
std::vector<std::string> SchemaKeyNames(std::string_view section);
// As documented: "duration", "one of: direct, derp, local, none", ...
std::string TypeName(const SchemaKey& key);
// As documented: "20ms", "required", "when both nodes have started", ...
std::string DefaultName(const SchemaKey& key);

// The largest traffic `size`: one data frame in one UDP datagram.
uint64_t MaxFlowPacketSize();

// A small complete scenario, shown at the top of the reference (and loaded by
// a test, so the reference never shows a file the loader rejects).
std::string_view SchemaExample();

// `punchlab schema` and `punchlab schema --markdown` (= scenarios/REFERENCE.md).
std::string RenderSchemaText();
std::string RenderSchemaMarkdown();

}  // namespace scenario
}  // namespace punchlab
