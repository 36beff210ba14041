#include "sensor/sensor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "sensor/hwmon/hwmon_sensor.hpp"
#include "sensor/modbus/modbus_sensor.hpp"
#include "sensor/mqtt/mqtt_sensor.hpp"
#include "sensor/sim/sim_sensor.hpp"
#include "sensor/w1/w1_sensor.hpp"

namespace depot::drivers {

std::unique_ptr<Sensor> make_sensor(boost::asio::io_context& io, const coldchain::SensorConfig& c,
                                    SensorEvents events, SensorClock clock) {
  SensorOptions o{c.id, std::chrono::seconds(c.read_interval_s), std::move(clock)};
  switch (c.driver) {
    case coldchain::Driver::kW1:
      return std::make_unique<W1Sensor>(io, std::move(o), c.w1, std::move(events));
    case coldchain::Driver::kHwmon:
      return std::make_unique<HwmonSensor>(io, std::move(o), c.hwmon, std::move(events));
    case coldchain::Driver::kModbus:
      return std::make_unique<ModbusSensor>(io, std::move(o), c.modbus, std::move(events));
    case coldchain::Driver::kMqtt:
    {
      auto source = c.mqtt;
      source.booleans = c.measures == coldchain::Measure::kDoor;
      return std::make_unique<MqttSensor>(io, std::move(o), std::move(source), std::move(events));
    }
    case coldchain::Driver::kSim:
      break;
  }
  return std::make_unique<SimSensor>(io, std::move(o), c.sim, std::move(events));
}

namespace {
std::atomic<std::uint64_t> g_abandoned{0};
std::atomic<std::uint64_t> g_next_thread{1};
}  // namespace

// The queue and the threads serving it. Each thread owns a reference: a thread left to a hung
// read keeps the queue alive until that read returns (or the process ends); its std::thread is
// detached before then.
struct BlockingReads::Worker {
  using Job = std::function<void(std::uint64_t)>;
  struct Thread {
    std::uint64_t id = g_next_thread++;
    bool leave = false;  // left to a hung read: take no more jobs after it
    bool exited = false;
    std::thread thread;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  bool stop = false;
  std::vector<std::shared_ptr<Thread>> threads;  // serving the queue (not left)
  int idle = 0;             // of `threads`, waiting for a job
  std::size_t base = 1;     // threads kept; more are started while none is idle (elastic)
  bool elastic = false;

  // REQUIRES: `mu` held, or no thread started yet.
  static void start_thread(const std::shared_ptr<Worker>& w) {
    auto th = std::make_shared<Thread>();
    th->thread = std::thread([w, th] {
      for (;;) {
        Job job;
        {
          std::unique_lock<std::mutex> lock(w->mu);
          ++w->idle;
          // An extra thread (elastic) that found nothing to do for a minute ends.
          const bool ready = w->cv.wait_for(lock, std::chrono::minutes(1), [&] {
            return w->stop || th->leave || !w->jobs.empty();
          });
          --w->idle;
          if (!ready && w->threads.size() > w->base) {
            auto me = std::find(w->threads.begin(), w->threads.end(), th);
            if (me != w->threads.end()) {
              (*me)->thread.detach();  // it ends now: nobody joins it
              w->threads.erase(me);
            }
            break;
          }
          if (!ready) continue;
          if (w->stop || th->leave) break;
          job = std::move(w->jobs.front());
          w->jobs.pop_front();
        }
        try {
          job(th->id);
        } catch (...) {  // a job that throws reports nothing; its deadline names the probe
        }
      }
      std::lock_guard<std::mutex> lock(w->mu);
      th->exited = true;
      w->cv.notify_all();
    });
    w->threads.push_back(std::move(th));
  }
};

BlockingReads::BlockingReads(int threads, bool replace, std::chrono::milliseconds stagger)
    : worker_(std::make_shared<Worker>()), replace_(replace), stagger_(stagger) {
  worker_->base = static_cast<std::size_t>(threads);
  worker_->elastic = replace;
  for (int i = 0; i < threads; ++i) Worker::start_thread(worker_);
}

BlockingReads::~BlockingReads() {
  {
    std::lock_guard<std::mutex> lock(gate_->mu);
    gate_->open = false;
  }
  auto& w = *worker_;
  std::unique_lock<std::mutex> lock(w.mu);
  w.stop = true;
  w.jobs.clear();
  w.cv.notify_all();
  w.cv.wait_for(lock, std::chrono::seconds(1), [&] {
    return std::all_of(w.threads.begin(), w.threads.end(), [](auto& th) { return th->exited; });
  });
  for (auto& th : w.threads) {
    if (th->exited) {
      th->thread.join();  // it has set `exited`: it no longer needs the lock
    } else {  // a read in progress for over a second more: shutdown does not wait for it
      th->thread.detach();
      ++g_abandoned;
    }
  }
}

std::uint64_t BlockingReads::abandoned_threads() { return g_abandoned.load(); }

std::int64_t BlockingReads::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void BlockingReads::enqueue(std::function<void(std::uint64_t)> job) {
  std::lock_guard<std::mutex> lock(worker_->mu);
  worker_->jobs.push_back(std::move(job));
  // Every thread busy (reads that hang hold theirs up to their deadline): one more, so a good
  // probe never waits behind hung ones. Bounded: each probe has at most one read in flight.
  if (worker_->elastic && static_cast<std::size_t>(worker_->idle) < worker_->jobs.size())
    Worker::start_thread(worker_);
  worker_->cv.notify_one();
}

void BlockingReads::watch(std::shared_ptr<Started> started,
                          std::shared_ptr<boost::asio::steady_timer> timer,
                          std::chrono::milliseconds deadline, std::function<void()> hung) {
  auto wait = deadline;
  if (const auto at = started->at_ns.load(); at != 0) {  // running: the rest of its deadline
    const auto ran = std::chrono::nanoseconds(now_ns() - at);
    wait = std::chrono::duration_cast<std::chrono::milliseconds>(allowed(deadline) - ran) +
           std::chrono::milliseconds(1);
  }
  timer->expires_after(wait);
  auto& t = *timer;
  t.async_wait([self = weak_from_this(), started = std::move(started), timer = std::move(timer),
                deadline, hung = std::move(hung)](const boost::system::error_code& ec) mutable {
    // Returned: its `done` is queued behind this handler (the loop was busy at the deadline).
    if (ec || started->finished || started->returned.load()) return;
    const auto at = started->at_ns.load();
    auto me = self.lock();
    const auto limit = me ? me->allowed(deadline) : deadline;
    if (at == 0 || std::chrono::nanoseconds(now_ns() - at) < limit) {
      // Still waiting behind another job (whose own deadline watches it), or started late.
      if (me) me->watch(std::move(started), std::move(timer), deadline, std::move(hung));
      return;
    }
    if (me) me->abandon(started->thread.load());
    hung();
  });
}

std::chrono::milliseconds BlockingReads::allowed(std::chrono::milliseconds deadline) const {
  return deadline + stagger_ * std::max(0, running_->load() - 1);
}

void BlockingReads::abandon(std::uint64_t thread) {
  std::lock_guard<std::mutex> lock(worker_->mu);
  auto& threads = worker_->threads;
  auto it = std::find_if(threads.begin(), threads.end(),
                         [&](const auto& th) { return th->id == thread; });
  if (it == threads.end()) return;  // left already
  ++g_abandoned;
  if (!replace_) return;  // it stays, and the queue waits for it
  (*it)->leave = true;  // it ends after the hung read, running nothing else
  (*it)->thread.detach();
  threads.erase(it);
  Worker::start_thread(worker_);  // the same number serve the queue
  worker_->cv.notify_all();  // (a thread that took `leave` while idle passes no wake-up on)
}

std::shared_ptr<BlockingReads> BlockingReads::shared(std::string_view kind, int threads,
                                                     bool replace,
                                                     std::chrono::milliseconds stagger) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<BlockingReads>, std::less<>> workers;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = workers[std::string(kind)];
  auto w = slot.lock();
  if (!w) {
    w = std::shared_ptr<BlockingReads>(new BlockingReads(threads, replace, stagger));
    slot = w;
  }
  return w;
}

int read_small_file(const std::string& path, std::string& text) {
  text.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > 64 * 1024) break;  // a sysfs attribute is one page at most
  }
  ::close(fd);
  return 0;
}

std::string hung_text(std::string_view what, std::chrono::milliseconds deadline) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", static_cast<double>(deadline.count()) / 1000.0);
  return std::string(what) + " has not returned after " + secs +
         " s (the device or its driver hangs)";
}

std::string hung_reason(std::string_view what, std::chrono::milliseconds deadline) {
  return hung_text(what, deadline) +
         ": this probe is read again when it returns; the other probes are read meanwhile";
}

std::string trim_root(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
}

coldchain::SensorValue read_failure(const std::string& path, int err) {
  const bool gone = err == ENOENT || err == ENODEV || err == ENXIO;
  return coldchain::SensorValue::rejected(
      coldchain::Quality::kNoData,
      (gone ? "device vanished: " : "read failed: ") + path + ": " + errno_text(err));
}

void ReadTimer::start(std::function<void()> tick) {
  tick_ = std::move(tick);
  running_ = true;
  next_ = std::chrono::steady_clock::now();
  boost::asio::post(timer_.get_executor(), [this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired() && running_) tick_();
  });
  arm();
}

void ReadTimer::arm() {
  const auto now = std::chrono::steady_clock::now();
  next_ += interval_;
  if (next_ <= now) {  // the loop was busy for longer than an interval: skip, do not bunch
    auto behind = (now - next_) / interval_ + 1;
    next_ += interval_ * behind;
  }
  timer_.expires_at(next_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    arm();
    tick_();
  });
}

void report_value(const SensorOptions& options, ProbeHealth& health, const SensorEvents& events,
                  const coldchain::SensorValue& v) {
  auto reading = coldchain::make_reading(options.probe, v, options.clock());
  health.update(reading, events);
  if (events.reading) events.reading(std::move(reading));
}

void ProbeHealth::update(const coldchain::Reading& r, const SensorEvents& events) {
  if (r.quality == coldchain::Quality::kGood) {
    if (!failing_) return;
    if (events.status) events.status(false, "probe " + r.probe + ": reading again");
    failing_ = false;
    last_reason_.clear();
    return;
  }
  if (!failing_ && events.status) events.status(true, "probe " + r.probe + ": " + r.reason);
  failing_ = true;
  last_reason_ = r.reason;
}

}  // namespace depot::drivers
