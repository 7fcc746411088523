#include "results/write-junit.h"

#include <libxml/xmlwriter.h>

#include <cstdio>
#include <stdexcept>

namespace punchlab {
namespace results {

namespace {

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

const xmlChar* X(const char* text) { return reinterpret_cast<const xmlChar*>(text); }

// libxml2's streaming writer into memory, indented two spaces; every call
// that fails (out of memory) is an exception, never a truncated file.
class XmlWriter {
 public:
  XmlWriter() : buffer_(xmlBufferCreate()) {
    if (buffer_ != nullptr) writer_ = xmlNewTextWriterMemory(buffer_, 0);
    if (writer_ == nullptr) throw std::runtime_error("junit.xml: libxml2 cannot make a writer");
    Check(xmlTextWriterSetIndent(writer_, 1));
    Check(xmlTextWriterSetIndentString(writer_, X("  ")));
    Check(xmlTextWriterStartDocument(writer_, nullptr, "UTF-8", nullptr));
  }
  ~XmlWriter() {
    if (writer_ != nullptr) xmlFreeTextWriter(writer_);
    if (buffer_ != nullptr) xmlBufferFree(buffer_);
  }
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  void Start(const char* element) { Check(xmlTextWriterStartElement(writer_, X(element))); }
  void Attribute(const char* name, std::string_view value) {
    const std::string safe = XmlSafeText(value);
    Check(xmlTextWriterWriteAttribute(writer_, X(name), X(safe.c_str())));
  }
  void Text(std::string_view text) {
    const std::string safe = XmlSafeText(text);
    Check(xmlTextWriterWriteString(writer_, X(safe.c_str())));
  }
  void End() { Check(xmlTextWriterEndElement(writer_)); }

  std::string Finish() {
    Check(xmlTextWriterEndDocument(writer_));
    Check(xmlTextWriterFlush(writer_));
    return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_)),
                       static_cast<size_t>(xmlBufferLength(buffer_)));
  }

 private:
  static void Check(int rc) {
    if (rc < 0) throw std::runtime_error("junit.xml: libxml2 could not write the document");
  }
  xmlBufferPtr buffer_ = nullptr;
  xmlTextWriterPtr writer_ = nullptr;
};

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

size_t Failures(const Results& r) {
  size_t failures = 0;
  for (const ExpectationResult& e : r.expectations) failures += e.ok ? 0 : 1;
  return failures;
}

// A failed check or a run that could not happen: message= and the same text
// inside, where CI systems show one or the other.
void Problem(XmlWriter& w, const char* element, const std::string& what) {
  w.Start(element);
  w.Attribute("message", what);
  w.Text(what);
  w.End();
}

// One scenario's <testsuite>. With `run` (the aggregate), every suite and
// testcase has time= and the suite starts with the "run" testcase.
void Suite(XmlWriter& w, const Results& r, const JunitRun* run) {
  const bool error = run != nullptr && run->error.has_value();
  const size_t tests = r.expectations.size() + (run != nullptr ? 1 : 0);
  w.Start("testsuite");
  w.Attribute("name", r.scenario);
  w.Attribute("tests", std::to_string(tests));
  w.Attribute("failures", std::to_string(Failures(r)));
  w.Attribute("errors", error ? "1" : "0");
  w.Attribute("skipped", "0");
  if (run != nullptr) w.Attribute("time", Seconds(run->wall_s));
  w.Start("properties");
  const std::pair<const char*, std::string> properties[] = {
      {"file", r.file}, {"mode", ToString(r.mode)}, {"seed", std::to_string(r.seed)}};
  for (const auto& [name, value] : properties) {
    w.Start("property");
    w.Attribute("name", name);
    w.Attribute("value", value);
    w.End();
  }
  w.End();  // properties
  if (run != nullptr) {
    w.Start("testcase");
    w.Attribute("classname", r.scenario);
    w.Attribute("name", "run");
    w.Attribute("file", r.file);
    w.Attribute("time", Seconds(run->wall_s));
    if (error) Problem(w, "error", *run->error);
    w.End();
  }
  for (const ExpectationResult& e : r.expectations) {
    w.Start("testcase");
    w.Attribute("classname", r.scenario);
    w.Attribute("name", e.text);
    w.Attribute("file", r.file);
    w.Attribute("line", std::to_string(e.where.line));
    if (run != nullptr) w.Attribute("time", Seconds(0));
    if (!e.ok) Problem(w, "failure", e.observed);
    w.End();
  }
  if (!r.notes.empty()) {
    std::string notes;
    for (const std::string& note : r.notes) notes += note + "\n";
    w.Start("system-out");
    w.Text(notes);
    w.End();
  }
  w.End();  // testsuite
}

}  // namespace

std::string XmlSafeText(std::string_view text) {
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
    const bool forbidden = static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
                           c != '\r';
    out += forbidden ? '?' : c;
  }
  return out;
}

std::string JunitXmlText(const Results& r) {
  XmlWriter w;
  w.Start("testsuites");
  w.Attribute("name", "punchlab");
  w.Attribute("tests", std::to_string(r.expectations.size()));
  w.Attribute("failures", std::to_string(Failures(r)));
  Suite(w, r, nullptr);
  w.End();
  return w.Finish();
}

std::string JunitAggregateText(const std::vector<JunitRun>& runs) {
  size_t tests = 0, failures = 0, errors = 0;
  double time_s = 0;
  for (const JunitRun& run : runs) {
    tests += run.results.expectations.size() + 1;
    failures += Failures(run.results);
    errors += run.error ? 1 : 0;
    time_s += run.wall_s;
  }
  XmlWriter w;
  w.Start("testsuites");
  w.Attribute("name", "punchlab");
  w.Attribute("tests", std::to_string(tests));
  w.Attribute("failures", std::to_string(failures));
  w.Attribute("errors", std::to_string(errors));
  w.Attribute("time", Seconds(time_s));
  for (const JunitRun& run : runs) Suite(w, run.results, &run);
  w.End();
  return w.Finish();
}

}  // namespace results
}  // namespace punchlab
