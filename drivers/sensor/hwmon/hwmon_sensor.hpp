// A kernel hwmon temperature input: reads <root>/<input> (millidegrees Celsius, e.g.
// hwmon2/temp1_input) every interval on the shared "hwmon" BlockingReads worker and parses it
// with coldchain::parse_hwmon_input. The sibling temp<N>_label and the hwmon device's `name`
// are read once and shown in the status messages. A missing file is a kNoData reading
// "device vanished: <path>: ..."; the driver keeps reading.
#pragma once

#include "sensor/sensor.hpp"

namespace depot::drivers {

class HwmonSensor : public Sensor {
 public:
  HwmonSensor(boost::asio::io_context& io, SensorOptions options, coldchain::HwmonSource source,
              SensorEvents events);
  ~HwmonSensor() override { stop(); }
  void start() override;
  void stop() override;

  // <root>/<input>
  static std::string input_path(const coldchain::HwmonSource& s);
  // For ".../hwmon2/temp1_input": the first line of ".../hwmon2/temp1_label" and of
  // ".../hwmon2/name", empty when absent. Blocking file reads.
  static std::string label_of(const std::string& input_path);
  static std::string chip_name_of(const std::string& input_path);

 private:
  void read();
  void done(int err, const std::string& text, const std::string& label);

  boost::asio::io_context& io_;
  SensorOptions options_;
  coldchain::HwmonSource source_;
  std::string path_;
  SensorEvents events_;
  ReadTimer timer_;
  std::shared_ptr<BlockingReads> worker_;
  ProbeHealth health_;
  bool label_known_ = false;
  bool in_flight_ = false;
  bool running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace depot::drivers
