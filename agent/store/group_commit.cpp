#include "store/group_commit.hpp"

namespace depot::store {

GroupCommit::GroupCommit(boost::asio::io_context& io, Ledger& ledger, std::size_t max_batch,
                         std::chrono::milliseconds max_delay)
    : ledger_(ledger), max_batch_(max_batch ? max_batch : 1), max_delay_(max_delay), timer_(io) {}

void GroupCommit::submit(MovementRequest request, Done done) {
  requests_.push_back(std::move(request));
  callbacks_.push_back(std::move(done));
  if (requests_.size() >= max_batch_ || max_delay_.count() == 0) {
    flush();
  } else if (requests_.size() == 1) {
    timer_.expires_after(max_delay_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) flush();
    });
  }
}

void GroupCommit::flush() {
  timer_.cancel();
  if (requests_.empty()) return;
  auto requests = std::move(requests_);
  auto callbacks = std::move(callbacks_);
  requests_.clear();
  callbacks_.clear();
  auto results = ledger_.post(requests);
  ++batches_;
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    if (!callbacks[i]) continue;
    if (results)
      callbacks[i]((*results)[i]);
    else
      callbacks[i](results.error());
  }
  if (results && after_commit_) after_commit_(requests, *results);
}

}  // namespace depot::store
