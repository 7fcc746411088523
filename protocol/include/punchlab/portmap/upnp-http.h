// The HTTP/1.1 that UPnP IGD control needs, and no more: http:// URLs (the
// LOCATION of an SSDP answer, a description's control URL), GET and SOAP POST
// requests, and one response read from a connection the client opened
// (status, head, a body framed by Content-Length, chunked transfer coding,
// or the server closing). The head is read by derp's HttpHeadReader, the
// one HTTP head parser of protocol/.
//
// Sans-IO: the host opens the TCP connection to Url::host:port, writes the
// request bytes, feeds what it reads to HttpResponseReader and tells it when
// the server closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/endpoint.h"

namespace punchlab {
namespace portmap {
namespace upnp {

struct Url {
  std::string host;  // as written: an IPv4 address for every IGD seen so far
  uint16_t port = 80;
  std::string path = "/";  // with the query, if any
  // "http://host:port/path".
  std::string ToString() const;
  // The host as an endpoint, when it is an IP address.
  std::optional<Endpoint> ToEndpoint() const;
};

// "http://host[:port][/path]" (scheme and host case-insensitive); nullopt for
// anything else (https, userinfo, a bad port, spaces or control characters).
std::optional<Url> ParseUrl(const std::string& text);
// `ref` resolved against `base` (RFC 3986 section 5.2 for the forms IGDs
// write): an absolute http URL, an absolute path, or a path relative to
// base's directory. nullopt when `ref` is empty or not one of those.
std::optional<Url> ResolveUrl(const Url& base, const std::string& ref);

// "GET <path> HTTP/1.1" with Host and "Connection: close".
Bytes BuildGet(const Url& url);
// A SOAP call: POST with Content-Type text/xml, SOAPAction
// "<service_type>#<action>" (quoted, as UPnP Device Architecture 1.1
// section 3.2.1 asks), Content-Length and "Connection: close".
Bytes BuildSoapPost(const Url& control, const std::string& service_type,
                    const std::string& action, const std::string& body);

// One response. Bodies over kMaxBody, heads over derp's 8 KiB, a bad status
// line, a bad Content-Length or chunk size, and a connection closed inside a
// framed body are errors.
class HttpResponseReader {
 public:
  static constexpr size_t kMaxBody = 64 * 1024;
  enum class State { kNeedMore, kDone, kError };

  State Feed(ByteView bytes);
  // The server closed the connection: ends a body that runs to the close.
  State Close();
  State state() const { return state_; }
  // After kDone:
  int status() const { return status_; }
  const derp::HttpHead& head() const { return head_reader_.head(); }
  const std::string& body() const { return body_; }
  // After kError: why.
  const std::string& error() const { return error_; }

 private:
  enum class Framing { kLength, kChunked, kUntilClose };
  State Fail(std::string why);
  State Advance();
  State AdvanceChunked();

  State state_ = State::kNeedMore;
  derp::HttpHeadReader head_reader_;
  bool head_done_ = false;
  int status_ = 0;
  Framing framing_ = Framing::kUntilClose;
  size_t length_ = 0;
  std::string pending_;  // bytes after the head not yet consumed
  std::string body_;
  std::string error_;
};

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
