// 1-Wire DS18B20 probe through the kernel's w1_therm driver: reads <root>/<device>/w1_slave
// every interval on the shared "w1" BlockingReads worker (the kernel runs a ~750 ms
// conversion inside the read) and parses it on the loop with coldchain::parse_w1_slave,
// remembering the previous good raw value for the 85 °C power-on rule. A missing file is a
// kNoData reading "device vanished: <path>: No such file or directory"; the driver keeps
// reading, so a re-plugged probe is picked up by the next read. A read still in progress
// when the next one is due is not doubled: that tick is skipped.
#pragma once

#include <optional>

#include "sensor/sensor.hpp"

namespace depot::drivers {

class W1Sensor : public Sensor {
 public:
  W1Sensor(boost::asio::io_context& io, SensorOptions options, coldchain::W1Source source,
           SensorEvents events);
  ~W1Sensor() override { stop(); }
  void start() override;
  void stop() override;

  // <root>/<device>/w1_slave
  static std::string slave_path(const coldchain::W1Source& s);

 private:
  void read();
  void done(int err, const std::string& text);

  boost::asio::io_context& io_;
  SensorOptions options_;
  coldchain::W1Source source_;
  std::string path_;
  SensorEvents events_;
  ReadTimer timer_;
  std::shared_ptr<BlockingReads> worker_;
  std::optional<double> previous_good_c_;
  ProbeHealth health_;
  bool in_flight_ = false;
  bool running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace depot::drivers
