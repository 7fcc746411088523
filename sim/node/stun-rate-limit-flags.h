// --stun-rate-limit and --stun-burst, shared by the subcommands that answer
// STUN (stun-server, derp-server): the StunServer's per-source rate limit
// (punchlab/stun/rate-limit.h) for a server reachable from the Internet,
// where a spoofed source makes it a reflector (RFC 5389 section 16.1.1).
#pragma once

#include <boost/program_options.hpp>
#include <optional>

#include "punchlab/stun/rate-limit.h"

namespace punchlab::cli {

void AddStunRateLimitOptions(boost::program_options::options_description& options);
// nullopt unless --stun-rate-limit was given (a lab needs no limit); throws
// UsageError for a zero rate or burst.
std::optional<stun::RateLimitConfig> StunRateLimitFromFlags(
    const boost::program_options::variables_map& vm);

}  // namespace punchlab::cli
