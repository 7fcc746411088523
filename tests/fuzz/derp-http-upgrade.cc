// The HTTP/1.1 upgrade that opens every DERP connection, both sides: the
// bytes a server reads before its first frame and a client reads before its
// first frame, cut into reads where the input says. Invariants: the cut does
// not change the outcome; a head never exceeds its limit; the head plus the
// rest handed back are exactly the bytes fed up to the blank line and after.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz-check.h"
#include "punchlab/derp/http-upgrade.h"

using namespace punchlab;
using namespace punchlab::derp;

namespace {

struct Outcome {
  HttpHeadReader::State state = HttpHeadReader::State::kNeedMore;
  size_t fed = 0;  // bytes fed until the reader stopped asking
  HttpHead head;
  Bytes rest;
};

Outcome Read(ByteView all, size_t read_size) {
  HttpHeadReader r;
  Outcome o;
  while (o.fed < all.size() && r.state() == HttpHeadReader::State::kNeedMore) {
    const size_t n = std::min(read_size, all.size() - o.fed);
    r.Feed(all.sub(o.fed, n));
    o.fed += n;
  }
  o.state = r.state();
  if (o.state == HttpHeadReader::State::kDone) {
    o.head = r.head();
    o.rest = r.TakeRest();
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const size_t read_size = in.ConsumeIntegralInRange<size_t>(1, 512);
  const std::string text = in.ConsumeRemainingBytesAsString();
  const ByteView all(reinterpret_cast<const uint8_t*>(text.data()), text.size());

  const Outcome whole = Read(all, all.size() + 1);
  const Outcome cut = Read(all, read_size);
  FUZZ_CHECK(whole.state == cut.state);
  if (whole.state == HttpHeadReader::State::kDone) {
    FUZZ_CHECK(whole.head.start_line == cut.head.start_line);
    FUZZ_CHECK(whole.head.fields == cut.head.fields);
    // The head ended at a blank line within the limit; what follows it is
    // handed back whole, however it was read.
    const size_t head_size = all.size() - whole.rest.size();
    FUZZ_CHECK(head_size <= HttpHeadReader::kMaxHeadSize);
    FUZZ_CHECK(head_size >= 4 && text.compare(head_size - 4, 4, "\r\n\r\n") == 0);
    FUZZ_CHECK(cut.rest == Bytes(all.begin() + head_size, all.begin() + cut.fed));
    std::string why;
    (void)CheckUpgradeRequest(whole.head, why);
    (void)CheckUpgradeResponse(whole.head, why);
    (void)whole.head.Field("Upgrade");
  }
  return 0;
}
