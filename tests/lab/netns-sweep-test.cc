// The namespace sweep's parts (lab/netns-lab.h, namespace sweep) without
// root: this process's own network namespace stands in for a lab's, so the
// children the tests start are inside it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lab/child-process.h"
#include "lab/netns-lab.h"

namespace punchlab::lab {
namespace {

using sweep::NamespaceId;

constexpr const char* kOwnNamespace = "/proc/self/ns/net";

std::vector<NamespaceId> OwnNamespace() {
  std::vector<NamespaceId> ids;
  std::optional<NamespaceId> id = sweep::OpenNamespaceId(kOwnNamespace, "own");
  if (id) ids.push_back(std::move(*id));
  return ids;
}

// The id is the file's device and inode, and the file stays open with it
// (what keeps a namespace, and so its inode number, from going to another).
TEST(OpenNamespaceId, HoldsTheNamespaceFileOpen) {
  const std::optional<NamespaceId> id = sweep::OpenNamespaceId(kOwnNamespace, "own");
  ASSERT_TRUE(id.has_value());
  struct stat st {};
  ASSERT_EQ(stat(kOwnNamespace, &st), 0);
  EXPECT_EQ(id->dev, st.st_dev);
  EXPECT_EQ(id->ino, st.st_ino);
  EXPECT_EQ(id->name, "own");
  ASSERT_TRUE(id->fd.valid());
  struct stat held {};
  ASSERT_EQ(fstat(id->fd.get(), &held), 0);
  EXPECT_EQ(held.st_ino, st.st_ino);
  EXPECT_NE(fcntl(id->fd.get(), F_GETFD) & FD_CLOEXEC, 0);  // not passed to programs
  EXPECT_FALSE(sweep::OpenNamespaceId("/run/netns/plab-no-such-namespace", "none").has_value());
}

// Both ways of signalling (a pidfd; by pid, where pidfd_open is missing or
// forbidden) end a process inside the namespaces and leave one outside them.
class SignalInside : public testing::TestWithParam<sweep::SignalVia> {};

TEST_P(SignalInside, SignalsAProcessInsideTheNamespaces) {
  const std::vector<NamespaceId> ids = OwnNamespace();
  ASSERT_EQ(ids.size(), 1u);
  ChildProcess child({"sleep", "30"});
  sweep::SignalInside(child.pid(), SIGTERM, ids, GetParam());
  ASSERT_TRUE(child.WaitExit(Duration::Seconds(10)));
  EXPECT_EQ(child.DescribeStatus(), "killed by signal 15");
}

TEST_P(SignalInside, LeavesAProcessOutsideThem) {
  // An id no process has as its namespace.
  std::vector<NamespaceId> ids;
  std::optional<NamespaceId> other = sweep::OpenNamespaceId("/dev/null", "other");
  ASSERT_TRUE(other.has_value());
  ids.push_back(std::move(*other));
  ChildProcess child({"sleep", "30"});
  sweep::SignalInside(child.pid(), SIGTERM, ids, GetParam());
  EXPECT_FALSE(child.WaitExit(Duration::Millis(200)));
  child.Stop(Duration::Seconds(5));
}

INSTANTIATE_TEST_SUITE_P(Via, SignalInside,
                         testing::Values(sweep::SignalVia::kPidfd, sweep::SignalVia::kKill),
                         [](const testing::TestParamInfo<sweep::SignalVia>& param) {
                           return param.param == sweep::SignalVia::kPidfd ? std::string("Pidfd")
                                                                         : std::string("Kill");
                         });

// ReadProcStat's start time: a child starts no earlier than its parent.
TEST(ReadProcStat, StartTimeOrdersAChildAfterItsParent) {
  const std::optional<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.has_value());
  ChildProcess child({"sleep", "30"});
  const std::optional<ProcStat> stat = ReadProcStat(child.pid());
  ASSERT_TRUE(stat.has_value());
  EXPECT_GT(self->start_time, 0u);
  EXPECT_GE(stat->start_time, self->start_time);
  child.Stop(Duration::Seconds(5));
}

// A member of a live lab process's session is spared; a process that only
// carries the session id (the earlier holder of the leader's pid left it
// to a daemon) started before the leader, and is not.
TEST(IsSpared, OnlyWhatStartedInTheLeadersSession) {
  ChildProcess leader({"sh", "-c", "sleep 30 & echo $!; wait"});
  const pid_t member = std::stoi(leader.WaitForLine(std::regex("^[0-9]+$"), Duration::Seconds(10)));
  const std::optional<ProcStat> leader_stat = ReadProcStat(leader.pid());
  const std::optional<ProcStat> member_stat = ReadProcStat(member);
  ASSERT_TRUE(leader_stat.has_value());
  ASSERT_TRUE(member_stat.has_value());
  ASSERT_EQ(member_stat->session, leader.pid());
  const sweep::SparedSessions spared = {{leader.pid(), leader_stat->start_time}};
  EXPECT_TRUE(sweep::IsSpared(*leader_stat, spared));
  EXPECT_TRUE(sweep::IsSpared(*member_stat, spared));
  // This test process started before the leader: with the leader's session
  // id it is what a daemon of the pid's earlier holder looks like.
  // (Both may have started within one clock tick: then only the made-up
  // one below is earlier.)
  std::optional<ProcStat> older = ReadProcStat(getpid());
  ASSERT_TRUE(older.has_value());
  older->session = leader.pid();
  if (older->start_time < leader_stat->start_time) {
    EXPECT_FALSE(sweep::IsSpared(*older, spared));
  }
  ProcStat earlier = *member_stat;
  earlier.start_time = leader_stat->start_time - 1;
  EXPECT_FALSE(sweep::IsSpared(earlier, spared));
  // A session no spared leader leads.
  EXPECT_FALSE(sweep::IsSpared(*ReadProcStat(getpid()), spared));
  leader.Stop(Duration::Seconds(5));
}

}  // namespace
}  // namespace punchlab::lab
