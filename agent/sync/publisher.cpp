#include "sync/publisher.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/log.hpp"
#include "core/time.hpp"

namespace depot::sync {


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

Publisher::~Publisher() {
  sizer_cancel_ = true;
  if (sizer_.joinable()) sizer_.join();
}

Expected<std::int64_t> Publisher::rejects_readings() {
  if (sizer_busy_) return sized_bytes_.load();
  if (sizer_.joinable()) sizer_.join();  // the last one is done
  if (sizing_failed_.exchange(false))  // the last figure stands; tried again when due
    log::warning("outbox budget: measuring the rejects and readings tables: " + sizing_error_);
  const auto now = mono_now_ns_();
  const auto every = std::max<std::int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(o_.sizing_every).count(),
      60 * sizing_took_ns_.load());
  if (sized_at_ns_ >= 0 && now - sized_at_ns_ < every) return sized_bytes_.load();
  sized_at_ns_ = now;
  sizer_busy_ = true;
  try {
    sizer_ = std::thread([this, path = db_.path()] {
      const auto t0 = std::chrono::steady_clock::now();
      Expected<std::int64_t> bytes = Error{"not measured"};
      try {  // nothing may leave a thread: std::terminate would end the daemon
        bytes = store::rejects_readings_bytes(path, 5000, &sizer_cancel_);
      } catch (const std::exception& e) {
        bytes = Error{e.what()};
      }
      sizing_took_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - t0).count();
      if (bytes) {
        sized_bytes_ = *bytes;
      } else if (!sizer_cancel_) {
        sizing_error_ = bytes.error().message;
        sizing_failed_ = true;
      }
      sizer_busy_ = false;
    });
  } catch (const std::exception& e) {  // no thread to be had: the last figure stands
    sizer_busy_ = false;
    log::warning(std::string("outbox budget: measuring the rejects and readings tables: ") +
                 e.what());
  }
  return sized_bytes_.load();
}

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
  save_marks();  // what the broker has acknowledged is marked delivered now
}

void Publisher::arm_poll() {
  poll_.expires_after(o_.poll);
  poll_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    if (!marks_.empty() && !removal_posted_) save_marks();
    pump();
    compact();
    arm_poll();
  });
}

void Publisher::arm_budget() {
  budget_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    auto r = store::outbox_enforce_budget(db_, o_.budget_bytes, wall_now_(), new_id_(),
                                          [this] { return rejects_readings(); });
    if (r) works("outbox budget");
    if (!r) {
      failed("outbox budget", r.error());
    } else if (r->thinned + r->dropped > 0) {
      log::warning("outbox over its budget (" + std::to_string(r->bytes_before) + " > " +
                   std::to_string(o_.budget_bytes) + " bytes): telemetry thinned by " +
                   std::to_string(r->thinned) + " and " + std::to_string(r->dropped) +
                   " oldest dropped (seq " + std::to_string(r->first_seq) + ".." +
                   std::to_string(r->last_seq) + "); a data_loss record went to the audit stream");
    }
    if (r) note_over_budget(*r);
    budget_.expires_after(o_.budget_every);
    arm_budget();
  });
}

void Publisher::note_over_budget(const store::BudgetOutcome& r) {
  // Said when the file goes over, again every kOverBudgetRepeat while it stays (the state is
  // on /healthz and /metrics all along), and when it is back within.
  const auto now = mono_now_ns_();
  const bool was = over_budget_;
  over_budget_ = r.over_budget_after;
  if (!over_budget_) {
    if (was) log::info("outbox back within its budget (" + std::to_string(o_.budget_bytes) + " bytes)");
    return;
  }
  if (was && now - over_budget_said_ns_ < kOverBudgetRepeat.count()) return;
  over_budget_said_ns_ = now;
  log::warning(
      "outbox still over its budget with no telemetry left to drop (" +
      std::to_string(r.rejects_readings_bytes) +
      " bytes of it are rejects and readings): movements, alarms, reorders and audit "
      "records are never dropped; scan rejects are recorded as per-second counts only" +
      std::string(was ? "" : "; said again every 10 minutes while it lasts"));
}

void Publisher::online() {
  online_ = true;
  ++epoch_;
  inflight_ = 0;
  sent_upto_.clear();  // send again from each stream's delivery mark
  window_.clear();
  ++counters_.resent_from;
  pump();
}

void Publisher::offline() {
  online_ = false;
  ++epoch_;
  inflight_ = 0;
  sent_upto_.clear();
  window_.clear();
  backlog_ = false;
}

void Publisher::poke() {
  boost::asio::post(io_, [this] { pump(); });
}

bool Publisher::drained() {
  if (inflight_ > 0 || !marks_.empty()) return false;
  auto marks = store::outbox_marks(db_);
  if (!marks) return false;
  for (const auto& [s, m] : *marks) {
    auto upto = std::max(sent_upto_[s], m.acked_seq);
    if (m.last_seq <= upto) continue;
    // Anything beyond what was delivered or sent still in the outbox?
    auto more = store::outbox_read(db_, s, upto, 1);
    if (!more || !more->empty()) return false;
  }
  return true;
}

void Publisher::pump(Look look) {
  if (!online_ || !running_) return;
  // Records committed through this connection since the last look (the daemon's own alarms,
  // movements, readings) are looked for at once; another process's by the poll.
  if (db_.total_changes() != changes_seen_) look = Look::kOutbox;
  if (look == Look::kOutbox) {
    const auto changes = db_.total_changes();
    auto marks = store::outbox_marks(db_);
    if (!marks) {
      log::error("outbox: " + marks.error().message);
      return;
    }
    changes_seen_ = changes;
    for (const auto& [s, m] : *marks) {
      last_seq_[s] = m.last_seq;
      auto& upto = sent_upto_[s];
      upto = std::max(upto, m.acked_seq);
    }
  }
  backlog_ = true;
  while (inflight_ < o_.max_inflight) {
    std::vector<std::string> ready;
    for (const auto& [s, seq] : last_seq_)
      if (seq > sent_upto_[s]) ready.push_back(s);
    if (ready.empty()) {
      backlog_ = false;
      return;
    }

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
    // The message is written straight from the outbox rows (batch_fit's rules, one at a time).
    const auto max_bytes = std::min(static_cast<std::size_t>(o_.batch_bytes), payload_limit_);
    EnvelopeBuilder message(o_.site, o_.gateway, stream, static_cast<std::size_t>(allowed),
                            max_bytes, o_.incarnation);
    store::SeqRange range{stream, 0, 0};
    auto read = store::outbox_visit(db_, stream, upto, allowed,
                                    [&](std::int64_t seq, std::string_view payload) {
                                      if (!message.add(payload)) return false;
                                      if (message.records() == 1) range.first_seq = seq;
                                      range.last_seq = seq;
                                      return true;
                                    });
    if (!read) {
      log::error("outbox: " + read.error().message);
      return;
    }
    if (*read == 0) {  // everything up to the last seq was delivered (or dropped) before
      upto = last_seq_[stream];
      continue;
    }
    if (message.records() == 1 && message.bytes() > payload_limit_) {
      // Larger than any message the broker takes: sending it would only cost the connection,
      // again and again. Give it up, say so on the audit stream, and go on with the next.
      const auto bytes = static_cast<std::int64_t>(message.bytes());
      const auto limit = static_cast<std::int64_t>(payload_limit_);
      auto dropped = store::outbox_drop_undeliverable(db_, stream, range.first_seq, bytes, limit,
                                                      wall_now_(), new_id_());
      if (!dropped) {
        failed("outbox: giving up an undeliverable record", dropped.error());
        return;
      }
      ++counters_.undeliverable;
      log::error("outbox: " + stream + " seq " + std::to_string(range.first_seq) + " (" +
                 std::to_string(bytes) + " bytes) is larger than the broker's maximum packet (" +
                 std::to_string(limit) +
                 " bytes of payload): given up; a data_loss record went to the audit stream");
      upto = range.first_seq;
      poke();  // the audit stream has a new record
      continue;
    }
    const auto n = message.records();
    auto body = message.finish();
    const auto epoch = epoch_;
    const auto serial = ++sends_;
    auto st = send_(topics_.stream(stream), std::move(body),
                    [this, epoch, serial, range](bool ok, const std::string& why) {
                      acked(epoch, serial, range, ok, why);
                    });
    if (!st) {
      log::write_limited(log::Level::kWarning, "mqtt: publish",
                         "mqtt: " + st.error().message + "; will retry");
      return;
    }
    upto = range.last_seq;
    window_[stream].push_back({serial, range.first_seq, range.last_seq, false});
    ++inflight_;
    rate_.take(static_cast<std::int64_t>(n));
    ++counters_.messages;
    counters_.records += n;
  }
}

void Publisher::acked(std::uint64_t epoch, std::uint64_t serial, const store::SeqRange& range,
                      bool ok, const std::string& why) {
  if (epoch != epoch_) {
    // From an earlier connection: its stream is being sent again from the saved mark anyway.
    if (!ok) ++counters_.failed;
    return;
  }
  if (inflight_ > 0) --inflight_;
  auto& window = window_[range.stream];
  // By the send's serial, never by its seqs: after a failure the same first seq is sent again,
  // and a late PUBACK of the forgotten message must not count for the resend.
  auto it = std::find_if(window.begin(), window.end(),
                         [&](const Sent& s) { return s.serial == serial; });
  if (!ok) {
    ++counters_.failed;
    if (it == window.end()) {  // forgotten after an earlier failure: resent already
      pump(Look::kKnown);         // its slot in the window is free
      return;
    }
    // Failed on a live connection: send again from its first record. The messages sent after
    // it are forgotten (their PUBACKs no longer move the mark) and resent too: duplicates of
    // the same seq, which the cloud drops.
    log::warning("mqtt: publishing " + range.stream + " seq " + std::to_string(range.first_seq) +
                 ".." + std::to_string(range.last_seq) + " failed (" + why + "); resending");
    window.erase(it, window.end());
    auto& upto = sent_upto_[range.stream];
    upto = std::min(upto, range.first_seq - 1);
    pump();
    return;
  }
  if (it == window.end()) {  // forgotten after an earlier failure
    pump(Look::kKnown);       // its slot in the window is free: fill it now, not at the poll
    return;
  }
  it->acked = true;
  counters_.acked_records += static_cast<std::uint64_t>(range.last_seq - range.first_seq + 1);
  counters_.last_ack_mono_ns = mono_now_ns_();
  // The mark moves past every acknowledged message at the front: never past a gap.
  while (!window.empty() && window.front().acked) {
    marks_[range.stream] = window.front().last_seq;
    window.pop_front();
  }
  ++unsaved_acks_;
  // A slot in the window is free: fill it without waiting for the save, from the streams' last
  // seqs as last read unless this connection has written since (another process's records
  // are found by the next poll, within `poll`).
  pump(Look::kKnown);
  // Marks are saved together, in one small transaction: when a window's worth of PUBACKs has
  // gathered, when nothing is left in flight (no PUBACK is coming to share it), or
  // `removal_delay` after the first.
  if ((unsaved_acks_ >= o_.max_inflight || inflight_ == 0) && !removal_now_) {
    removal_.cancel();
    removal_posted_ = removal_now_ = true;
    boost::asio::post(io_, [this] { save_marks(); });
  } else if (!removal_posted_) {
    removal_posted_ = true;
    removal_.expires_after(o_.removal_delay);
    removal_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) save_marks();
    });
  }
}

void Publisher::save_marks() {
  removal_posted_ = removal_now_ = false;
  unsaved_acks_ = 0;
  if (marks_.empty()) return;
  if (auto st = store::outbox_acknowledge(db_, marks_); !st) {
    // Kept in memory and retried at the next poll; until then a restart resends them.
    failed("outbox: saving delivery marks", st.error());
    return;
  }
  works("outbox: saving delivery marks");
  marks_.clear();
}

void Publisher::compact() {
  // Deleting delivered records costs as much as writing them: only while nothing waits to be
  // sent (or the link is down), in chunks small enough to keep the loop responsive.
  if (o_.compact_chunk <= 0 || (online_ && (backlog_ || inflight_ > 0))) return;
  std::string before;  // keep delivered records of the last keep_delivered_s (stream.replay)
  if (o_.keep_delivered_s > 0)
    before = timefmt::rfc3339_from_unix_ms(timefmt::parse_rfc3339_ms(wall_now_()).value_or(0) -
                                           o_.keep_delivered_s * 1000);
  auto n = store::outbox_compact(db_, o_.compact_chunk, before);
  if (!n)
    failed("outbox: deleting delivered records", n.error());
  else
    works("outbox: deleting delivered records");
}

// A write that fails every poll (a full disk) is logged when it starts failing and when it
// works again (with how many attempts failed between), not every 100 ms.
void Publisher::failed(const std::string& what, const Error& e) {
  if (failing_.emplace(what, 0).second)
    log::error(what + ": " + e.message + " (retried quietly; logged again when it works)");
  else
    ++failing_[what];
}

void Publisher::works(const std::string& what) {
  auto it = failing_.find(what);
  if (it == failing_.end()) return;
  log::warning(what + ": works again (after " + std::to_string(it->second + 1) +
               " failed attempts)");
  failing_.erase(it);
  // Space came back: fold the WAL into the database so the file does not stay full.
  if (auto st = db_.checkpoint_now(); !st)
    log::warning("outbox: checkpoint after recovery: " + st.error().message);
}

}  // namespace depot::sync
