#include "link/link-model.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

namespace punchlab::link {

Duration TxTime(uint64_t bytes, uint64_t rate_bps) {
  if (rate_bps == 0) return Duration::Zero();
  // bytes * 8e9 fits 64 bits up to 2 GB, far beyond any packet.
  const uint64_t bits_ns = bytes * 8u * 1000000000u;
  return Duration::Nanos(static_cast<int64_t>((bits_ns + rate_bps / 2) / rate_bps));
}

LinkModel::LinkModel(DeterministicRandom random) { SetRandom(std::move(random)); }

void LinkModel::SetRandom(DeterministicRandom random) {
  random_ = std::make_unique<DeterministicRandom>(std::move(random));
}

Duration LinkModel::DrawDelay() {
  if (shape_.jitter <= Duration::Zero()) return shape_.delay;
  if (!random_) throw std::logic_error("LinkModel: jitter without a random source");
  const int64_t j = shape_.jitter.nanos();
  const int64_t offset =
      random_->UniformDuration(Duration::Zero(), Duration::Nanos(2 * j)).nanos() - j;
  return Duration::Nanos(std::max<int64_t>(0, shape_.delay.nanos() + offset));
}

bool LinkModel::DrawLoss() {
  if (shape_.loss <= 0) return false;
  if (!random_) throw std::logic_error("LinkModel: loss without a random source");
  const double u = static_cast<double>(random_->NextU64() >> 11) * 0x1.0p-53;
  if (u >= shape_.loss) return false;
  ++counters_.lost;
  return true;
}

std::optional<Duration> LinkModel::Transmit(Duration now, Duration tx) {
  ++counters_.sent;
  if (shape_.down) {
    ++counters_.dropped_down;
    return std::nullopt;
  }
  const Duration start = std::max(now, tx_busy_until_);
  if (start - now > kMaxBacklog) {
    ++counters_.dropped_queue;
    return std::nullopt;
  }
  tx_busy_until_ = start + tx;
  if (DrawLoss()) return std::nullopt;
  return tx_busy_until_ + DrawDelay();
}

std::optional<Duration> LinkModel::Receive(Duration now, Duration at, Duration tx) {
  // Every later packet reaches the link at `now` or after: of those that
  // reached it before, only the last one can still be ahead of it.
  auto& arrivals = rx_done_by_arrival_;
  while (arrivals.size() > 1 && arrivals[1].first <= now) arrivals.pop_front();
  if (DrawLoss()) return std::nullopt;
  // FIFO by the time packets reach the link, not by when their senders sent
  // them: a control server 150 ms away must not hold up a peer 20 ms away.
  const auto ahead = std::upper_bound(
      arrivals.begin(), arrivals.end(), at,
      [](Duration t, const std::pair<Duration, Duration>& a) { return t < a.first; });
  const Duration free_at = ahead == arrivals.begin() ? Duration::Zero() : std::prev(ahead)->second;
  const Duration done = std::max(at + DrawDelay(), free_at) + tx;
  arrivals.insert(ahead, {at, done});
  return done;
}

Duration LinkModel::InOrder(Duration at) {
  in_order_until_ = std::max(at, in_order_until_);
  return in_order_until_;
}

}  // namespace punchlab::link
