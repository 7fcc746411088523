#include "results/write-disco-csv.h"

#include "results/format.h"

namespace punchlab {
namespace results {
namespace {

std::string Field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string DiscoCsvText(const Results& results) {
  std::string out = std::string(kDiscoCsvHeader) + "\n";
  for (const DiscoStep& d : results.disco_log) {
    AppendFixed(out, d.at.seconds(), 6);
    out += "," + Field(d.node) + "," + Field(d.peer) + "," + ToString(d.what) +
           "," + Field(d.via) + "," + Field(d.endpoint) + "," + Field(d.txid) + "," +
           Field(d.reason) + "\n";
  }
  return out;
}

}  // namespace results
}  // namespace punchlab
