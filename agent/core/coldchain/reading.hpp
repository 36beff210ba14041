// Probe readings: what one read of one temperature probe produced, and whether it can be
// believed. Drivers (drivers/sensor/*) read bytes; the pure parsers here turn the bytes the
// Linux kernel hands out (1-Wire `w1_slave`, hwmon `temp*_input`) into a value or a named
// rejection, and `check_reading` applies the probe's calibration offset and plausible range.
// Every reading carries both clocks: wall time for records, monotonic time for durations,
// so a wall-clock step can neither fire nor hide an alarm. Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace depot::coldchain {

// Two clocks of one instant, both passed in by the shell. `mono_ns` is CLOCK_MONOTONIC
// (durations, delays, windows); `wall_ms` is unix milliseconds (what the records show).
struct Instant {
  std::int64_t mono_ns = 0;
  std::int64_t wall_ms = 0;
  bool clock_unsynchronized = false;  // wall clock not (yet) NTP-synchronised
};

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNsPerMinute = 60 * kNsPerSecond;

// What a read attempt yielded. Only `kGood` readings can start, extend or end an excursion.
enum class Quality {
  kGood,
  kImplausible,  // a value, but not a believable one (out of plausible range, 85 °C power-on)
  kCrcFailed,    // the bus delivered bytes that fail their checksum
  kNoData,       // nothing usable: empty read, all-zero scratchpad, malformed text
};
std::string_view to_string(Quality q);

struct ReadingFlags {
  bool clock_unsynchronized = false;  // wall_ms came from an unsynchronised clock
};

struct Reading {
  std::string probe;         // sensor id from config (`sensors[].id`)
  double celsius = 0.0;      // after `check_reading`: calibrated; meaningless for crc/no_data
  std::int64_t wall_ms = 0;  // unix milliseconds
  std::int64_t mono_ns = 0;  // monotonic nanoseconds
  ReadingFlags flags;
  Quality quality = Quality::kGood;
  std::string reason;  // why it is not good; empty when good

  Instant at() const { return {mono_ns, wall_ms, flags.clock_unsynchronized}; }
};

// A parser's verdict on the bytes of one read: a raw (uncalibrated) value or a rejection.
struct SensorValue {
  Quality quality = Quality::kNoData;
  double celsius = 0.0;  // meaningful when quality is kGood (or kImplausible: the value seen)
  std::string reason;    // names the rejection; empty when good

  static SensorValue good(double c) { return {Quality::kGood, c, {}}; }
  static SensorValue rejected(Quality q, std::string why, double c = 0.0) {
    return {q, c, std::move(why)};
  }
};

// The DS18B20 powers up with 85.000 °C in its scratchpad; reading it back means no
// conversion happened (brown-out, parasite power too weak). 85 °C is only believed when the
// previous good raw reading of the same probe was within this many degrees of 85.
inline constexpr double kW1PowerOnCelsius = 85.0;
inline constexpr double kW1PowerOnTolerance = 3.0;

// Parses the kernel's `w1_slave` text for a DS18B20 (w1_therm), two lines:
//   "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES"
//   "72 01 4b 46 7f ff 0e 10 57 t=23125"
// Rejections: empty read (kNoData), malformed text (kNoData), "crc=xx NO" (kCrcFailed), an
// all-zero or all-FF scratchpad (kNoData: a shorted or empty bus passes the CRC check),
// t=85000 (kImplausible) unless `previous_good_c` is within kW1PowerOnTolerance of 85.
// `previous_good_c` is the last kGood raw value the driver got from this probe, if any.
SensorValue parse_w1_slave(std::string_view text, std::optional<double> previous_good_c);

// Parses an hwmon `temp*_input` file: an integer in millidegrees Celsius ("23125\n").
// Rejections: empty read, anything that is not one integer (kNoData).
SensorValue parse_hwmon_input(std::string_view text);

// A probe's calibration and the range it can believe (from `sensors[]` in the config).
struct ProbeCheck {
  double offset_c = 0.0;           // added to every raw value
  double plausible_min_c = -55.0;  // the DS18B20's own range by default
  double plausible_max_c = 125.0;
  // A door contact: a good raw value equal to this is open (1), any other closed (0); no
  // offset or range applies.
  std::optional<double> open_value;
};

// A reading from a parser's verdict, stamped with the probe and the instant of the read.
Reading make_reading(std::string probe, const SensorValue& value, const Instant& at);

// A door probe (`open_value` set): a good reading becomes 1 (open) or 0 (closed). Otherwise:
// applies the calibration offset, then the plausible range (inclusive) to the corrected
// value. A good reading outside the range becomes kImplausible with a reason naming the value
// and the range; readings that are already rejected are returned unchanged.
Reading check_reading(Reading reading, const ProbeCheck& check);

// "23.125", "-18", "7.5": at most three decimals, no trailing zeros. For messages.
std::string format_celsius(double c);

}  // namespace depot::coldchain
