// The HTTP/1.1 Upgrade that opens every DERP connection:
//
//   client: GET /derp HTTP/1.1 / Host / Connection: Upgrade / Upgrade: DERP
//   server: HTTP/1.1 101 Switching Protocols / Upgrade: DERP /
//           Connection: Upgrade / Derp-Version: 2 / Derp-Public-Key: <hex>
//
// after which both sides speak DERP frames on the same stream. With
// "Derp-Fast-Start: 1" (Tailscale's client sends it over TLS) the server
// writes no response head: frames start at once. "GET|HEAD /derp/probe"
// (or /derp/latency-check) is a latency probe, answered 200 and closed. A
// server that gets anything else (websocket upgrades included: punchlab does
// not speak DERP over websocket) answers 426 Upgrade Required and closes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/crypto/keys.h"

namespace punchlab {
namespace derp {

Bytes BuildUpgradeRequest(const std::string& host);
Bytes BuildUpgradeResponse(const NodePublicKey& server_key);
Bytes BuildUpgradeRequiredResponse();
// 200, empty, closed: the answer to a latency probe.
Bytes BuildProbeResponse();

constexpr const char* kFastStartHeader = "Derp-Fast-Start";

// The start line and header fields of a request or response.
struct HttpHead {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> fields;  // value trimmed
  // Field value by case-insensitive name (the first one).
  std::optional<std::string> Field(const std::string& name) const;
};

// Collects a head up to the blank line; bytes after it belong to DERP and are
// handed back by TakeRest(). A head longer than the limit, or without CRLF
// line ends, is an error.
class HttpHeadReader {
 public:
  static constexpr size_t kMaxHeadSize = 8 * 1024;
  enum class State { kNeedMore, kDone, kError };

  // Call while kNeedMore; after that the stream belongs to the frame reader.
  State Feed(ByteView bytes);
  State state() const { return state_; }
  // After kDone: the parsed head. After kError: why.
  const HttpHead& head() const { return head_; }
  const std::string& error() const { return error_; }
  // After kDone: the bytes that followed the head (moved out).
  Bytes TakeRest();

 private:
  State Fail(std::string why);
  State state_ = State::kNeedMore;
  std::string text_;
  Bytes rest_;
  HttpHead head_;
  std::string error_;
};

// true when `head` is "GET /derp HTTP/1.1" with "Upgrade: DERP" (any case);
// otherwise false with the reason in `why`.
bool CheckUpgradeRequest(const HttpHead& head, std::string& why);
// "GET /derp/probe", "HEAD /derp/probe" (or /derp/latency-check), HTTP/1.1.
bool IsProbeRequest(const HttpHead& head);
// The request carries "Derp-Fast-Start: 1": no response head before the frames.
bool WantsFastStart(const HttpHead& head);
// true when `head` is a 101 response upgrading to DERP.
bool CheckUpgradeResponse(const HttpHead& head, std::string& why);

}  // namespace derp
}  // namespace punchlab
