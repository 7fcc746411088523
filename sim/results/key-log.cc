#include "results/key-log.h"

namespace punchlab {
namespace results {

std::string KeyLogLine(ByteView nonce, ByteView message) {
  return ToHex(nonce) + " " + ToHex(message);
}

}  // namespace results
}  // namespace punchlab
