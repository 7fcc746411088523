#include "punchlab/derp/http-upgrade.h"

#include "punchlab/ascii.h"
#include "punchlab/derp/frames.h"

namespace punchlab {
namespace derp {
namespace {

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool UpgradesToDerp(const HttpHead& head) {
  const auto upgrade = head.Field("Upgrade");
  return upgrade && LowerAscii(*upgrade) == "derp";
}

}  // namespace

Bytes BuildUpgradeRequest(const std::string& host) {
  return ToBytes("GET /derp HTTP/1.1\r\nHost: " + host +
                 "\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n\r\n");
}

Bytes BuildUpgradeResponse(const NodePublicKey& server_key) {
  return ToBytes(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
      "Derp-Version: " +
      std::to_string(kProtocolVersion) + "\r\nDerp-Public-Key: " + ToHex(server_key.view()) +
      "\r\n\r\n");
}

Bytes BuildUpgradeRequiredResponse() {
  return ToBytes("HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

Bytes BuildProbeResponse() {
  return ToBytes(
      "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n"
      "Content-Length: 0\r\n\r\n");
}

bool IsProbeRequest(const HttpHead& head) {
  for (const char* method : {"GET ", "HEAD "}) {
    for (const char* path : {"/derp/probe", "/derp/latency-check"}) {
      if (head.start_line == std::string(method) + path + " HTTP/1.1") return true;
    }
  }
  return false;
}

bool WantsFastStart(const HttpHead& head) {
  const auto v = head.Field(kFastStartHeader);
  return v && *v == "1";
}

std::optional<std::string> HttpHead::Field(const std::string& name) const {
  const std::string want = LowerAscii(name);
  for (const auto& [k, v] : fields) {
    if (LowerAscii(k) == want) return v;
  }
  return std::nullopt;
}

HttpHeadReader::State HttpHeadReader::Feed(ByteView bytes) {
  if (state_ != State::kNeedMore) return state_;
  const size_t old_size = text_.size();
  text_.append(bytes.begin(), bytes.end());
  // The terminator may straddle the previous read.
  const size_t from = old_size >= 3 ? old_size - 3 : 0;
  const size_t end = text_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    if (text_.size() > kMaxHeadSize) return Fail("HTTP head longer than 8 KiB");
    return state_;
  }
  if (end + 4 > kMaxHeadSize) return Fail("HTTP head longer than 8 KiB");
  rest_.assign(text_.begin() + static_cast<std::ptrdiff_t>(end + 4), text_.end());
  text_.resize(end);

  size_t line_start = 0;
  bool first = true;
  while (line_start <= text_.size()) {
    size_t line_end = text_.find("\r\n", line_start);
    if (line_end == std::string::npos) line_end = text_.size();
    const std::string line = text_.substr(line_start, line_end - line_start);
    if (line.find_first_of("\r\n") != std::string::npos) return Fail("bare CR or LF in HTTP head");
    if (first) {
      if (line.empty()) return Fail("empty HTTP start line");
      head_.start_line = line;
      first = false;
    } else {
      const size_t colon = line.find(':');
      if (colon == std::string::npos || colon == 0) return Fail("malformed HTTP header line");
      head_.fields.emplace_back(line.substr(0, colon), Trim(line.substr(colon + 1)));
    }
    line_start = line_end + 2;
  }
  state_ = State::kDone;
  return state_;
}

Bytes HttpHeadReader::TakeRest() { return std::move(rest_); }

HttpHeadReader::State HttpHeadReader::Fail(std::string why) {
  error_ = std::move(why);
  text_.clear();
  state_ = State::kError;
  return state_;
}

bool CheckUpgradeRequest(const HttpHead& head, std::string& why) {
  if (head.start_line != "GET /derp HTTP/1.1") {
    why = "not a DERP upgrade request: \"" + head.start_line.substr(0, 64) + "\"";
    return false;
  }
  if (!UpgradesToDerp(head)) {
    why = "request lacks \"Upgrade: DERP\"";
    return false;
  }
  return true;
}

bool CheckUpgradeResponse(const HttpHead& head, std::string& why) {
  // "HTTP/1.1 101 Switching Protocols": only the version and code are binding.
  if (head.start_line.rfind("HTTP/1.1 101", 0) != 0) {
    why = "server refused the upgrade: \"" + head.start_line.substr(0, 64) + "\"";
    return false;
  }
  if (!UpgradesToDerp(head)) {
    why = "101 response lacks \"Upgrade: DERP\"";
    return false;
  }
  return true;
}

}  // namespace derp
}  // namespace punchlab
