#include "punchlab/portmap/upnp-errors.h"

namespace punchlab {
namespace portmap {
namespace upnp {

const char* ToString(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kHttp: return "http";
    case ParseError::kHttpStatus: return "http-status";
    case ParseError::kMissingHeader: return "missing-header";
    case ParseError::kBadUrl: return "bad-url";
    case ParseError::kXml: return "xml";
    case ParseError::kNotSoap: return "not-soap";
    case ParseError::kNoService: return "no-service";
    case ParseError::kWrongAction: return "wrong-action";
    case ParseError::kMissingArgument: return "missing-argument";
    case ParseError::kBadValue: return "bad-value";
  }
  return "unknown";
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
