#include "punchlab/ascii.h"

namespace punchlab {

std::string LowerAscii(std::string s) {
  // Not std::tolower: it follows the C locale, and protocol/ reads no
  // environment; these formats lower A-Z and nothing else.
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace punchlab
