// The one exception type realio throws: a socket call that failed in a way the
// caller must hear about (bind, listen, socket creation). Per-datagram errors
// are counted in host stats instead, as UDP loses packets anyway.
#pragma once

#include <stdexcept>
#include <string>

namespace punchlab::realio {

class SocketError : public std::runtime_error {
 public:
  // `what` names the operation and address, e.g. "bind 203.0.113.1:3478";
  // the message becomes "bind 203.0.113.1:3478: Address already in use".
  SocketError(const std::string& what, int error);
  int error() const { return error_; }

 private:
  int error_;
};

// strerror for logs and messages, thread-safe.
std::string ErrorText(int error);

}  // namespace punchlab::realio
