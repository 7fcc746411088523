#include "realio/socket-error.h"

#include <cstring>

namespace punchlab::realio {

SocketError::SocketError(const std::string& what, int error)
    : std::runtime_error(what + ": " + ErrorText(error)), error_(error) {}

std::string ErrorText(int error) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not live in `buffer`.
  return ::strerror_r(error, buffer, sizeof(buffer));
}

}  // namespace punchlab::realio
