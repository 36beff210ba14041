// Temperature probe drivers: I/O only. A driver reads one probe every `read_interval_s` (or,
// for MQTT, whenever the probe publishes) and reports every attempt as a raw `Reading` to its
// `SensorEvents` on the agent's event loop: good, or rejected with a named reason (CRC NO,
// empty read, device vanished, Modbus timeout, no number at the JSON pointer...). The reading
// is built by `coldchain::make_reading` from the parser's verdict; it has NOT been through
// `check_reading` (calibration offset, plausible range): the cold-chain intake does that.
// Lifecycle: construct, start(), stop() (also on destruction). A driver never takes the agent
// down: a vanished device or a lost connection yields rejected readings and is retried.
// Threading: every call and every callback happens on the io_context's one thread. Reads that
// block (a w1_slave read waits ~750 ms for the conversion; libmodbus waits for its timeout)
// run on a `BlockingReads` worker thread and only their result is posted back to the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/coldchain/config.hpp"
#include "core/coldchain/reading.hpp"

namespace depot::drivers {

struct SensorEvents {
  // Every read attempt of the probe, good or rejected (raw: not calibrated, not range-checked).
  std::function<void(coldchain::Reading raw)> reading;
  // Probe lifecycle for the log: started, device vanished, device back, connected...
  // Reported on changes, not on every reading.
  std::function<void(bool is_error, std::string message)> status;
};

// The instant a reading is stamped with; called on the loop thread. The daemon passes
// depot::instant_now (CLOCK_MONOTONIC, wall ms, NTP sync state); tests pass their own.
using SensorClock = std::function<coldchain::Instant()>;

// What every driver is built from besides its own settings.
struct SensorOptions {
  std::string probe;                   // sensors[].id
  std::chrono::milliseconds interval;  // read_interval_s (tests use shorter ones)
  SensorClock clock;
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

// The driver for `config.driver`. REQUIRES: `clock` set.
std::unique_ptr<Sensor> make_sensor(boost::asio::io_context& io,
                                    const coldchain::SensorConfig& config, SensorEvents events,
                                    SensorClock clock);

// A single worker thread for blocking reads, shared by all drivers of one kind (`shared`) so
// a thousand probes cost one thread, not a thousand. Jobs run in order; a job must not touch
// loop state: it returns a value that `run` posts back to the loop. The last owner's
// destructor joins the thread (it waits for the job in progress).
class BlockingReads {
 public:
  BlockingReads() : pool_(1) {}
  ~BlockingReads() { pool_.join(); }
  BlockingReads(const BlockingReads&) = delete;
  BlockingReads& operator=(const BlockingReads&) = delete;

  // Runs `job()` on the worker, then `done(result)` on `io`.
  template <class Job, class Done>
  void run(boost::asio::io_context& io, Job job, Done done) {
    boost::asio::post(pool_, [&io, job = std::move(job), done = std::move(done)]() mutable {
      auto result = job();
      boost::asio::post(io, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
  }

  // The worker of driver kind `kind` ("w1", "modbus"...), created on first use and shared
  // until its last user lets go.
  static std::shared_ptr<BlockingReads> shared(std::string_view kind);

 private:
  boost::asio::thread_pool pool_;
};

// Reads a small file (a sysfs attribute) with open/read/close. Returns 0 and fills `text`, or
// the errno of the failing call. Safe on any thread.
int read_small_file(const std::string& path, std::string& text);

// "No such file or directory" for ENOENT: strerror, thread-safe.
std::string errno_text(int err);

// `root` without trailing slashes ("/" stays "/"): sysfs roots as an operator may write them.
std::string trim_root(std::string root);

// A fixed-cadence read timer: calls `tick` every `interval` on the loop, from start() until
// stop(). Ticks do not drift (each is scheduled from the previous deadline); ticks missed
// while the loop was busy are skipped, not bunched.
class ReadTimer {
 public:
  ReadTimer(boost::asio::io_context& io, std::chrono::milliseconds interval)
      : timer_(io), interval_(interval) {}
  void start(std::function<void()> tick);
  void stop() { timer_.cancel(), running_ = false; }

 private:
  void arm();
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  std::function<void()> tick_;
  std::chrono::steady_clock::time_point next_;
  bool running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with this timer
};

// Status de-duplication: reports an error once when a probe starts failing (with its reason)
// and once when it reads good again, not on every reading.
class ProbeHealth {
 public:
  // Messages name the probe ("probe fz-1: ..."); nothing is built for an unchanged state.
  void update(const coldchain::Reading& r, const SensorEvents& events);

 private:
  bool failing_ = false;
  std::string last_reason_;
};

}  // namespace depot::drivers
