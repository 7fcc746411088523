// The disco log of a simulated run (results::Results::disco_log): every
// disco message both nodes sent and received, matched by txid across the two
// ends, the NAT's filtering visible as pings that never arrived, the path
// decisions the same as the timeline's, and the log changing nothing else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "results/write-disco-csv.h"
#include "results/write-json.h"
#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using results::DiscoStep;
using results::DiscoStepKind;
using testing::PairYaml;
using testing::RunYaml;

std::vector<DiscoStep> Steps(const results::Results& r, const std::string& node,
                             DiscoStepKind what) {
  std::vector<DiscoStep> out;
  for (const DiscoStep& d : r.disco_log) {
    if (d.node == node && d.what == what) out.push_back(d);
  }
  return out;
}

// Port-restricted cones on both sides: the first pings die at the far NAT
// (it has sent nothing there yet), the CallMeMaybe over DERP makes the other
// side ping back, and both NATs open.
TEST(RunSimDiscoLog, APunchBetweenTwoPortRestrictedConesIsInTheLog) {
  const results::Results r = RunYaml(PairYaml("port-restricted-cone", "port-restricted-cone"));
  ASSERT_FALSE(r.disco_log.empty());
  for (size_t i = 1; i < r.disco_log.size(); ++i) {
    ASSERT_LE(r.disco_log[i - 1].at, r.disco_log[i].at) << "the log is in time order";
  }

  // Every ping received was sent by the peer earlier, with the same txid;
  // over UDP the receiver saw it come from a NAT's public side.
  std::map<std::string, DiscoStep> sent_pings;
  for (const DiscoStep& d : r.disco_log) {
    if (d.what == DiscoStepKind::kPingSent) {
      EXPECT_EQ(d.txid.size(), 24u);
      sent_pings[d.txid] = d;
    }
    if (d.what != DiscoStepKind::kPingReceived) continue;
    const auto it = sent_pings.find(d.txid);
    ASSERT_NE(it, sent_pings.end()) << "ping " << d.txid << " received but never sent";
    EXPECT_EQ(it->second.node, d.peer);
    EXPECT_EQ(it->second.peer, d.node);
    EXPECT_EQ(it->second.via == "udp", d.via == "udp");
    EXPECT_LT(it->second.at, d.at);
  }
  // The NAT's filtering shows: some direct pings never arrived.
  size_t dropped = 0;
  for (const auto& [txid, ping] : sent_pings) {
    bool arrived = false;
    for (const DiscoStep& d : r.disco_log) {
      arrived = arrived || (d.what == DiscoStepKind::kPingReceived && d.txid == txid);
    }
    if (!arrived && ping.via == "udp") ++dropped;
  }
  EXPECT_GT(dropped, 0u);

  // CallMeMaybe goes over DERP and arrives over DERP, with the endpoints.
  const auto cmm_sent = Steps(r, "alice", DiscoStepKind::kCallMeMaybeSent);
  ASSERT_FALSE(cmm_sent.empty());
  EXPECT_EQ(cmm_sent[0].via, "derp 1");
  EXPECT_THAT(cmm_sent[0].reason, ::testing::StartsWith("our endpoints ["));
  const auto cmm_received = Steps(r, "bob", DiscoStepKind::kCallMeMaybeReceived);
  ASSERT_FALSE(cmm_received.empty());
  EXPECT_EQ(cmm_received[0].via, "derp 1");
  EXPECT_GT(cmm_received[0].at, cmm_sent[0].at);

  // Each node's path decisions are the timeline's (less what the runner adds:
  // peer-added), and a move to direct follows a pong that proved the path.
  for (const std::string node : {"alice", "bob"}) {
    const std::string peer = node == "alice" ? "bob" : "alice";
    std::vector<std::pair<Duration, std::string>> from_timeline, from_log;
    for (const results::PathChange& c : testing::Timeline(r, node, peer)) {
      if (c.reason != "peer-added") from_timeline.emplace_back(c.at, c.detail);
    }
    bool pong_before = false;
    bool went_direct = false;
    std::string trusted;  // the endpoint a pong made trusted, as "direct <ep>"
    for (const DiscoStep& d : r.disco_log) {
      if (d.node != node) continue;
      if (d.what == DiscoStepKind::kTrust && d.reason.rfind("trusted: a pong proved it", 0) == 0) {
        trusted = "direct " + d.endpoint;
      }
      if (d.what == DiscoStepKind::kPongReceived && d.via == "udp" &&
          d.reason.rfind("rtt ", 0) == 0) {
        pong_before = true;
      }
      if (d.what != DiscoStepKind::kPath) continue;
      from_log.emplace_back(d.at, d.endpoint);
      if (d.endpoint.rfind("direct ", 0) == 0) {
        EXPECT_TRUE(pong_before) << node << " went direct at " << d.at.ToString()
                                 << " without a pong";
        EXPECT_EQ(d.endpoint, trusted) << node << " went direct to an endpoint it did not trust";
        went_direct = true;
      }
    }
    EXPECT_EQ(from_log, from_timeline) << node;
    EXPECT_TRUE(went_direct) << node;
    // The peer's endpoints came from the netmap before any disco message.
    const auto candidates = Steps(r, node, DiscoStepKind::kCandidate);
    ASSERT_FALSE(candidates.empty()) << node;
    EXPECT_EQ(candidates[0].reason, "netmap");
    EXPECT_LE(candidates[0].at, Steps(r, node, DiscoStepKind::kPingSent).at(0).at);
  }
}

// The log is an observation: turning it off changes nothing the run did.
TEST(RunSimDiscoLog, OffLeavesItEmptyAndTheRunUnchanged) {
  const std::string yaml = PairYaml("port-restricted-cone", "symmetric");
  const results::Results on = RunYaml(yaml);
  results::Results off = RunYaml("disco_log: false\n" + yaml);
  EXPECT_FALSE(on.disco_log.empty());
  EXPECT_TRUE(off.disco_log.empty());
  off.disco_log = on.disco_log;
  off.scenario = on.scenario;
  EXPECT_EQ(results::ResultsJsonText(off), results::ResultsJsonText(on));
}

TEST(RunSimDiscoLog, SameSeedSameLog) {
  const std::string yaml = PairYaml("restricted-cone", "port-restricted-cone");
  EXPECT_EQ(results::DiscoCsvText(RunYaml(yaml)), results::DiscoCsvText(RunYaml(yaml)));
}

}  // namespace
}  // namespace punchlab::runsim
