// The wire's control lines: what the lab writes is what the wire reads,
// and a bad line is refused with a sentence naming what is wrong.
#include "link/wire-protocol.h"

#include <gtest/gtest.h>

namespace punchlab::link {
namespace {

TEST(WireProtocol, LinkShapeAndStatsRoundTrip) {
  const WireCommand link{3, WireLinkCommand{"node-alice", "plab1x1-node0", "eth0", "plab1x1-inet", "p4"}};
  EXPECT_EQ(FormatWireCommand(link), "3 link node-alice plab1x1-node0 eth0 plab1x1-inet p4");
  const WireCommand parsed = ParseWireCommand(FormatWireCommand(link));
  EXPECT_EQ(parsed.seq, 3u);
  EXPECT_EQ(std::get<WireLinkCommand>(parsed.what).if_b, "p4");

  Shape shape{Duration::Millis(20), Duration::Micros(1500), 0.125, 10'000'000, true};
  const std::string line = FormatWireCommand({4, WireShapeCommand{"nat-home", false, shape}});
  EXPECT_EQ(line, "4 shape nat-home ba 20000000 1500000 0.125 10000000 down");
  const WireShapeCommand s = std::get<WireShapeCommand>(ParseWireCommand(line).what);
  EXPECT_FALSE(s.a_to_b);
  EXPECT_EQ(s.shape, shape);

  // A loss that is not a short decimal survives the text exactly.
  shape.loss = 1 - (1 - 0.003) * (1 - 0.01);
  const WireShapeCommand exact = std::get<WireShapeCommand>(
      ParseWireCommand(FormatWireCommand({5, WireShapeCommand{"x", true, shape}})).what);
  EXPECT_EQ(exact.shape.loss, shape.loss);

  EXPECT_TRUE(std::holds_alternative<WireStatsCommand>(ParseWireCommand("9 stats").what));
  EXPECT_TRUE(std::holds_alternative<WireFlowsCommand>(ParseWireCommand("10 flows").what));
  EXPECT_EQ(FormatWireCommand({11, WireFlowsCommand{}}), "11 flows");
}

TEST(WireProtocol, BadLinesSayWhatIsWrong) {
  auto error = [](const std::string& line) {
    try {
      ParseWireCommand(line);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error("1 shape x ab 1 0 1.5 0 up").find("loss '1.5'"), std::string::npos);
  EXPECT_NE(error("1 shape x sideways 1 0 0 0 up").find("direction"), std::string::npos);
  EXPECT_NE(error("1 shape x ab -5 0 0 0 up").find("delay '-5'"), std::string::npos);
  EXPECT_NE(error("1 shape x ab 1 0 0 0 maybe").find("up or down"), std::string::npos);
  EXPECT_NE(error("1 link x a b c").find("link takes"), std::string::npos);
  EXPECT_NE(error("1 reboot").find("unknown command 'reboot'"), std::string::npos);
  EXPECT_NE(error("x stats").find("sequence number"), std::string::npos);
  EXPECT_NE(error("").find("expected"), std::string::npos);
}

TEST(WireProtocol, Replies) {
  EXPECT_EQ(FormatWireReply({7, true, ""}), "7 ok");
  EXPECT_EQ(FormatWireReply({8, false, "no link 'x'"}), "8 error no link 'x'");
  const auto stats = ParseWireReply("9 ok {\"a\":1}");
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->ok);
  EXPECT_EQ(stats->text, "{\"a\":1}");
  const auto error = ParseWireReply("8 error no link 'x'");
  ASSERT_TRUE(error);
  EXPECT_FALSE(error->ok);
  EXPECT_EQ(error->text, "no link 'x'");
  EXPECT_FALSE(ParseWireReply("okay"));
  EXPECT_FALSE(ParseWireReply("7 okay"));
}

}  // namespace
}  // namespace punchlab::link
