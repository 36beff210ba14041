#include "app/sign_worker.hpp"

#include <boost/asio/post.hpp>

#include "store/database.hpp"

namespace depot::app {

SignWorker::SignWorker(boost::asio::io_context& io, Open open, std::size_t max_pending)
    : io_(io), open_(std::move(open)), max_pending_(max_pending) {
  thread_ = std::thread([this] { run(); });
}

SignWorker::~SignWorker() { stop(); }

bool SignWorker::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= max_pending_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

std::size_t SignWorker::pending() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void SignWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SignWorker::run() {
  std::unique_ptr<store::Database> db;
  std::string open_error;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (!db) {
      auto opened = open_();
      if (opened) {
        db = std::move(*opened);
        open_error.clear();
      } else {
        open_error = opened.error().message;
      }
    }
    std::function<void()> next;
    try {
      next = job(db.get(), open_error);
    } catch (const std::exception& e) {
      // A job's own errors are Expected values; this is the last line, never a dead worker.
      next = nullptr;
    }
    if (next) boost::asio::post(io_, std::move(next));
  }
}

}  // namespace depot::app
