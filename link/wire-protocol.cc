#include "link/wire-protocol.h"

#include <sstream>
#include <stdexcept>
#include <vector>

namespace punchlab::link {
namespace {

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

uint64_t ParseU64(const std::string& text, const char* what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
    throw std::invalid_argument(std::string(what) + " '" + text + "' is not a whole number");
  }
  return std::stoull(text);
}

double ParseLoss(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= 0 && v <= 1)) {
    throw std::invalid_argument("loss '" + text + "' is not a fraction from 0 to 1");
  }
  return v;
}

Duration ParseNanos(const std::string& text, const char* what) {
  const uint64_t n = ParseU64(text, what);
  if (n > static_cast<uint64_t>(Duration::Seconds(3600).nanos())) {
    throw std::invalid_argument(std::string(what) + " '" + text + "' ns is over an hour");
  }
  return Duration::Nanos(static_cast<int64_t>(n));
}

}  // namespace

std::string FormatWireCommand(const WireCommand& c) {
  std::ostringstream out;
  out << c.seq;
  if (const auto* l = std::get_if<WireLinkCommand>(&c.what)) {
    out << " link " << l->name << ' ' << l->netns_a << ' ' << l->if_a << ' ' << l->netns_b << ' '
        << l->if_b;
  } else if (const auto* s = std::get_if<WireShapeCommand>(&c.what)) {
    out.precision(17);
    out << " shape " << s->name << ' ' << (s->a_to_b ? "ab" : "ba") << ' '
        << s->shape.delay.nanos() << ' ' << s->shape.jitter.nanos() << ' ' << s->shape.loss
        << ' ' << s->shape.rate_bps << ' ' << (s->shape.down ? "down" : "up");
  } else if (std::holds_alternative<WireStatsCommand>(c.what)) {
    out << " stats";
  } else {
    out << " flows";
  }
  return out.str();
}

WireCommand ParseWireCommand(const std::string& line) {
  const std::vector<std::string> w = Words(line);
  if (w.size() < 2) throw std::invalid_argument("expected '<seq> <command> ...', got '" + line + "'");
  WireCommand c;
  c.seq = ParseU64(w[0], "sequence number");
  const std::string& verb = w[1];
  if (verb == "link") {
    if (w.size() != 7) {
      throw std::invalid_argument("link takes <name> <netns-a> <if-a> <netns-b> <if-b>");
    }
    c.what = WireLinkCommand{w[2], w[3], w[4], w[5], w[6]};
  } else if (verb == "shape") {
    if (w.size() != 9) {
      throw std::invalid_argument(
          "shape takes <name> <ab|ba> <delay_ns> <jitter_ns> <loss> <rate_bps> <up|down>");
    }
    WireShapeCommand s;
    s.name = w[2];
    if (w[3] != "ab" && w[3] != "ba") throw std::invalid_argument("direction '" + w[3] + "' is not ab or ba");
    s.a_to_b = w[3] == "ab";
    s.shape.delay = ParseNanos(w[4], "delay");
    s.shape.jitter = ParseNanos(w[5], "jitter");
    s.shape.loss = ParseLoss(w[6]);
    s.shape.rate_bps = ParseU64(w[7], "rate");
    if (w[8] != "up" && w[8] != "down") throw std::invalid_argument("state '" + w[8] + "' is not up or down");
    s.shape.down = w[8] == "down";
    c.what = s;
  } else if (verb == "stats") {
    if (w.size() != 2) throw std::invalid_argument("stats takes nothing");
    c.what = WireStatsCommand{};
  } else if (verb == "flows") {
    if (w.size() != 2) throw std::invalid_argument("flows takes nothing");
    c.what = WireFlowsCommand{};
  } else {
    throw std::invalid_argument("unknown command '" + verb + "' (link, shape, stats or flows)");
  }
  return c;
}

std::string FormatWireReply(const WireReply& r) {
  std::string out = std::to_string(r.seq) + (r.ok ? " ok" : " error");
  if (!r.text.empty()) out += " " + r.text;
  return out;
}

std::optional<WireReply> ParseWireReply(const std::string& line) {
  const size_t space = line.find(' ');
  if (space == std::string::npos || space == 0) return std::nullopt;
  WireReply r;
  try {
    r.seq = ParseU64(line.substr(0, space), "sequence number");
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  std::string rest = line.substr(space + 1);
  if (rest.rfind("ok", 0) == 0) {
    r.ok = true;
    rest = rest.substr(2);
  } else if (rest.rfind("error", 0) == 0) {
    rest = rest.substr(5);
  } else {
    return std::nullopt;
  }
  if (!rest.empty() && rest[0] != ' ') return std::nullopt;
  if (!rest.empty()) rest = rest.substr(1);
  r.text = rest;
  return r;
}

}  // namespace punchlab::link
