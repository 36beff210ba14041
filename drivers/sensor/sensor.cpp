#include "sensor/sensor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

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

std::shared_ptr<BlockingReads> BlockingReads::shared(std::string_view kind) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<BlockingReads>, std::less<>> workers;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = workers[std::string(kind)];
  auto w = slot.lock();
  if (!w) {
    w = std::make_shared<BlockingReads>();
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

std::string trim_root(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof buf);
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
