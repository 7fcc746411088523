#include "cli-common/shard.h"

#include <cstdlib>
#include <fstream>

#include "cli-common/flags.h"

namespace punchlab::cli {
namespace {

bool ParseCount(const std::string& text, size_t& out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  out = static_cast<size_t>(std::stoul(text));
  return true;
}

Shard Checked(size_t index, size_t count, const std::string& where) {
  if (count < 1 || index >= count) {
    throw UsageError(where + ": shard " + std::to_string(index) + "/" + std::to_string(count) +
                     " needs 0 <= INDEX < COUNT");
  }
  return Shard{index, count};
}

}  // namespace

std::string Shard::ToString() const { return std::to_string(index) + "/" + std::to_string(count); }

std::optional<Shard> ResolveShard(const std::optional<std::string>& flag_value) {
  std::optional<Shard> shard;
  if (flag_value) {
    const size_t slash = flag_value->find('/');
    size_t index = 0, count = 0;
    if (slash == std::string::npos || !ParseCount(flag_value->substr(0, slash), index) ||
        !ParseCount(flag_value->substr(slash + 1), count)) {
      throw UsageError("--shard: '" + *flag_value + "' is not INDEX/COUNT (e.g. 0/4)");
    }
    shard = Checked(index, count, "--shard");
  } else {
    const char* index_env = std::getenv("GTEST_SHARD_INDEX");
    const char* total_env = std::getenv("GTEST_TOTAL_SHARDS");
    if (!index_env && !total_env) return std::nullopt;
    size_t index = 0, count = 0;
    if (!index_env || !total_env || !ParseCount(index_env, index) || !ParseCount(total_env, count)) {
      throw UsageError("GTEST_SHARD_INDEX and GTEST_TOTAL_SHARDS must both be set to numbers");
    }
    shard = Checked(index, count, "GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS");
  }
  if (const char* status = std::getenv("GTEST_SHARD_STATUS_FILE"); status && *status) {
    std::ofstream touch(status, std::ios::app);
  }
  return shard;
}

}  // namespace punchlab::cli
