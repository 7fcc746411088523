#include "results/portmap-counters.h"

namespace punchlab::results {

std::map<std::string, uint64_t> PortMapClientCounters(const portmap::ClientStats& c) {
  std::map<std::string, uint64_t> g;
  // One entry per field; the field's name is the counter's.
#define PL_COUNT(field) g[#field] = c.field
  PL_COUNT(probes);
  PL_COUNT(mapping_checks);
  PL_COUNT(pmp_requests_sent);
  PL_COUNT(pcp_requests_sent);
  PL_COUNT(mappings_created);
  PL_COUNT(renewals);
  PL_COUNT(failures);
  PL_COUNT(timeouts);
  PL_COUNT(error_answers);
  PL_COUNT(released);
  PL_COUNT(expired);
  PL_COUNT(epoch_resets);
  PL_COUNT(dropped_malformed);
  PL_COUNT(dropped_wrong_source);
  PL_COUNT(dropped_unexpected);
  PL_COUNT(dropped_nonce_mismatch);
#undef PL_COUNT
  return g;
}

}  // namespace punchlab::results
