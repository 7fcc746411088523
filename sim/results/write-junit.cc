#include "results/write-junit.h"

namespace punchlab {
namespace results {

// Length of the well-formed UTF-8 sequence at text[i], or 0 when it is not
// one (XML must be valid UTF-8; results.json replaces such bytes too).
size_t Utf8Length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  size_t n = 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b >= 0xE0 && b <= 0xEF) n = 3;
  else if (b >= 0xF0 && b <= 0xF4) n = 4;
  else return 0;
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and code points above U+10FFFF.
  if ((b == 0xE0 && byte(i + 1) < 0xA0) || (b == 0xED && byte(i + 1) > 0x9F) ||
      (b == 0xF0 && byte(i + 1) < 0x90) || (b == 0xF4 && byte(i + 1) > 0x8F)) {
    return 0;
  }
  return n;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
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
