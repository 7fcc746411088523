#include "results/write-junit.h"

namespace punchlab {
namespace results {

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': case '\n': case '\r': out += c; break;
      default: out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string JunitXmlText(const Results& r) {
  size_t failures = 0;
  for (const ExpectationResult& e : r.expectations) failures += e.ok ? 0 : 1;
  const std::string counts = " tests=\"" + std::to_string(r.expectations.size()) +
                             "\" failures=\"" + std::to_string(failures) + "\"";
  const std::string suite = XmlEscape(r.scenario);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"punchlab\"" + counts + ">\n";
  out += "  <testsuite name=\"" + suite + "\"" + counts + " errors=\"0\" skipped=\"0\">\n";
  out += "    <properties>\n";
  out += "      <property name=\"file\" value=\"" + XmlEscape(r.file) + "\"/>\n";
  out += "      <property name=\"mode\" value=\"" + std::string(ToString(r.mode)) + "\"/>\n";
  out += "      <property name=\"seed\" value=\"" + std::to_string(r.seed) + "\"/>\n";
  out += "    </properties>\n";
  for (const ExpectationResult& e : r.expectations) {
    out += "    <testcase classname=\"" + suite + "\" name=\"" + XmlEscape(e.text) +
           "\" file=\"" + XmlEscape(r.file) + "\" line=\"" + std::to_string(e.where.line) +
           "\"";
    if (e.ok) {
      out += "/>\n";
      continue;
    }
    out += ">\n      <failure message=\"" + XmlEscape(e.observed) + "\">" +
           XmlEscape(e.observed) + "</failure>\n    </testcase>\n";
  }
  if (!r.notes.empty()) {
    out += "    <system-out>";
    for (const std::string& note : r.notes) out += XmlEscape(note) + "\n";
    out += "</system-out>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace results
}  // namespace punchlab
