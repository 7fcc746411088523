#include "portmap/upnp-xml.h"

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

namespace punchlab {
namespace portmap {
namespace upnp {
namespace {

constexpr const char* kSoapEnvelope = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr const char* kSoapEncoding = "http://schemas.xmlsoap.org/soap/encoding/";

// libxml2 sets up its global tables on first use; doing it once, up front,
// keeps two threads from racing through that first use.
void InitOnce() {
  static const bool done = [] {
    xmlInitParser();
    return true;
  }();
  (void)done;
}

std::string Trim(const std::string& s) {
  const char* blanks = " \t\r\n";
  const size_t start = s.find_first_not_of(blanks);
  if (start == std::string::npos) return "";
  return s.substr(start, s.find_last_not_of(blanks) - start + 1);
}

}  // namespace

XmlDoc ParseXml(const std::string& text) {
  if (text.empty() || text.size() > kMaxXml) return nullptr;
  InitOnce();
  // NONET: never fetch anything; no NOENT/DTDLOAD: entities stay unexpanded
  // and no external DTD is read; NOERROR/NOWARNING: nothing on stderr.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  return XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, options));
}

std::string LocalName(const xmlNode* node) {
  return node && node->name ? reinterpret_cast<const char*>(node->name) : "";
}

std::vector<xmlNode*> ChildElements(const xmlNode* node) {
  std::vector<xmlNode*> out;
  if (!node) return out;
  for (xmlNode* c = node->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

xmlNode* Child(const xmlNode* node, const char* local_name) {
  for (xmlNode* c : ChildElements(node)) {
    if (LocalName(c) == local_name) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> Descendants(xmlNode* node, const char* local_name) {
  std::vector<xmlNode*> out;
  // Iterative: a hostile document's depth cannot overflow the stack (libxml2
  // itself refuses nesting deeper than 256 without XML_PARSE_HUGE).
  const std::vector<xmlNode*> top = ChildElements(node);
  std::vector<xmlNode*> todo(top.rbegin(), top.rend());
  while (!todo.empty()) {
    xmlNode* n = todo.back();
    todo.pop_back();
    if (LocalName(n) == local_name) out.push_back(n);
    const std::vector<xmlNode*> kids = ChildElements(n);
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) todo.push_back(*it);
  }
  return out;
}

std::string Text(const xmlNode* node) {
  if (!node) return "";
  xmlChar* content = xmlNodeGetContent(node);
  if (!content) return "";
  std::string s(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return Trim(s);
}

std::string Serialize(xmlDoc* doc) {
  InitOnce();
  xmlBuffer* buffer = xmlBufferCreate();
  if (!buffer) return "";
  xmlSaveCtxt* save = xmlSaveToBuffer(buffer, "UTF-8", XML_SAVE_NO_EMPTY);
  std::string out;
  if (save) {
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    out.assign(reinterpret_cast<const char*>(xmlBufferContent(buffer)),
               static_cast<size_t>(xmlBufferLength(buffer)));
  }
  xmlBufferFree(buffer);
  return out;
}

SoapDoc NewSoapDoc() {
  SoapDoc d;
  d.doc.reset(xmlNewDoc(X("1.0")));
  xmlNode* envelope = xmlNewDocNode(d.doc.get(), nullptr, X("Envelope"), nullptr);
  xmlDocSetRootElement(d.doc.get(), envelope);
  d.s = xmlNewNs(envelope, X(kSoapEnvelope), X("s"));
  xmlSetNs(envelope, d.s);
  xmlSetNsProp(envelope, d.s, X("encodingStyle"), X(kSoapEncoding));
  d.body = xmlNewDocNode(d.doc.get(), d.s, X("Body"), nullptr);
  xmlAddChild(envelope, d.body);
  return d;
}

void AddPlain(xmlDoc* doc, xmlNode* parent, const char* name, const std::string& text) {
  // A node made without a namespace has none (xmlNewChild would give it the
  // parent's).
  xmlNode* n = xmlNewDocNode(doc, nullptr, X(name), nullptr);
  xmlAddChild(parent, n);
  if (!text.empty()) xmlNodeAddContent(n, X(text));
}

std::string SoapEnvelope(const std::string& service_type, const std::string& element,
                         const std::vector<std::pair<std::string, std::string>>& arguments) {
  SoapDoc d = NewSoapDoc();
  xmlNode* call = xmlNewDocNode(d.doc.get(), nullptr, X(element), nullptr);
  xmlAddChild(d.body, call);
  xmlSetNs(call, xmlNewNs(call, X(service_type), X("u")));
  for (const auto& [name, value] : arguments) AddPlain(d.doc.get(), call, name.c_str(), value);
  return Serialize(d.doc.get());
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
