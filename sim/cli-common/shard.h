// GoogleTest-style sharding for commands that run many things (`punchlab
// run` over files, `punchlab matrix` over cells; `punchlab sweep` does the
// same in Python): shard INDEX of COUNT takes items INDEX, INDEX + COUNT,
// INDEX + 2*COUNT, ... of the full, fixed order, so COUNT machines (or CI
// jobs) with INDEX 0..COUNT-1 run everything exactly once between them.
//
// From `--shard INDEX/COUNT`, else from GTEST_SHARD_INDEX and
// GTEST_TOTAL_SHARDS (as a CI system sets them for GoogleTest binaries);
// when sharding, GTEST_SHARD_STATUS_FILE is touched if set (GoogleTest's
// "this binary understands sharding" signal).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace punchlab::cli {

struct Shard {
  size_t index = 0;
  size_t count = 1;
  bool Takes(size_t item) const { return item % count == index; }
  std::string ToString() const;  // "1/4"
};

// `flag_value`: the --shard text, or nullopt when the flag was not given
// (then the environment decides). Throws UsageError on bad text or values.
std::optional<Shard> ResolveShard(const std::optional<std::string>& flag_value);

}  // namespace punchlab::cli
