// What the sensor driver tests share: an io_context run in bounded slices until a condition
// holds, the readings and status messages a driver reported, a test clock that advances one
// second per call, and an atomic file write (write + rename) so a driver never reads a
// half-written fake sysfs file.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sensor/sensor.hpp"
#include "test_support.hpp"

namespace depot::test {

struct SensorRig {
  boost::asio::io_context io;
  std::vector<coldchain::Reading> readings;
  std::vector<std::pair<bool, std::string>> statuses;
  std::int64_t mono_ns = 0;
  std::int64_t clock_calls = 0;

  drivers::SensorEvents events() {
    return {
        [this](coldchain::Reading r) { readings.push_back(std::move(r)); },
        [this](bool is_error, std::string m) { statuses.emplace_back(is_error, std::move(m)); }};
  }
  // Each call is one second after the previous one; wall = 1.7e12 ms + mono.
  drivers::SensorClock clock() {
    return [this] {
      ++clock_calls;
      mono_ns += coldchain::kNsPerSecond;
      return coldchain::Instant{mono_ns, 1'700'000'000'000 + mono_ns / 1'000'000, false};
    };
  }
  drivers::SensorOptions options(
      std::string probe, std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
    return {std::move(probe), interval, clock()};
  }
  // Runs the loop until `done()` or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
      io.restart();
      io.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  // Waits for a reading after the first `from` that satisfies `pred`; returns its index or -1.
  long wait_reading(std::size_t from, const std::function<bool(const coldchain::Reading&)>& pred,
                    std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    long found = -1;
    run_until(
        [&] {
          for (std::size_t i = from; i < readings.size(); ++i)
            if (pred(readings[i])) return found = static_cast<long>(i), true;
          return false;
        },
        limit);
    return found;
  }
  std::size_t errors() const {
    std::size_t n = 0;
    for (auto& [e, m] : statuses) n += e;
    return n;
  }
};

// Replaces `path` atomically (a reader sees the old or the new text, never half).
inline void put(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  write_file(path + ".tmp", text);
  std::filesystem::rename(path + ".tmp", path);
}

// A DS18B20 w1_slave text with `crc` ("YES"/"NO") and t=`milli`.
inline std::string w1_text(std::int64_t milli, const std::string& crc = "YES") {
  const std::string bytes = "72 01 4b 46 7f ff 0e 10 57";
  return bytes + " : crc=57 " + crc + "\n" + bytes + " t=" + std::to_string(milli) + "\n";
}

}  // namespace depot::test
