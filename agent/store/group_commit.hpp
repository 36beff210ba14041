// Group commit: movements arriving on the event loop are gathered into one transaction that
// closes after `max_batch` movements or `max_delay` after the first, whichever comes first.
// One fsync then covers the whole batch. Each submitter's callback runs (on the loop) only
// after its batch has committed, so "done" always means "durable".
// A batch that fails for a transient reason (SQLite busy, an I/O error, a full disk) is kept
// and tried again with backoff, movements arriving meanwhile joining it; its submitters hear
// nothing until it commits or finally fails (a permanent error, `give_up_after` of failures,
// or more than `max_waiting` movements waiting). `health()` says while the store is failing
// and how many movements were finally NOT recorded, for the status and the logs.
// Thread-safety: call only from the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "store/ledger.hpp"
#include "store/rejects.hpp"

namespace depot::store {

struct RetryPolicy {
  std::chrono::milliseconds first{100};  // the first retry; doubles up to `max`
  std::chrono::milliseconds max{5000};
  std::chrono::milliseconds give_up_after{60000};  // failing this long: the batch fails
  std::size_t max_waiting = 10000;                 // movements held while failing; more fail
};

struct CommitHealth {
  bool failing = false;            // the latest attempt failed (retrying, or given up)
  std::string last_error;          // why, while failing
  std::uint64_t retries = 0;       // attempts that failed and were retried (ever)
  std::uint64_t not_recorded = 0;  // movements finally NOT recorded (ever)
  std::size_t waiting = 0;         // movements waiting for a commit now
};

class GroupCommit {
 public:
  using Done = std::function<void(const Expected<PostResult>&)>;
  // Called on the loop after a batch has committed (after the submitters' callbacks), with
  // the batch and its results in the same order: e.g. replenishment re-evaluates the SKUs.
  using AfterCommit =
      std::function<void(std::span<const MovementRequest>, std::span<const PostResult>)>;
  // Called on the loop when the store starts failing (true) or commits again (false).
  using HealthChanged = std::function<void(const CommitHealth&)>;

  GroupCommit(boost::asio::io_context& io, Ledger& ledger, std::size_t max_batch,
              std::chrono::milliseconds max_delay, RetryPolicy retry = {});

  void submit(MovementRequest request, Done done);
  // A scan reject joins the next batch too (not a transaction of its own): `done` hears
  // whether it was recorded, as for movements.
  using RejectDone = std::function<void(const Status&)>;
  void submit_reject(Reject reject, RejectDone done);
  void set_after_commit(AfterCommit after) { after_commit_ = std::move(after); }
  // Work that belongs in each batch's own transaction (replenishment folding the batch: its
  // demand, watermark, proposals and alarms commit with the movements, under the same
  // fsync). It runs after the batch is posted, inside a savepoint: when it fails (or throws),
  // only its own writes are undone, never the movements. `undone` is then called on the loop
  // with why (also when the batch's transaction itself did not commit after the work ran),
  // so the work's owner can say so and reload what it holds in memory from the database.
  using InCommit = std::function<Status(const Txn&)>;
  using Undone = std::function<void(const std::string& why)>;
  void set_in_commit(InCommit work, Undone undone) {
    in_commit_ = std::move(work);
    in_commit_undone_ = std::move(undone);
  }
  void set_health_changed(HealthChanged f) { health_changed_ = std::move(f); }
  // Tries to commit whatever is pending now (at shutdown, before an UNDO, by tests). While
  // the store is failing, the batch stays pending and its retry stays scheduled.
  void flush();
  // At shutdown, after a last flush(): fails whatever still waits (its callbacks are told
  // `why`), so no submitter is left without an answer.
  void abandon(const std::string& why);
  std::size_t pending() const { return requests_.size() + rejects_.size(); }
  std::uint64_t batches_committed() const { return batches_; }
  CommitHealth health() const;

 private:
  void attempt();
  // Runs in_commit_ inside a savepoint of `txn`: true when it ran, false when it failed and
  // its writes were rolled back (the batch goes on), an Error when the batch's transaction
  // cannot go on (SQLite rolled it back, or the savepoint could not be undone).
  Expected<bool> run_in_commit(const Txn& txn);
  // Answers the batch's submitters (committed), or schedules the retry / fails them.
  void settle(const Expected<std::vector<PostResult>>& results);
  void queued();
  struct Pending {
    std::vector<Done> callbacks;
    std::vector<RejectDone> reject_callbacks;
  };
  Pending take_pending();
  void fail_all(const Error& e);
  void set_failing(bool failing, const std::string& why);

  Ledger& ledger_;
  std::size_t max_batch_;
  std::chrono::milliseconds max_delay_;
  RetryPolicy retry_;
  boost::asio::steady_timer timer_, retry_timer_;
  std::vector<MovementRequest> requests_;
  std::vector<Done> callbacks_;
  std::vector<Reject> rejects_;
  std::vector<RejectDone> reject_callbacks_;
  AfterCommit after_commit_;
  InCommit in_commit_;
  Undone in_commit_undone_;
  std::string in_commit_error_;
  HealthChanged health_changed_;
  std::uint64_t batches_ = 0;
  CommitHealth health_;
  std::chrono::steady_clock::time_point failing_since_{};
  std::chrono::milliseconds next_retry_{0};
  bool retry_armed_ = false;
};

}  // namespace depot::store
