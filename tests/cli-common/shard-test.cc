// Sharding (cli-common/shard.h): --shard INDEX/COUNT or GoogleTest's
// environment; shards partition the items; bad values are usage errors.
#include "cli-common/shard.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "cli-common/flags.h"

namespace punchlab::cli {
namespace {

struct CleanEnv {
  CleanEnv() { Clear(); }
  ~CleanEnv() { Clear(); }
  static void Clear() {
    unsetenv("GTEST_SHARD_INDEX");
    unsetenv("GTEST_TOTAL_SHARDS");
    unsetenv("GTEST_SHARD_STATUS_FILE");
  }
};

TEST(Shard, FlagOrEnvironmentOrNothing) {
  CleanEnv env;
  EXPECT_FALSE(ResolveShard(std::nullopt));
  const std::optional<Shard> flag = ResolveShard(std::string("1/3"));
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->ToString(), "1/3");
  setenv("GTEST_SHARD_INDEX", "2", 1);
  setenv("GTEST_TOTAL_SHARDS", "5", 1);
  const std::optional<Shard> from_env = ResolveShard(std::nullopt);
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->ToString(), "2/5");
  EXPECT_EQ(ResolveShard(std::string("0/2"))->ToString(), "0/2");  // the flag wins
}

TEST(Shard, ShardsPartitionTheItems) {
  for (size_t count = 1; count <= 4; ++count) {
    std::vector<int> taken(10, 0);
    for (size_t index = 0; index < count; ++index) {
      const Shard s{index, count};
      for (size_t i = 0; i < taken.size(); ++i) taken[i] += s.Takes(i) ? 1 : 0;
    }
    for (int t : taken) EXPECT_EQ(t, 1) << count;
  }
}

TEST(Shard, BadValuesAreUsageErrors) {
  CleanEnv env;
  for (const char* bad : {"3/2", "1", "a/b", "1/0", "-1/2", "/2", "1/"}) {
    EXPECT_THROW(ResolveShard(std::string(bad)), UsageError) << bad;
  }
  setenv("GTEST_SHARD_INDEX", "1", 1);
  EXPECT_THROW(ResolveShard(std::nullopt), UsageError);  // the total is missing
  setenv("GTEST_TOTAL_SHARDS", "1", 1);
  EXPECT_THROW(ResolveShard(std::nullopt), UsageError);  // index 1 of 1
}

TEST(Shard, TouchesGoogleTestsStatusFile) {
  CleanEnv env;
  const std::string status = ::testing::TempDir() + "/punchlab-shard-status";
  std::remove(status.c_str());
  setenv("GTEST_SHARD_STATUS_FILE", status.c_str(), 1);
  ASSERT_TRUE(ResolveShard(std::string("0/2")));
  std::FILE* touched = std::fopen(status.c_str(), "r");
  EXPECT_NE(touched, nullptr);
  if (touched) std::fclose(touched);
  std::remove(status.c_str());
}

}  // namespace
}  // namespace punchlab::cli
