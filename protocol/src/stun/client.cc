#include "punchlab/stun/client.h"

#include <algorithm>
#include <utility>

namespace punchlab {
namespace stun {

StunClient::StunClient(RandomSource& rng) : rng_(rng) {}

TransactionId StunClient::StartBinding(Timestamp now, const Endpoint& local, const Endpoint& server,
                                       const BindingOptions& options) {
  TransactionId id;
  do {
    id = options.classic ? TransactionId::RandomClassic(rng_) : TransactionId::Random(rng_);
  } while (pending_.count(id) != 0);

  Message req;
  req.method = kMethodBinding;
  req.cls = MessageClass::kRequest;
  req.transaction_id = id;
  if (options.change_ip || options.change_port) {
    req.change_request = ChangeRequest{options.change_ip, options.change_port};
  }
  // Classic servers know neither attribute, and stund rejects a whole request
  // whose string attribute is not a multiple of 4 bytes long.
  if (!options.classic) {
    if (!options.software.empty()) req.software = options.software;
    req.fingerprint = options.fingerprint;
  }

  Pending p;
  p.local = local;
  p.server = server;
  p.options = options;
  p.request = EncodeMessage(req);
  p.first_send = now;
  p.deadline = now + options.deadline;
  p.rto = options.initial_rto;
  ++stats_.transactions_started;
  Send(p, now);
  pending_.emplace(id, std::move(p));
  return id;
}

void StunClient::Send(Pending& p, Timestamp now) {
  transmits_.push_back(Transmit{p.local, p.server, p.request});
  ++stats_.requests_sent;
  p.last_send = now;
  p.next_send = now + p.rto;
  p.rto = std::min(p.rto * 2, p.options.max_rto);
}

bool StunClient::Cancel(const TransactionId& id) {
  if (pending_.erase(id) == 0) return false;
  ++stats_.cancelled;
  return true;
}

bool StunClient::IsPending(const TransactionId& id) const { return pending_.count(id) != 0; }

const StunExchange& Exchange(const StunClientEvent& ev) {
  return std::visit([](const auto& e) -> const StunExchange& { return e; }, ev);
}

void StunClient::Finish(const TransactionId& id, const Pending& p, Timestamp now,
                        StunClientEvent ev) {
  std::visit(
      [&](StunExchange& e) {
        e.transaction_id = id;
        e.local = p.local;
        e.server = p.server;
        e.retransmits = p.retransmits;
        e.options = p.options;
        e.rtt = now - p.first_send;
        e.rtt_since_last_send = now - p.last_send;
      },
      ev);
  events_.push_back(std::move(ev));
}

void StunClient::HandleDatagram(Timestamp now, const Endpoint& /*local*/, const Endpoint& remote,
                                ByteView payload) {
  // Bytes after the length the header declares are not the message's: some
  // servers and middleboxes pad datagrams, and Tailscale's client trims them
  // (net/stun ParseResponse), so we do too rather than lose the answer.
  if (payload.size() > kHeaderSize) {
    const size_t declared = kHeaderSize + static_cast<size_t>((payload[2] << 8) | payload[3]);
    if (declared < payload.size()) {
      payload = payload.sub(0, declared);
      ++stats_.trimmed_trailing_bytes;
    }
  }
  DecodeResult decoded = DecodeMessage(payload);
  if (!decoded) {
    ++stats_.dropped_malformed;
    ++stats_.malformed_by_reason[static_cast<size_t>(decoded.error)];
    return;
  }
  const Message& msg = *decoded.message;
  if (msg.method != kMethodBinding || (msg.cls != MessageClass::kSuccessResponse &&
                                       msg.cls != MessageClass::kErrorResponse)) {
    ++stats_.dropped_not_response;
    return;
  }
  auto it = pending_.find(msg.transaction_id);
  if (it == pending_.end()) {
    ++stats_.dropped_unmatched;
    return;
  }
  Pending& p = it->second;

  auto answered = [&](StunAnswer& a) {
    a.response_source = remote;
    a.response_origin = msg.ResponseOrigin();
    a.other_address = msg.OtherAddress();
    a.server_software = msg.software;
  };
  if (msg.cls == MessageClass::kSuccessResponse) {
    std::optional<Endpoint> mapped = msg.MappedEndpoint();
    if (!mapped) {
      // Useless answer; keep waiting in case a proper one follows.
      ++stats_.dropped_no_address;
      return;
    }
    StunSuccess ok;
    answered(ok);
    ok.mapped = *mapped;
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) in an IPv6 attribute is
    // that IPv4 address, as Tailscale reads it (netip Unmap).
    ok.mapped.ip = IpAddress::FromV6Mapped(ok.mapped.ip.ToV6Mapped());
    ++stats_.successes;
    Finish(it->first, p, now, std::move(ok));
  } else {
    StunErrorResponse error;
    answered(error);
    error.error = msg.error_code;
    error.unknown_attributes = msg.unknown_attributes;
    ++stats_.error_responses;
    Finish(it->first, p, now, std::move(error));
  }
  pending_.erase(it);
}

void StunClient::HandleTimeout(Timestamp now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (now >= p.deadline) {
      ++stats_.timeouts;
      Finish(it->first, p, now, StunTimeout{});
      it = pending_.erase(it);
      continue;
    }
    if (now >= p.next_send) {
      ++p.retransmits;
      ++stats_.retransmits;
      Send(p, now);
    }
    ++it;
  }
}

std::optional<Transmit> StunClient::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Timestamp> StunClient::PollTimeout() const {
  std::optional<Timestamp> earliest;
  for (const auto& [id, p] : pending_) {
    // No send at or after the deadline: the deadline itself is the next wake-up.
    const Timestamp t = p.next_send < p.deadline ? p.next_send : p.deadline;
    if (!earliest || t < *earliest) earliest = t;
  }
  return earliest;
}

std::optional<StunClientEvent> StunClient::PollEvent() {
  if (events_.empty()) return std::nullopt;
  StunClientEvent ev = std::move(events_.front());
  events_.pop_front();
  return ev;
}

}  // namespace stun
}  // namespace punchlab
