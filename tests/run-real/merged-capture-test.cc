// The merged capture's interface descriptions (merged-capture.h); the merge
// itself runs Wireshark's tools and is tested in the lab
// (tests/real/test_run_real.py, test_pcap_merged_run_capture_...).
#include "run-real/merged-capture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "run-real-test-util.h"

namespace punchlab::runreal {
namespace {

using testing::LoadOk;

TEST(MergedCapture, DescriptionsSayWhichSideOfWhichBox) {
  const scenario::Scenario s = LoadOk(R"(
derp: {regions: [{id: 1, name: fra}]}
nats: {carrier: {}, home: {behind: carrier}}
firewalls: {office: {}}
nodes: {alice: {behind: home}, bob: {behind: office}, carol: {}}
)");
  const LabPlan plan = PlanLab(s);
  const auto address = [](const Uplink& u) { return u.address; };
  EXPECT_EQ(CaptureDescription(plan, plan.nodes[0].uplink),
            "node alice (eth0 " + address(plan.nodes[0].uplink) + "), inside nat home");
  EXPECT_EQ(CaptureDescription(plan, plan.FindBox("home")->uplink),
            "nat home's outside (wan " + address(plan.FindBox("home")->uplink) +
                "), inside nat carrier");
  EXPECT_EQ(CaptureDescription(plan, plan.FindBox("carrier")->uplink),
            "nat carrier's outside (wan " + address(plan.FindBox("carrier")->uplink) +
                "), on the internet");
  EXPECT_EQ(CaptureDescription(plan, plan.nodes[1].uplink),
            "node bob (eth0 " + address(plan.nodes[1].uplink) + "), inside firewall office");
  EXPECT_EQ(CaptureDescription(plan, plan.nodes[2].uplink),
            "node carol (eth0 " + address(plan.nodes[2].uplink) + "), on the internet");
  EXPECT_EQ(CaptureDescription(plan, plan.derp[0].uplink),
            "DERP region fra (eth0 " + address(plan.derp[0].uplink) + "), on the internet");
  EXPECT_EQ(CaptureDescription(plan, plan.control.uplink),
            "control server (eth0 " + address(plan.control.uplink) + "), on the internet");
  // Every link the lab captures has its own name in the merged file.
  std::vector<std::string> labels;
  for (const Uplink* u : plan.Uplinks()) labels.push_back(u->label);
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(std::adjacent_find(labels.begin(), labels.end()), labels.end());
}

}  // namespace
}  // namespace punchlab::runreal
