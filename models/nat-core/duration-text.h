// Durations as people write them in NAT specs: an integer and a unit
// ("30s", "250ms", "4m", "2h"). Duration::ToString's output parses back.
#pragma once

#include <optional>
#include <string_view>

#include "punchlab/time.h"

namespace punchlab {
namespace nat {

// Units: ns, us, ms, s, m, h. No sign, no fraction, no spaces; nullopt if the
// text is anything else or overflows.
std::optional<Duration> ParseDuration(std::string_view text);

}  // namespace nat
}  // namespace punchlab
