// libxml2 for the UPnP codec (internal): documents parsed from memory with
// no network, no DTD loading, no entity substitution and no error output,
// and owned by a unique_ptr; element lookups by local name.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <vector>

namespace punchlab {
namespace portmap {
namespace upnp {

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocFree>;

// Larger texts are refused before libxml2 sees them.
constexpr size_t kMaxXml = 64 * 1024;

// null when `text` is not well-formed XML (or over kMaxXml).
XmlDoc ParseXml(const std::string& text);
// The element's name without its prefix.
std::string LocalName(const xmlNode* node);
std::vector<xmlNode*> ChildElements(const xmlNode* node);
// The first child element with this local name, or null.
xmlNode* Child(const xmlNode* node, const char* local_name);
// Every element below `node` (depth first, document order) with this local name.
std::vector<xmlNode*> Descendants(xmlNode* node, const char* local_name);
// The element's text content, blanks at both ends trimmed.
std::string Text(const xmlNode* node);
// Serialises a built document: UTF-8, an XML declaration, and empty elements
// written as <a></a> (what IGDs' own parsers expect; miniupnpc writes them so).
std::string Serialize(xmlDoc* doc);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
