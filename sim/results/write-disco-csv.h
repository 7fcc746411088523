// disco.csv: the disco log (Results::disco_log), one row per step, in the
// order the steps happened:
//
//   time_s,node,peer,what,via,endpoint,txid,reason
//
// time_s (6 decimals); what one of ping-sent, ping-received, pong-sent,
// pong-received, call-me-maybe-sent, call-me-maybe-received, candidate,
// trust, path, handshake, portmap (DiscoStepKind; portmap rows have no peer);
// the other columns as DiscoStep describes them.
// A field holding a comma, a double quote or a line break is quoted as
// RFC 4180 says ("" for a quote inside).
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

constexpr const char* kDiscoCsvHeader = "time_s,node,peer,what,via,endpoint,txid,reason";

std::string DiscoCsvText(const Results& results);

}  // namespace results
}  // namespace punchlab
