#include "punchlab/portmap/upnp-http.h"

#include <cctype>

#include "punchlab/ascii.h"

namespace punchlab {
namespace portmap {
namespace upnp {
namespace {

// Printable ASCII without spaces: what a URL or a request line may carry.
bool Clean(const std::string& s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool ParsePort(const std::string& digits, uint16_t& port) {
  if (digits.empty() || digits.size() > 5) return false;
  uint32_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

// Hex digits of a chunk size (extensions after ';' ignored); false on
// anything else or a size over `limit`.
bool ParseChunkSize(const std::string& line, size_t limit, size_t& size) {
  const std::string digits = line.substr(0, line.find(';'));
  size_t end = digits.find_last_not_of(" \t");
  if (end == std::string::npos) return false;
  size = 0;
  for (size_t i = 0; i <= end; ++i) {
    const int c = std::tolower(static_cast<unsigned char>(digits[i]));
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return false;
    }
    size = size * 16 + static_cast<size_t>(v);
    if (size > limit) return false;
  }
  return true;
}

std::string HostPort(const Url& url) {
  return url.port == 80 ? url.host : url.host + ":" + std::to_string(url.port);
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

std::string Url::ToString() const {
  return "http://" + host + ":" + std::to_string(port) + path;
}

std::optional<Endpoint> Url::ToEndpoint() const {
  const std::optional<IpAddress> ip = IpAddress::Parse(host);
  if (!ip) return std::nullopt;
  return Endpoint{*ip, port};
}

std::optional<Url> ParseUrl(const std::string& text) {
  const std::string scheme = "http://";
  if (text.size() <= scheme.size() || LowerAscii(text.substr(0, scheme.size())) != scheme ||
      !Clean(text)) {
    return std::nullopt;
  }
  const std::string rest = text.substr(scheme.size());
  const size_t slash = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  Url url;
  if (authority[0] == '[') {
    // An IPv6 literal: [addr] or [addr]:port.
    const size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    url.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && (after[0] != ':' || !ParsePort(after.substr(1), url.port))) {
      return std::nullopt;
    }
  } else {
    const size_t colon = authority.find(':');
    url.host = LowerAscii(authority.substr(0, colon));
    if (colon != std::string::npos && !ParsePort(authority.substr(colon + 1), url.port)) {
      return std::nullopt;
    }
  }
  if (url.host.empty()) return std::nullopt;
  url.path = slash == std::string::npos ? "/" : rest.substr(slash);
  // A fragment is the client's own; it is never sent.
  url.path = url.path.substr(0, url.path.find('#'));
  if (url.path.empty() || url.path[0] != '/') url.path = "/" + url.path;
  return url;
}

std::optional<Url> ResolveUrl(const Url& base, const std::string& ref) {
  if (ref.empty() || !Clean(ref)) return std::nullopt;
  if (ref.find("://") != std::string::npos) return ParseUrl(ref);
  if (ref.compare(0, 2, "//") == 0) return ParseUrl("http:" + ref);
  Url url = base;
  if (ref[0] == '/') {
    url.path = ref;
  } else {
    const std::string dir = base.path.substr(0, base.path.find('?'));
    url.path = dir.substr(0, dir.rfind('/') + 1) + ref;
  }
  url.path = url.path.substr(0, url.path.find('#'));
  return url;
}

Bytes BuildGet(const Url& url) {
  return ToBytes("GET " + url.path + " HTTP/1.1\r\n"
                 "Host: " + HostPort(url) + "\r\n"
                 "Connection: close\r\n"
                 "\r\n");
}

Bytes BuildSoapPost(const Url& control, const std::string& service_type, const std::string& action,
                    const std::string& body) {
  return ToBytes("POST " + control.path + " HTTP/1.1\r\n"
                 "Host: " + HostPort(control) + "\r\n"
                 "Content-Type: text/xml; charset=\"utf-8\"\r\n"
                 "SOAPAction: \"" + service_type + "#" + action + "\"\r\n"
                 "Content-Length: " + std::to_string(body.size()) + "\r\n"
                 "Connection: close\r\n"
                 "\r\n" + body);
}

HttpResponseReader::State HttpResponseReader::Fail(std::string why) {
  error_ = std::move(why);
  body_.clear();
  pending_.clear();
  state_ = State::kError;
  return state_;
}

HttpResponseReader::State HttpResponseReader::Feed(ByteView bytes) {
  if (state_ != State::kNeedMore) return state_;
  if (!head_done_) {
    const derp::HttpHeadReader::State s = head_reader_.Feed(bytes);
    if (s == derp::HttpHeadReader::State::kError) return Fail(head_reader_.error());
    if (s == derp::HttpHeadReader::State::kNeedMore) return state_;
    head_done_ = true;
    const Bytes rest = head_reader_.TakeRest();
    pending_.assign(rest.begin(), rest.end());
    // "HTTP/1.x NNN reason"
    const std::string& line = head().start_line;
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ' ||
        !std::isdigit(static_cast<unsigned char>(line[9])) ||
        !std::isdigit(static_cast<unsigned char>(line[10])) ||
        !std::isdigit(static_cast<unsigned char>(line[11])) || (line.size() > 12 && line[12] != ' ')) {
      return Fail("not an HTTP/1.x status line: \"" + line.substr(0, 64) + "\"");
    }
    status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    const std::optional<std::string> coding = head().Field("Transfer-Encoding");
    const std::optional<std::string> length = head().Field("Content-Length");
    if (coding && LowerAscii(*coding) != "identity") {
      if (LowerAscii(*coding) != "chunked") {
        return Fail("unsupported transfer coding \"" + *coding + "\"");
      }
      framing_ = Framing::kChunked;
    } else if (length) {
      framing_ = Framing::kLength;
      if (length->empty() || length->size() > 9) return Fail("bad Content-Length \"" + *length + "\"");
      length_ = 0;
      for (char c : *length) {
        if (c < '0' || c > '9') return Fail("bad Content-Length \"" + *length + "\"");
        length_ = length_ * 10 + static_cast<size_t>(c - '0');
      }
      if (length_ > kMaxBody) return Fail("body longer than 64 KiB");
    } else {
      framing_ = Framing::kUntilClose;
    }
  } else {
    pending_.append(bytes.begin(), bytes.end());
  }
  return Advance();
}

HttpResponseReader::State HttpResponseReader::Advance() {
  switch (framing_) {
    case Framing::kLength:
      if (pending_.size() >= length_) {
        body_ = pending_.substr(0, length_);
        pending_.clear();
        state_ = State::kDone;
      }
      return state_;
    case Framing::kUntilClose:
      body_ += pending_;
      pending_.clear();
      if (body_.size() > kMaxBody) return Fail("body longer than 64 KiB");
      return state_;
    case Framing::kChunked:
      return AdvanceChunked();
  }
  return state_;
}

HttpResponseReader::State HttpResponseReader::AdvanceChunked() {
  // pending_ starts at a chunk-size line; each complete chunk moves to body_.
  while (true) {
    const size_t eol = pending_.find("\r\n");
    if (eol == std::string::npos) {
      if (pending_.size() > 1024) return Fail("chunk size line too long");
      return state_;
    }
    size_t size = 0;
    if (!ParseChunkSize(pending_.substr(0, eol), kMaxBody, size)) {
      return Fail("bad chunk size line");
    }
    if (size == 0) {
      // The last chunk; trailers (ignored) end with an empty line.
      const size_t end = pending_.find("\r\n\r\n", eol);
      if (eol + 2 <= pending_.size() && pending_.compare(eol + 2, 2, "\r\n") == 0) {
        state_ = State::kDone;
      } else if (end != std::string::npos) {
        state_ = State::kDone;
      } else if (pending_.size() > 8 * 1024) {
        return Fail("chunked trailer too long");
      }
      if (state_ == State::kDone) pending_.clear();
      return state_;
    }
    if (body_.size() + size > kMaxBody) return Fail("body longer than 64 KiB");
    if (pending_.size() < eol + 2 + size + 2) return state_;
    if (pending_.compare(eol + 2 + size, 2, "\r\n") != 0) return Fail("chunk not followed by CRLF");
    body_.append(pending_, eol + 2, size);
    pending_.erase(0, eol + 2 + size + 2);
  }
}

HttpResponseReader::State HttpResponseReader::Close() {
  if (state_ != State::kNeedMore) return state_;
  if (!head_done_) return Fail("connection closed before the HTTP head ended");
  if (framing_ != Framing::kUntilClose) return Fail("connection closed inside the body");
  state_ = State::kDone;
  return state_;
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
