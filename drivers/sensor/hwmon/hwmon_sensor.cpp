#include "sensor/hwmon/hwmon_sensor.hpp"

#include <cerrno>

namespace depot::drivers {

namespace {
struct InputText {
  int err = 0;
  std::string text;
  std::string label;  // with chip name, on the first read only
};

std::string first_line(const std::string& path) {
  std::string t;
  if (read_small_file(path, t) != 0) return {};
  auto nl = t.find('\n');
  if (nl != std::string::npos) t.resize(nl);
  return t;
}
}  // namespace

HwmonSensor::HwmonSensor(boost::asio::io_context& io, SensorOptions options,
                         coldchain::HwmonSource source, SensorEvents events)
    : io_(io),
      options_(std::move(options)),
      source_(std::move(source)),
      path_(input_path(source_)),
      events_(std::move(events)),
      timer_(io, options_.interval) {}

std::string HwmonSensor::input_path(const coldchain::HwmonSource& s) {
  return trim_root(s.root) + "/" + s.input;
}

std::string HwmonSensor::label_of(const std::string& input_path) {
  const std::string suffix = "_input";
  if (input_path.size() < suffix.size() ||
      input_path.compare(input_path.size() - suffix.size(), suffix.size(), suffix) != 0)
    return {};
  return first_line(input_path.substr(0, input_path.size() - suffix.size()) + "_label");
}

std::string HwmonSensor::chip_name_of(const std::string& input_path) {
  auto slash = input_path.rfind('/');
  if (slash == std::string::npos) return first_line("name");
  return first_line(input_path.substr(0, slash + 1) + "name");
}

void HwmonSensor::start() {
  if (running_) return;
  running_ = true;
  if (!worker_) worker_ = BlockingReads::shared("hwmon", 2);
  timer_.start([this] { read(); });
}

void HwmonSensor::stop() {
  running_ = false;
  timer_.stop();
}

void HwmonSensor::read() {
  if (in_flight_) return;
  in_flight_ = true;
  worker_->run(
      io_, options_.read_deadline,
      [path = path_, want_label = !label_known_] {
        InputText r;
        r.err = read_small_file(path, r.text);
        if (want_label && r.err == 0) {
          auto label = label_of(path), chip = chip_name_of(path);
          if (!chip.empty()) r.label = "chip " + chip;
          if (!label.empty()) r.label += (r.label.empty() ? "" : ", ") + ("label " + label);
          if (r.label.empty()) r.label = "no label";
        }
        return r;
      },
      [this, alive = std::weak_ptr<int>(alive_)](InputText r) {
        if (alive.expired()) return;
        in_flight_ = false;
        if (running_) done(r.err, r.text, r.label);
      },
      [this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.expired() || !running_) return;
        report_value(options_, health_, events_,
                     coldchain::SensorValue::rejected(
                         coldchain::Quality::kNoData,
                         hung_reason("read of " + path_, options_.read_deadline)));
      });
}

void HwmonSensor::done(int err, const std::string& text, const std::string& label) {
  if (!label.empty() && !label_known_) {
    label_known_ = true;
    if (events_.status)
      events_.status(false, "probe " + options_.probe + ": reading " + path_ + " (" + label + ")");
  }
  coldchain::SensorValue v;
  if (err != 0) {
    v = read_failure(path_, err);
  } else {
    v = coldchain::parse_hwmon_input(text);
  }
  report_value(options_, health_, events_, v);
}

}  // namespace depot::drivers
