#include "store/group_commit.hpp"

#include <algorithm>
#include <exception>
#include <optional>

namespace depot::store {

GroupCommit::GroupCommit(boost::asio::io_context& io, Ledger& ledger, std::size_t max_batch,
                         std::chrono::milliseconds max_delay, RetryPolicy retry)
    : ledger_(ledger),
      max_batch_(max_batch ? max_batch : 1),
      max_delay_(max_delay),
      retry_(retry),
      timer_(io),
      retry_timer_(io) {}

CommitHealth GroupCommit::health() const {
  auto h = health_;
  h.waiting = pending();
  return h;
}

void GroupCommit::submit(MovementRequest request, Done done) {
  if (health_.failing && pending() >= retry_.max_waiting) {
    // The store has been failing long enough to fill the waiting room: answer at once
    // rather than hold memory without bound.
    ++health_.not_recorded;
    if (done) done(Error{"not recorded: the database is failing (" + health_.last_error + ")"});
    return;
  }
  requests_.push_back(std::move(request));
  callbacks_.push_back(std::move(done));
  queued();
}

void GroupCommit::submit_reject(Reject reject, RejectDone done) {
  if (health_.failing && pending() >= retry_.max_waiting) {
    if (done) done(Error{"not recorded: the database is failing (" + health_.last_error + ")"});
    return;
  }
  rejects_.push_back(std::move(reject));
  reject_callbacks_.push_back(std::move(done));
  queued();
}

void GroupCommit::queued() {
  if (retry_armed_) return;  // the retry takes everything waiting
  if (pending() >= max_batch_ || max_delay_.count() == 0) {
    flush();
  } else if (pending() == 1) {
    timer_.expires_after(max_delay_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) flush();
    });
  }
}

void GroupCommit::flush() {
  timer_.cancel();
  if (pending() == 0) return;
  attempt();
}

void GroupCommit::attempt() {
  auto& db = ledger_.db();
  db.clear_failure();
  enum class Work { kNone, kDone, kUndone } work = Work::kNone;
  auto results = db.transaction([&](const Txn& txn) -> Expected<std::vector<PostResult>> {
    auto posted = ledger_.post(txn, requests_);
    if (!posted) return posted;
    for (const auto& r : rejects_)
      if (auto seq = record_reject(txn, r); !seq) return seq.error();
    if (in_commit_ && !requests_.empty()) {
      auto done = run_in_commit(txn);
      work = done && *done ? Work::kDone : Work::kUndone;
      if (!done) return done.error();  // the whole transaction went with it
    }
    return posted;
  });
  // The work's owner hears after the batch is settled, so what it does then (a reload) cannot
  // change how the batch's failure is judged.
  std::optional<std::string> undone;
  if (work == Work::kUndone) undone = in_commit_error_;
  if (work == Work::kDone && !results) undone = "the batch did not commit";
  settle(results);
  if (undone && in_commit_undone_) in_commit_undone_(*undone);
}

void GroupCommit::settle(const Expected<std::vector<PostResult>>& results) {
  auto& db = ledger_.db();
  if (!results) {
    const int code = db.last_failure();
    const auto now = std::chrono::steady_clock::now();
    if (!health_.failing) failing_since_ = now;
    set_failing(true, results.error().message);
    if (Database::transient(code) && now - failing_since_ < retry_.give_up_after) {
      ++health_.retries;
      next_retry_ = next_retry_.count() == 0 ? retry_.first : std::min(next_retry_ * 2, retry_.max);
      retry_armed_ = true;
      retry_timer_.expires_after(next_retry_);
      retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        retry_armed_ = false;
        if (pending() > 0) attempt();
      });
      return;
    }
    // Permanent, or failing too long: the submitters are told, and the next batch starts
    // afresh (a disk that has room again commits it).
    fail_all(results.error());
    failing_since_ = now;
    return;
  }
  auto requests = std::move(requests_);
  auto [callbacks, reject_callbacks] = take_pending();
  ++batches_;
  if (health_.failing) set_failing(false, "");
  for (std::size_t i = 0; i < callbacks.size(); ++i)
    if (callbacks[i]) callbacks[i]((*results)[i]);
  for (auto& cb : reject_callbacks)
    if (cb) cb(Status::Ok());
  if (after_commit_ && !requests.empty()) after_commit_(requests, *results);
}

Expected<bool> GroupCommit::run_in_commit(const Txn& txn) {
  auto& db = txn.db();
  if (auto st = db.exec("SAVEPOINT in_commit"); !st) {
    in_commit_error_ = st.error().message;
    return false;  // nothing ran; the batch goes on without it
  }
  Status st;
  try {
    st = in_commit_(txn);
  } catch (const std::exception& e) {
    st = Error{std::string("threw: ") + e.what()};
  } catch (...) {
    st = Error{"threw a non-standard exception"};
  }
  if (st) {
    if (auto rel = db.exec("RELEASE in_commit"); !rel) {
      in_commit_error_ = rel.error().message;
      return rel.error();
    }
    return true;
  }
  in_commit_error_ = st.error().message;
  // A full disk or an I/O error can make SQLite roll back the whole transaction, savepoint
  // and all: the batch failed with it, judged by that failure's code (still the last one).
  if (sqlite3_get_autocommit(db.handle())) return st.error();
  // Otherwise only the work's own writes go; should that fail, nothing of it may commit.
  if (auto back = db.exec("ROLLBACK TO in_commit"); !back) return back.error();
  if (auto rel = db.exec("RELEASE in_commit"); !rel) return rel.error();
  return false;
}

// Empties the batch (requests, rejects, their callbacks, the retry state) and hands back the
// callbacks to answer: the batch is settled, committed or finally failed.
GroupCommit::Pending GroupCommit::take_pending() {
  Pending p{std::move(callbacks_), std::move(reject_callbacks_)};
  requests_.clear();
  callbacks_.clear();
  rejects_.clear();
  reject_callbacks_.clear();
  retry_timer_.cancel();
  retry_armed_ = false;
  next_retry_ = std::chrono::milliseconds(0);
  return p;
}

void GroupCommit::fail_all(const Error& e) {
  auto [callbacks, reject_callbacks] = take_pending();
  health_.not_recorded += callbacks.size();
  for (auto& cb : callbacks)
    if (cb) cb(e);
  for (auto& cb : reject_callbacks)
    if (cb) cb(e);
}

void GroupCommit::abandon(const std::string& why) {
  timer_.cancel();
  if (pending() == 0) return;
  fail_all(Error{why + (health_.failing ? " (" + health_.last_error + ")" : "")});
}

void GroupCommit::set_failing(bool failing, const std::string& why) {
  const bool changed = failing != health_.failing;
  health_.failing = failing;
  health_.last_error = why;
  if (changed && health_changed_) health_changed_(health());
}

}  // namespace depot::store
