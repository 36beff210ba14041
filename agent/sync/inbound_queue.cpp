#include "sync/inbound_queue.hpp"

#include <utility>

namespace depot::sync {

namespace {
std::size_t size_of(const Inbound& in) { return in.topic.size() + in.payload.size(); }
}  // namespace

bool InboundQueue::push(Inbound in) {
  std::lock_guard lock(mu_);
  const auto size = size_of(in);
  if (queue_.size() >= kMaxMessages || bytes_ + size > kMaxBytes) {
    ++dropped_;
  } else {
    bytes_ += size;
    queue_.push_back(std::move(in));
  }
  if (scheduled_) return false;
  scheduled_ = true;
  return true;
}

InboundQueue::Slice InboundQueue::take() {
  Slice s;
  std::lock_guard lock(mu_);
  while (s.messages.size() < kSlice && !queue_.empty()) {
    bytes_ -= size_of(queue_.front());
    s.messages.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  s.dropped = std::exchange(dropped_, 0);
  s.more = !queue_.empty();
  scheduled_ = s.more;  // else the next push schedules
  return s;
}

}  // namespace depot::sync
