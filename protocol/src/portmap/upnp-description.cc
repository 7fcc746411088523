#include "punchlab/portmap/upnp-description.h"

#include "portmap/upnp-xml.h"

namespace punchlab {
namespace portmap {
namespace upnp {
namespace {

constexpr const char* kWanIp = "urn:schemas-upnp-org:service:WANIPConnection:";
constexpr const char* kWanPpp = "urn:schemas-upnp-org:service:WANPPPConnection:";

// The version after `prefix` ("...:2" -> 2), or -1 when `type` is not one.
int VersionOf(const std::string& type, const std::string& prefix) {
  if (type.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = type.substr(prefix.size());
  if (digits.empty() || digits.size() > 3) return -1;
  int v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Higher is better: any WANIPConnection over any WANPPPConnection, then the version.
int Rank(const std::string& type) {
  const int ip = VersionOf(type, kWanIp);
  if (ip >= 0) return 2000 + ip;
  const int ppp = VersionOf(type, kWanPpp);
  if (ppp >= 0) return 1000 + ppp;
  return -1;
}

}  // namespace

std::optional<IgdService> ParseDescription(const std::string& xml, const Url& location,
                                           ParseError* error) {
  auto fail = [&](ParseError e) -> std::optional<IgdService> {
    if (error) *error = e;
    return std::nullopt;
  };
  const XmlDoc doc = ParseXml(xml);
  if (!doc) return fail(ParseError::kXml);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || LocalName(root) != "root") return fail(ParseError::kNoService);
  // URLBase (deprecated in UDA 1.1, still sent by old IGDs) is the base when given.
  Url base = location;
  if (xmlNode* url_base = Child(root, "URLBase")) {
    const std::optional<Url> parsed = ParseUrl(Text(url_base));
    if (!parsed) return fail(ParseError::kBadUrl);
    base = *parsed;
  }
  xmlNode* best = nullptr;
  int best_rank = -1;
  std::string best_type;
  for (xmlNode* service : Descendants(root, "service")) {
    const std::string type = Text(Child(service, "serviceType"));
    const int rank = Rank(type);
    // The first of equal rank wins: document order is the device's own.
    if (rank > best_rank && Child(service, "controlURL")) {
      best = service;
      best_rank = rank;
      best_type = type;
    }
  }
  if (!best) return fail(ParseError::kNoService);
  const std::optional<Url> control = ResolveUrl(base, Text(Child(best, "controlURL")));
  if (!control) return fail(ParseError::kBadUrl);
  if (error) *error = ParseError::kNone;
  return IgdService{best_type, *control};
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
