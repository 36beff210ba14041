#include "sensor/w1/w1_sensor.hpp"

#include <cerrno>

namespace depot::drivers {

namespace {
struct FileText {
  int err = 0;
  std::string text;
};
}  // namespace

W1Sensor::W1Sensor(boost::asio::io_context& io, SensorOptions options, coldchain::W1Source source,
                   SensorEvents events)
    : io_(io),
      options_(std::move(options)),
      source_(std::move(source)),
      path_(slave_path(source_)),
      events_(std::move(events)),
      timer_(io, options_.interval) {}

std::string W1Sensor::slave_path(const coldchain::W1Source& s) {
  return trim_root(s.root) + "/" + s.device + "/w1_slave";
}

void W1Sensor::start() {
  if (running_) return;
  running_ = true;
  if (!worker_) worker_ = BlockingReads::shared("w1", 2, true, kW1ConversionStagger);
  if (events_.status) events_.status(false, "probe " + options_.probe + ": reading " + path_);
  timer_.start([this] { read(); });
}

void W1Sensor::stop() {
  running_ = false;
  timer_.stop();
}

void W1Sensor::read() {
  if (in_flight_) return;  // the previous read (a slow bus) is still running
  in_flight_ = true;
  worker_->run(
      io_, options_.read_deadline,
      [path = path_] {
        FileText r;
        r.err = read_small_file(path, r.text);
        return r;
      },
      [this, alive = std::weak_ptr<int>(alive_)](FileText r) {
        if (alive.expired()) return;
        in_flight_ = false;
        if (running_) done(r.err, r.text);
      },
      [this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.expired() || !running_) return;
        report_value(options_, health_, events_, coldchain::SensorValue::rejected(
            coldchain::Quality::kNoData, hung_reason("read of " + path_, options_.read_deadline)));
      });
}


void W1Sensor::done(int err, const std::string& text) {
  coldchain::SensorValue v;
  if (err != 0) {
    v = read_failure(path_, err);
  } else {
    v = coldchain::parse_w1_slave(text, previous_good_c_);
    if (v.quality == coldchain::Quality::kGood) previous_good_c_ = v.celsius;
  }
  report_value(options_, health_, events_, v);
}

}  // namespace depot::drivers
