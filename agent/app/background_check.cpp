#include "app/background_check.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>

#include "store/database.hpp"

namespace depot::app {

BackgroundCheck::BackgroundCheck(boost::asio::io_context& io, std::string path,
                                 std::int64_t busy_timeout_ms, Done done)
    : io_(io), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), done_(std::move(done)) {}

BackgroundCheck::~BackgroundCheck() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

void BackgroundCheck::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    const auto t0 = std::chrono::steady_clock::now();
    auto result = std::make_shared<Expected<std::string>>(
        store::quick_check_whole(path_, busy_timeout_ms_, &cancel_));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
    if (cancel_) return;  // stopping: nobody to tell
    // Runs on the loop, while this object lives (the destructor joins before it goes; a
    // handler still queued then is destroyed unrun with the io_context).
    boost::asio::post(io_, [this, result, ms] {
      if (!cancel_) done_(*result, ms);
    });
  });
}

}  // namespace depot::app
