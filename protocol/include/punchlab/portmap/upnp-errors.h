// Why a UPnP answer was not understood, one value per kind so a client can
// count them (the counters the Node and the NAT model report), and the UPnP
// error codes an IGD's SOAP fault carries.
#pragma once

#include <cstdint>

namespace punchlab {
namespace portmap {
namespace upnp {

enum class ParseError : uint8_t {
  kNone,
  kHttp,            // not an HTTP response head, or its framing is broken
  kHttpStatus,      // an HTTP status the call cannot use
  kMissingHeader,   // SSDP: no LOCATION or ST
  kBadUrl,          // a URL that is not http://host[:port]/path
  kXml,             // not well-formed XML (or too large)
  kNotSoap,         // XML, but no SOAP Envelope/Body with one element in it
  kNoService,       // a description without WANIPConnection or WANPPPConnection
  kWrongAction,     // a response to another action than the one called
  kMissingArgument, // a response without an argument the action returns
  kBadValue,        // an argument that is not a number, address, ... as required
};
const char* ToString(ParseError e);

// UPnP errors of WANIPConnection (UPnP IGD WANIPConnection:2 section 2.4,
// and Device Architecture 1.1 section 3.2.2 for 401-501, 606).
enum class ErrorCode : uint16_t {
  kInvalidAction = 401,
  kInvalidArgs = 402,                     // e.g. a lease duration it will not grant
  kActionFailed = 501,
  kNotAuthorized = 606,
  kSpecifiedArrayIndexInvalid = 713,      // GetGenericPortMappingEntry past the end
  kNoSuchEntryInArray = 714,
  kWildCardNotPermittedInSrcIp = 715,
  kWildCardNotPermittedInExtPort = 716,
  kConflictInMappingEntry = 718,          // the external port is someone else's
  kSamePortValuesRequired = 724,
  kOnlyPermanentLeasesSupported = 725,    // retry with lease duration 0
  kRemoteHostOnlySupportsWildcard = 726,
  kExternalPortOnlySupportsWildcard = 727,
  kNoPortMapsAvailable = 728,
  kConflictWithOtherMechanisms = 729,
};

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
