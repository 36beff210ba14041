// Work too slow for the daemon's loop: a password check (Argon2id, some 50-100 ms and 19 MiB)
// and the signed action after it. One worker thread runs the jobs one at a time, in order, on
// its own database connection (as the CLI does from its own process); each job returns what to
// do next, which is posted back to the loop. At most `max_pending` jobs wait: more are refused
// at once (a flood of sign-ins neither queues without bound nor runs many 19 MiB hashes at
// the same time).
// Threading: submit() and stop() from the loop thread; jobs on the worker thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.hpp"

namespace depot::store {
class Database;
}

namespace depot::app {

class SignWorker {
 public:
  // A job gets the worker's connection (null when it could not be opened: `open_error`) and
  // returns the continuation to run on the loop (may be empty).
  using Job = std::function<std::function<void()>(store::Database* db, const std::string& open_error)>;
  using Open = std::function<Expected<std::unique_ptr<store::Database>>()>;

  SignWorker(boost::asio::io_context& io, Open open, std::size_t max_pending = 8);
  ~SignWorker();
  SignWorker(const SignWorker&) = delete;
  SignWorker& operator=(const SignWorker&) = delete;

  // Queues `job`; false when `max_pending` are already waiting or the worker stopped.
  bool submit(Job job);
  // Finishes the job in hand, drops those waiting and joins the thread.
  void stop();
  std::size_t pending() const;

 private:
  void run();
  boost::asio::io_context& io_;
  Open open_;
  std::size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace depot::app
