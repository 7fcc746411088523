// The HTTP/1.1 Upgrade that opens a DERP connection.
#include <gtest/gtest.h>

#include <string>

#include "punchlab/derp/http-upgrade.h"

namespace punchlab {
namespace derp {
namespace {

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }
Bytes Raw(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(DerpHttpUpgrade, RequestAndResponseBytes) {
  EXPECT_EQ(Str(BuildUpgradeRequest("derp1.example")),
            "GET /derp HTTP/1.1\r\nHost: derp1.example\r\nConnection: Upgrade\r\n"
            "Upgrade: DERP\r\n\r\n");
  KeyBytes raw;
  raw.fill(0xab);
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(Str(BuildUpgradeResponse(NodePublicKey(raw))),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
            "Derp-Version: 2\r\nDerp-Public-Key: " +
                hex + "\r\n\r\n");
  EXPECT_EQ(Str(BuildUpgradeRequiredResponse()).rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
}

TEST(DerpHttpUpgrade, ServerAcceptsOwnClientsRequestSplitAnywhere) {
  const Bytes request = BuildUpgradeRequest("derp");
  Bytes stream = request;
  stream.insert(stream.end(), {0x02, 0x00, 0x00});  // start of a DERP frame
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    HttpHeadReader reader;
    auto state = reader.Feed(ByteView(stream).sub(0, cut));
    if (state == HttpHeadReader::State::kNeedMore) state = reader.Feed(ByteView(stream).sub(cut));
    ASSERT_EQ(state, HttpHeadReader::State::kDone) << cut;
    std::string why;
    EXPECT_TRUE(CheckUpgradeRequest(reader.head(), why)) << why;
    EXPECT_EQ(reader.head().Field("host"), "derp");
    EXPECT_EQ(reader.head().Field("CONNECTION"), "Upgrade");
    // Whatever followed the head belongs to DERP, whichever read it came in.
    if (cut >= request.size()) {
      EXPECT_EQ(reader.TakeRest(), Bytes(stream.begin() + request.size(), stream.begin() + cut));
    } else {
      EXPECT_EQ(reader.TakeRest(), (Bytes{0x02, 0x00, 0x00}));
    }
  }
}

TEST(DerpHttpUpgrade, ClientAcceptsServerResponse) {
  KeyBytes raw{};
  HttpHeadReader reader;
  ASSERT_EQ(reader.Feed(BuildUpgradeResponse(NodePublicKey(raw))), HttpHeadReader::State::kDone);
  std::string why;
  EXPECT_TRUE(CheckUpgradeResponse(reader.head(), why)) << why;
  EXPECT_EQ(reader.head().Field("Derp-Version"), "2");

  HttpHeadReader refused;
  ASSERT_EQ(refused.Feed(BuildUpgradeRequiredResponse()), HttpHeadReader::State::kDone);
  EXPECT_FALSE(CheckUpgradeResponse(refused.head(), why));
  EXPECT_NE(why.find("426"), std::string::npos);
}

TEST(DerpHttpUpgrade, RequestChecks) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {
           Case{"GET / HTTP/1.1\r\nUpgrade: DERP\r\n\r\n", "not a DERP upgrade"},
           Case{"POST /derp HTTP/1.1\r\nUpgrade: DERP\r\n\r\n", "not a DERP upgrade"},
           Case{"GET /derp HTTP/1.0\r\nUpgrade: DERP\r\n\r\n", "not a DERP upgrade"},
           Case{"GET /derp HTTP/1.1\r\nHost: x\r\n\r\n", "Upgrade: DERP"},
           Case{"GET /derp HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "Upgrade: DERP"},
       }) {
    HttpHeadReader reader;
    ASSERT_EQ(reader.Feed(Raw(c.text)), HttpHeadReader::State::kDone) << c.text;
    std::string why;
    EXPECT_FALSE(CheckUpgradeRequest(reader.head(), why)) << c.text;
    EXPECT_NE(why.find(c.why), std::string::npos) << why;
  }
  HttpHeadReader lower;
  ASSERT_EQ(lower.Feed(Raw("GET /derp HTTP/1.1\r\nupgrade:   derp \r\n\r\n")),
            HttpHeadReader::State::kDone);
  std::string why;
  EXPECT_TRUE(CheckUpgradeRequest(lower.head(), why)) << why;
}

TEST(DerpHttpUpgrade, MalformedHeads) {
  for (const char* text : {"\r\n\r\n", "GET /derp HTTP/1.1\nUpgrade: DERP\r\n\r\n",
                           "GET /derp HTTP/1.1\r\nno colon here\r\n\r\n",
                           "GET /derp HTTP/1.1\r\n: empty name\r\n\r\n"}) {
    HttpHeadReader reader;
    EXPECT_EQ(reader.Feed(Raw(text)), HttpHeadReader::State::kError) << text;
    EXPECT_FALSE(reader.error().empty());
  }
}

TEST(DerpHttpUpgrade, HeadLongerThanLimitIsAnError) {
  HttpHeadReader reader;
  const std::string line = "X-Filler: " + std::string(100, 'a') + "\r\n";
  auto state = reader.Feed(Raw("GET /derp HTTP/1.1\r\n"));
  for (int i = 0; i < 100 && state == HttpHeadReader::State::kNeedMore; ++i) {
    state = reader.Feed(Raw(line));
  }
  EXPECT_EQ(state, HttpHeadReader::State::kError);
  EXPECT_NE(reader.error().find("8 KiB"), std::string::npos);
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
