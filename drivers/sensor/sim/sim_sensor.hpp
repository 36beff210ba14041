// A simulated probe (drivers/sensor/sim/sim_profile.hpp): every interval it reads the
// profile's value at the time elapsed since start() (the monotonic time of the clock passed
// in), on the loop; nothing blocks.
#pragma once

#include "sensor/sensor.hpp"

namespace depot::drivers {

class SimSensor : public Sensor {
 public:
  SimSensor(boost::asio::io_context& io, SensorOptions options, coldchain::SimSource source,
            SensorEvents events);
  ~SimSensor() override { stop(); }
  void start() override;
  void stop() override;

 private:
  void read();

  SensorOptions options_;
  coldchain::SimSource source_;
  SensorEvents events_;
  ReadTimer timer_;
  ProbeHealth health_;
  std::int64_t start_mono_ns_ = 0;
  bool running_ = false;
};

}  // namespace depot::drivers
