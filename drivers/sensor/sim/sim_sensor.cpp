#include "sensor/sim/sim_sensor.hpp"

#include "sensor/sim/sim_profile.hpp"

namespace depot::drivers {

SimSensor::SimSensor(boost::asio::io_context& io, SensorOptions options,
                     coldchain::SimSource source, SensorEvents events)
    : options_(std::move(options)),
      source_(std::move(source)),
      events_(std::move(events)),
      timer_(io, options_.interval) {}

void SimSensor::start() {
  if (running_) return;
  running_ = true;
  start_mono_ns_ = options_.clock().mono_ns;
  if (events_.status)
    events_.status(false, "probe " + options_.probe + ": simulated, profile " + source_.profile);
  timer_.start([this] { read(); });
}

void SimSensor::stop() {
  running_ = false;
  timer_.stop();
}

void SimSensor::read() {
  const auto at = options_.clock();
  const double elapsed_s = static_cast<double>(at.mono_ns - start_mono_ns_) /
                           static_cast<double>(coldchain::kNsPerSecond);
  auto reading = coldchain::make_reading(options_.probe, sim_value(source_, elapsed_s), at);
  health_.update(reading, events_);
  if (events_.reading) events_.reading(std::move(reading));
}

}  // namespace depot::drivers
