// The scenario worlds' fast paths through ns-3's IPv4 (a NAT box's translated
// packets, a host's own in (UDP to its sockets' owner) and its UDP datagrams
// out: ipv4-fast-path.h,
// NatMiddlebox::EnableFastPath)
// against ns-3's own path: the same results and the same bytes on every
// link, over NAT kinds, nested NATs and hairpins, port mapping (NAT-PMP,
// PCP, UPnP and its SSDP), a firewall, faults (address changes, reboots, a
// restarted node's ICMP port unreachables, links down), DERP and control over
// TCP, with ns-3's checksums off (the default) and on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "model/ipv4-fast-path.h"
#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "results/write-json.h"
#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

namespace fs = std::filesystem;

struct Run {
  std::string json;
  std::map<std::string, std::string> pcaps;  // file name -> bytes
  uint64_t delivered_fast = 0;  // packets the fast paths took in the run
  uint64_t forwarded_fast = 0;
  uint64_t sent_fast = 0;
  uint64_t received_fast = 0;
  uint64_t udp_to_ns3 = 0;  // datagrams for a fast receiver left to ns-3
  uint64_t receivers_refused = 0;
};

// ns-3's ChecksumEnabled global value, set for the object's life.
class ScopedChecksums {
 public:
  explicit ScopedChecksums(bool on) {
    ns3::GlobalValue::GetValueByName("ChecksumEnabled", before_);
    ns3::GlobalValue::Bind("ChecksumEnabled", ns3::BooleanValue(on));
  }
  ~ScopedChecksums() { ns3::GlobalValue::Bind("ChecksumEnabled", before_); }
  ScopedChecksums(const ScopedChecksums&) = delete;
  ScopedChecksums& operator=(const ScopedChecksums&) = delete;

 private:
  ns3::BooleanValue before_;
};

Run RunWith(const scenario::Scenario& s, bool fast, const fs::path& dir) {
  const ScopedIpv4FastPaths setting(fast);
  const ns3::Ipv4FastPathCounts before = ns3::Ipv4FastPathCountsSoFar();
  results::RunOptions options;
  options.pcap = true;
  options.out_dir = dir.string();
  Run run;
  run.json = results::ResultsJsonText(RunInSimulation(s, options));
  const ns3::Ipv4FastPathCounts after = ns3::Ipv4FastPathCountsSoFar();
  run.delivered_fast = after.delivered - before.delivered;
  run.forwarded_fast = after.forwarded - before.forwarded;
  run.sent_fast = after.sent - before.sent;
  run.received_fast = after.received - before.received;
  run.udp_to_ns3 = after.udp_to_ns3 - before.udp_to_ns3;
  run.receivers_refused = after.receivers_refused - before.receivers_refused;
  for (const fs::directory_entry& e : fs::directory_iterator(dir / "pcap")) {
    std::ifstream in(e.path(), std::ios::binary);
    run.pcaps[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return run;
}

void ExpectSameBothWays(const scenario::Scenario& s) {
  std::string templ = (fs::temp_directory_path() / "punchlab-fastpath-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const fs::path dir(templ);
  const Run ns3 = RunWith(s, false, dir / "ns3");
  const Run fast = RunWith(s, true, dir / "fast");
  fs::remove_all(dir);
  // Off means off, and on means the fast paths carried the run: hosts took
  // their own packets, handed datagrams to their sockets' owners and sent
  // their datagrams, and NAT boxes forwarded
  // (every library scenario here has a NAT between its nodes).
  EXPECT_EQ(ns3.delivered_fast, 0u) << s.name;
  EXPECT_EQ(ns3.forwarded_fast, 0u) << s.name;
  EXPECT_EQ(ns3.sent_fast, 0u) << s.name;
  EXPECT_EQ(ns3.received_fast, 0u) << s.name;
  EXPECT_GT(fast.delivered_fast, 0u) << s.name;
  EXPECT_GT(fast.forwarded_fast, 0u) << s.name;
  EXPECT_GT(fast.sent_fast, 0u) << s.name;
  EXPECT_GT(fast.received_fast, 0u) << s.name;
  EXPECT_EQ(ns3.udp_to_ns3, 0u) << s.name;
  EXPECT_EQ(ns3.receivers_refused, 0u) << s.name;
  // Every socket a scenario world binds to an address is its MachineHost's,
  // bound to no device: ns-3 would pick each alone, so none is refused.
  EXPECT_EQ(fast.receivers_refused, 0u) << s.name;
  EXPECT_EQ(ns3.json, fast.json) << s.name;
  ASSERT_FALSE(ns3.pcaps.empty());
  ASSERT_EQ(ns3.pcaps.size(), fast.pcaps.size()) << s.name;
  for (const auto& [name, bytes] : ns3.pcaps) {
    const auto it = fast.pcaps.find(name);
    ASSERT_NE(it, fast.pcaps.end()) << s.name << ": " << name;
    EXPECT_GT(bytes.size(), 24u) << s.name << ": " << name << " carried nothing";
    EXPECT_TRUE(bytes == it->second) << s.name << ": " << name << " differs";
  }
}

scenario::Scenario Library(const std::string& path) {
  scenario::LoadResult r = scenario::LoadScenarioFile(std::string(PUNCHLAB_SOURCE_DIR) + "/" + path);
  for (const scenario::Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  return r.scenario.value_or(scenario::Scenario{});
}

const char* const kLibrary[] = {
    "scenarios/matrix/port-restricted--symmetric.yaml",  // DERP only
    "scenarios/matrix/symmetric+upnp--symmetric.yaml",
    "scenarios/matrix/symmetric+pcp--symmetric.yaml",
    "scenarios/matrix/symmetric+pmp--symmetric.yaml",
    "scenarios/field/cgnat-shared-no-hairpin.yaml",
    "scenarios/field/corporate-udp-blocked.yaml",
    "scenarios/field/fault-gauntlet.yaml",
    "scenarios/field/peer-restart-new-disco-key.yaml",
    "scenarios/field/public-address-change.yaml",
    "scenarios/field/upnp-multicast-only.yaml",
};

TEST(RunSimFastPaths, SameResultsAndBytesAsNs3sOwnPath) {
  for (const char* path : kLibrary) ExpectSameBothWays(Library(path));
}

TEST(RunSimFastPaths, SameWithNs3ChecksumsOn) {
  const ScopedChecksums checksums(true);
  ExpectSameBothWays(testing::LoadOk(testing::PairYaml(
      "port-restricted-cone", "full-cone",
      "events:\n"
      "  - {at: 8s, nat: home, action: change-address}\n"
      "  - {at: 15s, node: bob, action: restart}\n")));
  ExpectSameBothWays(Library("scenarios/matrix/symmetric+upnp--symmetric.yaml"));
}

}  // namespace
}  // namespace punchlab::runsim
