// Group commit: movements arriving on the event loop are gathered into one transaction that
// closes after `max_batch` movements or `max_delay` after the first, whichever comes first.
// One fsync then covers the whole batch. Each submitter's callback runs (on the loop) only
// after its batch has committed, so "done" always means "durable".
// Thread-safety: call only from the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <span>
#include <vector>

#include "store/ledger.hpp"

namespace depot::store {

class GroupCommit {
 public:
  using Done = std::function<void(const Expected<PostResult>&)>;
  // Called on the loop after a batch has committed (after the submitters' callbacks), with
  // the batch and its results in the same order: e.g. replenishment re-evaluates the SKUs.
  using AfterCommit =
      std::function<void(std::span<const MovementRequest>, std::span<const PostResult>)>;

  GroupCommit(boost::asio::io_context& io, Ledger& ledger, std::size_t max_batch,
              std::chrono::milliseconds max_delay);

  void submit(MovementRequest request, Done done);
  void set_after_commit(AfterCommit after) { after_commit_ = std::move(after); }
  // Commits whatever is pending now (used at shutdown and by tests).
  void flush();
  std::size_t pending() const { return requests_.size(); }
  std::uint64_t batches_committed() const { return batches_; }

 private:
  Ledger& ledger_;
  std::size_t max_batch_;
  std::chrono::milliseconds max_delay_;
  boost::asio::steady_timer timer_;
  std::vector<MovementRequest> requests_;
  std::vector<Done> callbacks_;
  AfterCommit after_commit_;
  std::uint64_t batches_ = 0;
};

}  // namespace depot::store
