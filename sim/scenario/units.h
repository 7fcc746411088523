// Quantities as scenario files write them: a non-negative decimal number and
// its unit with no space between, converted exactly (a fraction must come
// out whole: 1.5KiB is 1536 bytes, 0.5B is an error). Durations are parsed by
// punchlab::Duration::Parse, shared with the NAT SPEC and CLI flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace punchlab {
namespace scenario {

// Bits per second: 10Mbit, 1.5Gbit, 64kbit, 512Kibit, 1000bit; "/s" may
// follow (10Mbit/s). SI prefixes k/K, M, G are powers of 1000; Ki, Mi, Gi of
// 1024. Lower-case m and g are read as M and G, as tc does.
std::optional<uint64_t> ParseBitRate(std::string_view text);

// Bytes: 200B, 1.5KiB, 64kB, 1MB, 2MiB (kB/KB, MB, GB are powers of 1000;
// KiB, MiB, GiB of 1024).
std::optional<uint64_t> ParseSize(std::string_view text);

// A percentage from 0% to 100% as a fraction: "1%" -> 0.01, "0.5%" -> 0.005.
std::optional<double> ParsePercent(std::string_view text);

// The text starts like a number but has no unit ("20", "1.5"): messages then
// say that the unit is missing rather than that the value is malformed.
bool IsBareNumber(std::string_view text);

}  // namespace scenario
}  // namespace punchlab
