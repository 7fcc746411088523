#include "results/matrix.h"

#include <nlohmann/json.hpp>

#include "results/format.h"
#include "results/write-directory.h"

namespace punchlab {
namespace results {
namespace {

using Json = nlohmann::ordered_json;

const MatrixCell* Find(const Matrix& m, const std::string& a, const std::string& b) {
  for (const MatrixCell& c : m.cells) {
    if (c.a == a && c.b == b) return &c;
  }
  return nullptr;
}

// "direct 0.548s", "derp", "none".
std::string CellText(const MatrixCell& c) {
  std::string text = scenario::ToString(c.path);
  if ((c.path == PathKind::kDirect || c.path == PathKind::kLocal) && c.time_to_direct) {
    text += " " + FormatSeconds(*c.time_to_direct);
  }
  return text;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* Colour(PathKind p) {
  switch (p) {
    case PathKind::kDirect: return "#b7e1b0";
    case PathKind::kLocal: return "#a8d8ea";
    case PathKind::kDerp: return "#f6d58e";
    case PathKind::kAsymmetric: return "#d7b5e8";
    case PathKind::kNone: return "#f4a6a6";
  }
  return "#ffffff";
}

}  // namespace

MatrixCell CellFromResults(const std::string& a, const std::string& b, const Results& results,
                           const std::string& results_dir) {
  MatrixCell c;
  c.a = a;
  c.b = b;
  c.results_dir = results_dir;
  for (const PairSummary& p : results.pairs) {
    if (!((p.a == "alice" && p.b == "bob") || (p.a == "bob" && p.b == "alice"))) continue;
    c.path = p.final_path;
    c.time_to_direct = p.time_to_direct;
    for (const auto& [kind, pct] : p.rtt) c.rtt_p50[kind] = pct.p50;
    c.probes_sent = p.probes_sent;
    c.probes_lost = p.probes_lost;
  }
  return c;
}

std::string MatrixJsonText(const Matrix& m) {
  Json cells = Json::array();
  for (const MatrixCell& c : m.cells) {
    Json x;
    x["a"] = c.a;
    x["b"] = c.b;
    x["path"] = scenario::ToString(c.path);
    x["time_to_direct_s"] = c.time_to_direct ? Json(c.time_to_direct->seconds()) : Json();
    Json rtt = Json::object();
    for (const auto& [kind, p50] : c.rtt_p50) rtt[ToString(kind)] = p50.millis();
    x["rtt_p50_ms"] = std::move(rtt);
    x["probes_sent"] = c.probes_sent;
    x["probes_lost"] = c.probes_lost;
    x["results"] = c.results_dir;
    x["mode"] = ToString(m.mode);
    x["seed"] = m.seed;
    x["duration_s"] = m.duration.seconds();
    cells.push_back(std::move(x));
  }
  return cells.dump(2) + "\n";
}

std::string MatrixMarkdown(const Matrix& m) {
  std::string out = "# NAT matrix (" + std::string(ToString(m.mode)) + ", seed " +
                    std::to_string(m.seed) + ", " + FormatSeconds(m.duration) + " per pair)\n\n" +
                    "Rows: alice's NAT. Columns: bob's NAT. Each cell: the path at the end, and "
                    "the time to direct: from the pair's first probe to the first probe that "
                    "crossed the direct path both ways.\n\n| alice \\ bob |";
  for (const std::string& b : m.nats) out += " " + b + " |";
  out += "\n|---|";
  for (size_t i = 0; i < m.nats.size(); ++i) out += "---|";
  out += "\n";
  for (const std::string& a : m.nats) {
    out += "| **" + a + "** |";
    for (const std::string& b : m.nats) {
      const MatrixCell* c = Find(m, a, b);
      out += " " + (c ? CellText(*c) : std::string("not run")) + " |";
    }
    out += "\n";
  }
  return out;
}

std::string MatrixHtml(const Matrix& m) {
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>punchlab NAT matrix</title>\n"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
      "td,th{border:1px solid #999;padding:6px 10px;text-align:center}"
      "th{background:#eee}</style></head><body>\n<h1>NAT matrix</h1>\n<p>" +
      std::string(ToString(m.mode)) + ", seed " + std::to_string(m.seed) + ", " +
      HtmlEscape(FormatSeconds(m.duration)) +
      " per pair. Rows: alice's NAT; columns: bob's NAT. Green: direct, blue: local, "
      "yellow: DERP, violet: asymmetric (direct one way, relayed the other), red: no path. "
      "Time to direct counts from the pair's first probe to the first probe that crossed "
      "the direct path both ways. Each cell links to its results.</p>\n<table>\n<tr><th>alice \\ bob</th>";
  for (const std::string& b : m.nats) out += "<th>" + HtmlEscape(b) + "</th>";
  out += "</tr>\n";
  for (const std::string& a : m.nats) {
    out += "<tr><th>" + HtmlEscape(a) + "</th>";
    for (const std::string& b : m.nats) {
      const MatrixCell* c = Find(m, a, b);
      if (c == nullptr) {
        out += "<td>not run</td>";
        continue;
      }
      out += std::string("<td style=\"background:") + Colour(c->path) + "\"><a href=\"" +
             HtmlEscape(c->results_dir) + "/results.json\">" + HtmlEscape(CellText(*c)) +
             "</a></td>";
    }
    out += "</tr>\n";
  }
  out += "</table>\n</body></html>\n";
  return out;
}

void WriteMatrixFiles(const std::string& dir, const Matrix& m) {
  WriteTextFile(dir + "/matrix.json", MatrixJsonText(m));
  WriteTextFile(dir + "/matrix.md", MatrixMarkdown(m));
  WriteTextFile(dir + "/matrix.html", MatrixHtml(m));
}

}  // namespace results
}  // namespace punchlab
