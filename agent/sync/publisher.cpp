#include "sync/publisher.hpp"

#include <boost/asio/post.hpp>

#include "app/log.hpp"

namespace depot::sync {

namespace log = app::log;

Publisher::Publisher(boost::asio::io_context& io, store::Database& db, PublisherOptions options,
                     Send send, std::function<std::int64_t()> mono_now_ns,
                     std::function<std::string()> wall_now, std::function<std::string()> new_id)
    : io_(io),
      db_(db),
      o_(std::move(options)),
      send_(std::move(send)),
      mono_now_ns_(std::move(mono_now_ns)),
      wall_now_(std::move(wall_now)),
      new_id_(std::move(new_id)),
      topics_(o_.site, o_.gateway),
      rate_(o_.drain_per_s, std::max(o_.drain_per_s, o_.batch_records)),
      poll_(io),
      budget_(io),
      removal_(io) {}

void Publisher::start() {
  running_ = true;
  arm_poll();
  // The first budget check runs at once: a gateway that was offline for days starts within it.
  boost::asio::post(io_, [this] {
    if (!running_) return;
    budget_.expires_after(std::chrono::milliseconds(0));
    arm_budget();
  });
}

void Publisher::stop() {
  running_ = false;
  poll_.cancel();
  budget_.cancel();
  removal_.cancel();
  remove_acked();  // what the broker has acknowledged leaves the outbox now
}

void Publisher::arm_poll() {
  poll_.expires_after(o_.poll);
  poll_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    if (!acks_.empty() && !removal_posted_) remove_acked();
    pump();
    arm_poll();
  });
}

void Publisher::arm_budget() {
  budget_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    auto r = store::outbox_enforce_budget(db_, o_.budget_bytes, wall_now_(), new_id_());
    if (!r) {
      log::error("outbox budget: " + r.error().message);
    } else if (r->thinned + r->dropped > 0) {
      log::warning("outbox over its budget (" + std::to_string(r->bytes_before) + " > " +
                   std::to_string(o_.budget_bytes) + " bytes): telemetry thinned by " +
                   std::to_string(r->thinned) + " and " + std::to_string(r->dropped) +
                   " oldest dropped (seq " + std::to_string(r->first_seq) + ".." +
                   std::to_string(r->last_seq) + "); a data_loss record went to the audit stream");
    }
    if (r && r->over_budget_after)
      log::warning(
          "outbox still over its budget with no telemetry left to drop: movements, "
          "alarms, reorders and audit records are never dropped");
    budget_.expires_after(o_.budget_every);
    arm_budget();
  });
}

void Publisher::online() {
  online_ = true;
  ++epoch_;
  inflight_ = 0;
  sent_upto_.clear();
  ++counters_.resent_from;
  pump();
}

void Publisher::offline() {
  online_ = false;
  ++epoch_;
  inflight_ = 0;
  sent_upto_.clear();
}

void Publisher::poke() {
  boost::asio::post(io_, [this] { pump(); });
}

bool Publisher::drained() {
  if (inflight_ > 0 || !acks_.empty()) return false;
  auto last = store::outbox_last_seqs(db_);
  if (!last) return false;
  for (const auto& [s, seq] : *last) {
    if (seq <= sent_upto_[s]) continue;
    // Anything beyond what this connection sent still in the outbox?
    auto more = store::outbox_read(db_, s, sent_upto_[s], 1);
    if (!more || !more->empty()) return false;
  }
  return true;
}

void Publisher::pump() {
  if (!online_ || !running_) return;
  auto last = store::outbox_last_seqs(db_);
  if (!last) {
    log::error("outbox: " + last.error().message);
    return;
  }
  last_seq_ = std::move(*last);
  while (inflight_ < o_.max_inflight) {
    std::vector<std::string> ready;
    for (const auto& [s, seq] : last_seq_)
      if (seq > sent_upto_[s]) ready.push_back(s);
    if (ready.empty()) return;

    const auto now = mono_now_ns_();
    std::int64_t allowed = o_.batch_records;
    if (!rate_.unlimited()) {
      // Wait for a tenth of a second's worth (or a full batch) rather than send crumbs.
      std::int64_t want =
          std::max<std::int64_t>(1, std::min(o_.batch_records, o_.drain_per_s / 10));
      auto avail = rate_.available(now);
      if (avail < want) {
        if (rate_wait_until_ns_ <= now) {
          auto wait = rate_.wait_ns(want, now);
          rate_wait_until_ns_ = now + wait;
          auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::nanoseconds(wait));
          t->async_wait([this, t](const boost::system::error_code& ec) {
            if (!ec && running_) pump();
          });
        }
        return;
      }
      allowed = std::min(allowed, avail);
    }

    auto stream = *order_.next(ready);
    auto& upto = sent_upto_[stream];
    auto recs = store::outbox_read(db_, stream, upto, allowed);
    if (!recs) {
      log::error("outbox: " + recs.error().message);
      return;
    }
    if (recs->empty()) {  // everything up to the last seq was delivered (or dropped) before
      upto = last_seq_[stream];
      continue;
    }
    std::vector<std::string> texts;
    texts.reserve(recs->size());
    for (auto& r : *recs) texts.push_back(std::move(r.payload));
    auto n = batch_fit(o_.site, o_.gateway, stream, texts, static_cast<std::size_t>(allowed),
                       static_cast<std::size_t>(o_.batch_bytes));
    texts.resize(n);
    store::SeqRange range{stream, (*recs)[0].seq, (*recs)[n - 1].seq};
    auto body = envelope(o_.site, o_.gateway, stream, texts);
    auto epoch = epoch_;
    auto st = send_(
        topics_.stream(stream), body,
        [this, epoch, range](bool ok, const std::string& why) { acked(epoch, range, ok, why); });
    if (!st) {
      log::warning("mqtt: " + st.error().message + "; will retry");
      return;
    }
    upto = range.last_seq;
    ++inflight_;
    rate_.take(static_cast<std::int64_t>(n));
    ++counters_.messages;
    counters_.records += n;
  }
}

void Publisher::acked(std::uint64_t epoch, const store::SeqRange& range, bool ok,
                      const std::string& why) {
  if (epoch == epoch_ && inflight_ > 0) --inflight_;
  if (!ok) {
    ++counters_.failed;
    if (epoch == epoch_) {
      // Failed on a live connection: send again from its first record (later batches of
      // the stream may then arrive twice: duplicates of the same seq, which the cloud drops).
      log::warning("mqtt: publishing " + range.stream + " seq " + std::to_string(range.first_seq) +
                   ".." + std::to_string(range.last_seq) + " failed (" + why + "); resending");
      auto& upto = sent_upto_[range.stream];
      upto = std::min(upto, range.first_seq - 1);
    }
    return;
  }
  // A PUBACK from an earlier connection still means the broker has the records.
  counters_.acked_records += static_cast<std::uint64_t>(range.last_seq - range.first_seq + 1);
  acks_.push_back(range);
  // Acks are removed together, in one transaction (one fsync): when a window's worth has
  // gathered, or `removal_delay` after the first.
  if (static_cast<std::int64_t>(acks_.size()) >= o_.max_inflight && !removal_now_) {
    removal_.cancel();
    removal_posted_ = removal_now_ = true;
    boost::asio::post(io_, [this] { remove_acked(); });
  } else if (!removal_posted_) {
    removal_posted_ = true;
    removal_.expires_after(o_.removal_delay);
    removal_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) remove_acked();
    });
  }
  pump();  // a slot in the window is free: fill it without waiting for the removal
}

void Publisher::remove_acked() {
  removal_posted_ = removal_now_ = false;
  if (acks_.empty()) return;
  if (auto st = store::outbox_remove(db_, acks_); !st) {
    // Kept in memory and retried; the records stay in the outbox and may be sent again.
    // Retried at the next poll.
    log::error("outbox: removing acknowledged records: " + st.error().message);
    return;
  }
  acks_.clear();
  pump();
}

}  // namespace depot::sync
