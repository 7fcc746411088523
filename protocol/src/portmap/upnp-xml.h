// libxml2 for the UPnP codec (internal): documents parsed from memory with
// no network, no DTD loading, no entity substitution and no error output,
// and owned by a unique_ptr; element lookups by local name.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace punchlab {
namespace portmap {
namespace upnp {

// libxml2's strings are unsigned char.
inline const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
inline const xmlChar* X(const std::string& s) { return X(s.c_str()); }

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

// A SOAP document: <s:Envelope xmlns:s=... s:encodingStyle=...><s:Body/>;
// the caller adds the one element the Body holds.
struct SoapDoc {
  XmlDoc doc;
  xmlNs* s = nullptr;  // the envelope's namespace (for s:Fault)
  xmlNode* body = nullptr;
};
SoapDoc NewSoapDoc();
// An unqualified child with text (escaped when written).
void AddPlain(xmlDoc* doc, xmlNode* parent, const char* name, const std::string& text);
// <s:Envelope ...><s:Body><u:ELEMENT xmlns:u=TYPE><NAME>VALUE</NAME>...
// </u:ELEMENT></s:Body></s:Envelope>: a call (ELEMENT = the action) or its
// response (the action + "Response"); the arguments are unqualified, as the
// specification's examples and every IGD expect.
std::string SoapEnvelope(const std::string& service_type, const std::string& element,
                         const std::vector<std::pair<std::string, std::string>>& arguments);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
