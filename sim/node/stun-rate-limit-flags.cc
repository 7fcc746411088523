#include "node/stun-rate-limit-flags.h"

#include <cstdint>

#include "cli-common/flags.h"

namespace punchlab::cli {

namespace po = boost::program_options;

void AddStunRateLimitOptions(po::options_description& options) {
  options.add_options()
      ("stun-rate-limit", po::value<uint32_t>()->value_name("PER_SECOND"),
       "answer at most this many STUN requests per second per source IP, dropping (and "
       "counting) the rest; for a server reachable from the Internet (default: no limit)")
      ("stun-burst", po::value<uint32_t>()->default_value(20)->value_name("N"),
       "with --stun-rate-limit: requests a quiet source may send at once");
}

std::optional<stun::RateLimitConfig> StunRateLimitFromFlags(const po::variables_map& vm) {
  if (!vm.count("stun-rate-limit")) return std::nullopt;
  stun::RateLimitConfig c;
  c.per_second = vm["stun-rate-limit"].as<uint32_t>();
  c.burst = vm["stun-burst"].as<uint32_t>();
  if (c.per_second == 0) throw UsageError("--stun-rate-limit: must be at least 1 per second");
  if (c.burst == 0) throw UsageError("--stun-burst: must be at least 1");
  return c;
}

}  // namespace punchlab::cli
