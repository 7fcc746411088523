#include "results/portmap-counters.h"

namespace punchlab::results {

std::map<std::string, uint64_t> PortMapClientCounters(const portmap::ClientStats& c,
                                                      const portmap::UpnpMapperStats* u) {
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
  PL_COUNT(ssdp_searches_sent);
  PL_COUNT(ssdp_answers);
  PL_COUNT(ssdp_dropped);
#undef PL_COUNT
  if (u != nullptr) {
#define PL_UPNP(field) g["upnp_" #field] = u->field
    PL_UPNP(attempts);
    PL_UPNP(connects);
    PL_UPNP(descriptions);
    PL_UPNP(repointed);
    PL_UPNP(add_requests);
    PL_UPNP(permanent_retries);
    PL_UPNP(faults);
    PL_UPNP(timeouts);
    PL_UPNP(bad_answers);
    PL_UPNP(mapped);
    PL_UPNP(failed);
    PL_UPNP(releases);
#undef PL_UPNP
  }
  return g;
}

}  // namespace punchlab::results
