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
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

// Past this, a blocking read has hung (a w1 conversion takes ~750 ms; a Modbus read is
// bounded by its timeout_ms, at most 10 s, and gets three of them if that is longer).
inline constexpr std::chrono::milliseconds kReadDeadline{10'000};
// A 1-Wire read that starts while others of its kind run may wait for theirs: the kernel runs
// one conversion (~750 ms at 12 bits) at a time per bus master. Each running read adds this.
inline constexpr std::chrono::milliseconds kW1ConversionStagger{1'000};

// What every driver is built from besides its own settings.
struct SensorOptions {
  std::string probe;                   // sensors[].id
  std::chrono::milliseconds interval;  // read_interval_s (tests use shorter ones)
  SensorClock clock;
  std::chrono::milliseconds read_deadline = kReadDeadline;  // tests use shorter ones
};

// "<what> has not returned after 10 s (the device or its driver hangs)": `what` ("read of
// <path>") has not returned within `deadline`.
std::string hung_text(std::string_view what, std::chrono::milliseconds deadline);
// The reason of the rejected reading a driver reports then: hung_text and what the driver does.
std::string hung_reason(std::string_view what, std::chrono::milliseconds deadline);

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

// Worker threads for blocking reads, shared by all drivers of one kind (`shared`) so a
// thousand probes cost one or two threads, not a thousand. A job must not touch loop state:
// it returns a value that `run` posts back to the loop.
//
// A read that does not return (a hung 1-Wire bus master, a sysfs attribute whose driver is
// stuck) must not hold every probe of that kind behind it: the sysfs kinds keep two threads and
// start another when a job is queued while none is idle (an extra one idle for a minute ends;
// each probe has at most one read in flight, so the threads stay bounded), and each job has a
// deadline, counted
// from when it starts. Past it, `hung()` is called on the loop (the driver reports the probe
// failing, naming the file and the deadline) and the thread is left to that read: a new one
// takes its place. If the read ever returns, its `done` still runs. (A job that throws never
// returns a value: it is reported as hung, and its probe is not read again.) A driver starts no other
// read of that probe meanwhile, so each hung probe keeps at most one thread. The last
// owner's destructor stops the threads, waiting at most a second for jobs in progress (a
// hung one is left behind: shutdown does not wait for it).
class BlockingReads : public std::enable_shared_from_this<BlockingReads> {
 public:
  ~BlockingReads();
  BlockingReads(const BlockingReads&) = delete;
  BlockingReads& operator=(const BlockingReads&) = delete;

  // Runs `job()` on the worker, then `done(result)` on `io`; `hung()` on `io` if the job has
  // run for `deadline` (and the stagger) without returning (at most once; `done` may follow).
  template <class Job, class Done, class Hung>
  void run(boost::asio::io_context& io, std::chrono::milliseconds deadline, Job job, Done done,
           Hung hung) {
    auto started = std::make_shared<Started>();
    auto gate = gate_;
    enqueue([&io, gate, started, running = running_, job = std::move(job),
             done = std::move(done)](std::uint64_t thread) mutable {
      started->thread = thread;
      running->fetch_add(1);
      started->at_ns.store(now_ns());
      auto result = job();
      running->fetch_sub(1);
      started->returned.store(true);  // its thread is no longer the read's, whatever the loop sees
      std::lock_guard<std::mutex> lock(gate->mu);
      if (!gate->open) return;  // shutting down: nobody waits for it on the loop
      boost::asio::post(io, [started, done = std::move(done), result = std::move(result)]() mutable {
        started->finished = true;
        if (auto timer = started->timer.lock()) timer->cancel();
        done(std::move(result));
      });
    });
    auto timer = std::make_shared<boost::asio::steady_timer>(io);
    started->timer = timer;
    watch(started, std::move(timer), deadline, std::function<void()>(std::move(hung)));
  }

  // Reads past their deadline, and reads still running at shutdown past its second (process
  // lifetime, all kinds; each left its thread, except Modbus's): /metrics and the tests.
  static std::uint64_t abandoned_threads();

  // The worker of driver kind `kind` ("w1", "modbus"...), created with `threads` threads on
  // first use and shared until its last user lets go. Modbus has one: its jobs then run one
  // at a time, in order (probes may share one serial line).
  // `replace`: whether a thread left to a hung read is replaced. Modbus does not (its one
  // thread keeps probes on one serial line from overlapping): its probes wait, as its reads are
  // bounded by libmodbus's timeouts anyway, and the hung one is still reported.
  // `stagger`: while N other reads of the kind are running, a read's deadline is N x stagger
  // longer (checked when it falls due). 1-Wire: the kernel runs one conversion (~750 ms) at a
  // time per bus master, so 20 probes read at once on one bus finish one after another, the
  // last after some 15 s: not hung. A truly hung read among many is then reported later.
  static std::shared_ptr<BlockingReads> shared(std::string_view kind, int threads,
                                               bool replace = true,
                                               std::chrono::milliseconds stagger = {});

 private:
  BlockingReads(int threads, bool replace, std::chrono::milliseconds stagger);
  struct Gate {  // closed by the destructor: a late job posts nothing to a loop that may be gone
    std::mutex mu;
    bool open = true;
  };
  struct Started {  // one job, shared by its worker thread and the loop
    std::atomic<std::int64_t> at_ns{0};  // when the job started, 0 while it waits
    std::atomic<std::uint64_t> thread{0};
    std::atomic<bool> returned{false};  // the job returned (its `done` is on its way)
    bool finished = false;  // loop thread only, as `timer`
    // Owned by its own pending wait only: the worker thread never destroys a loop object.
    std::weak_ptr<boost::asio::steady_timer> timer;
  };
  struct Worker;
  static std::int64_t now_ns();
  void enqueue(std::function<void(std::uint64_t thread)> job);
  void watch(std::shared_ptr<Started> started, std::shared_ptr<boost::asio::steady_timer> timer,
             std::chrono::milliseconds deadline, std::function<void()> hung);
  void abandon(std::uint64_t thread);  // if `thread` still serves the queue
  // `deadline` and the stagger for the other jobs running now.
  std::chrono::milliseconds allowed(std::chrono::milliseconds deadline) const;

  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::shared_ptr<Worker> worker_;
  bool replace_;
  std::chrono::milliseconds stagger_;
  // Jobs running now (a hung one stays counted until it returns). Shared with the jobs, which
  // may outlive this.
  std::shared_ptr<std::atomic<int>> running_ = std::make_shared<std::atomic<int>>(0);
};

// Reads a small file (a sysfs attribute) with open/read/close. Returns 0 and fills `text`, or
// the errno of the failing call. Safe on any thread.
int read_small_file(const std::string& path, std::string& text);

// "No such file or directory" for ENOENT: strerror, thread-safe.
std::string errno_text(int err);

// The reading of a sysfs attribute whose read_small_file failed with `err` (not 0): "device
// vanished: <path>: ..." when the device went (ENOENT, ENODEV, ENXIO), else "read failed: ...".
coldchain::SensorValue read_failure(const std::string& path, int err);

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

// A read's verdict as the probe's reading: stamped with the probe's clock, through its health
// (status lines on changes) to `events.reading`.
void report_value(const SensorOptions& options, ProbeHealth& health, const SensorEvents& events,
                  const coldchain::SensorValue& v);

}  // namespace depot::drivers
