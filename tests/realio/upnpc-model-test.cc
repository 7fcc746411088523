// Debian's upnpc (miniupnpc 2.2.4) against the NAT model's UPnP IGD
// (nat/upnp-igd.h) served on loopback by realio's host: the simulated
// router must be an IGD a real client nobody here wrote can use. upnpc is
// given the description's URL (-u: no SSDP on loopback), adds a mapping
// (AddPortMapping, then GetSpecificPortMappingEntry to check it), and
// deletes it; each step is judged in the model's NAT table. Skipped when
// upnpc is missing (package miniupnpc; scripts/setup.sh installs it).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/random.h"
#include "realio/event-loop.h"
#include "realio/host.h"

namespace punchlab::realio {
namespace {

const IpAddress kPublic = IpAddress::V4(203, 0, 113, 1);

bool HaveUpnpc() { return std::system("command -v upnpc >/dev/null 2>&1") == 0; }

// upnpc with `args`, its stdout and stderr collected, while `loop` serves
// the IGD; nullopt when it did not end within the bound.
std::optional<std::string> Upnpc(EventLoop& loop, std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    args.insert(args.begin(), "upnpc");
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("upnpc", argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  bool ended = false;
  loop.Watch(out[0], POLLIN, [&](short) {
    char buf[4096];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) text.append(buf, static_cast<size_t>(n));
    if (n <= 0) {
      loop.Unwatch(out[0]);
      ended = true;
    }
  });
  const bool done = RunUntil(loop, [&] { return ended; });
  int status = 0;
  if (!done) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  loop.Unwatch(out[0]);
  close(out[0]);
  if (!done) return std::nullopt;
  return text;
}

TEST(UpnpcAgainstTheModel, AddsChecksAndDeletesAMapping) {
  if (!HaveUpnpc()) GTEST_SKIP() << "upnpc is missing (Debian package miniupnpc)";
  DeterministicRandom rng(1);
  nat::NatTable table(*nat::ParseNatSpec("symmetric").config, {kPublic}, rng);
  nat::PortMappingConfig c;
  c.upnp = true;
  nat::UpnpIgd igd(c, table);
  nat::UpnpIgdHttp http(igd);
  EventLoop loop;
  Host host(loop, http);
  const Endpoint at = host.Listen(kLoopbackAnyPort);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(at.port) + nat::UpnpIgd::kDescriptionPath;

  const std::optional<std::string> add =
      Upnpc(loop, {"-u", url, "-a", "127.0.0.1", "41641", "40000", "UDP", "3600"});
  ASSERT_TRUE(add) << "upnpc did not end";
  EXPECT_NE(add->find("ExternalIPAddress = 203.0.113.1"), std::string::npos) << *add;
  EXPECT_NE(add->find("external 203.0.113.1:40000 UDP is redirected to internal "
                      "127.0.0.1:41641 (duration=3600)"),
            std::string::npos)
      << *add;
  const Endpoint inside(IpAddress::V4(127, 0, 0, 1), 41641);
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));
  EXPECT_EQ(igd.counters().granted, 1u);
  // upnpc read the mapping back (its "duration=3600" above is the answer's).
  EXPECT_EQ(igd.counters().entries_asked, 1u);

  // Someone else's port: AddPortMapping fails with 718, as upnpc reports it.
  const std::optional<std::string> taken =
      Upnpc(loop, {"-u", url, "-a", "127.0.0.1", "41642", "40000", "UDP", "3600"});
  ASSERT_TRUE(taken);
  EXPECT_NE(taken->find("failed with code 718 (ConflictInMappingEntry)"), std::string::npos)
      << *taken;
  EXPECT_EQ(table.PortMapped(nat::Protocol::kUdp, inside), Endpoint(kPublic, 40000));

  const std::optional<std::string> del = Upnpc(loop, {"-u", url, "-d", "40000", "UDP"});
  ASSERT_TRUE(del);
  EXPECT_EQ(del->find("failed"), std::string::npos) << *del;
  EXPECT_FALSE(table.PortMapped(nat::Protocol::kUdp, inside));
  EXPECT_EQ(igd.counters().deleted, 1u);
}

}  // namespace
}  // namespace punchlab::realio
