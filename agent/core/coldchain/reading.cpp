#include "core/coldchain/reading.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace depot::coldchain {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<int> hex_byte(std::string_view s) {
  if (s.size() != 2) return std::nullopt;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// An integer (optional '-'), the whole of `s`.
std::optional<std::int64_t> whole_integer(std::string_view s) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (s.size() > 40) out += "...";
  return out + "\"";
}

SensorValue malformed(std::string_view what) {
  return SensorValue::rejected(Quality::kNoData, "malformed w1_slave text: " + std::string(what));
}

}  // namespace

std::string_view to_string(Quality q) {
  switch (q) {
    case Quality::kGood:
      return "good";
    case Quality::kImplausible:
      return "implausible";
    case Quality::kCrcFailed:
      return "crc_failed";
    case Quality::kNoData:
      return "no_data";
  }
  return "no_data";
}

std::string format_celsius(double c) {
  if (!std::isfinite(c)) return std::isnan(c) ? "nan" : (c > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", c);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

SensorValue parse_w1_slave(std::string_view text, std::optional<double> previous_good_c) {
  if (trim(text).empty()) {
    return SensorValue::rejected(Quality::kNoData, "empty read (device gone from the bus?)");
  }
  // Two lines; a trailing newline is normal.
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    auto line = trim(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (lines.size() != 2) {
    return malformed("expected 2 lines, got " + std::to_string(lines.size()));
  }

  // Line 1: nine scratchpad bytes, ':', "crc=xx", YES or NO.
  auto words = split_words(lines[0]);
  if (words.size() != 12 || words[9] != ":" || words[10].substr(0, 4) != "crc=" ||
      !hex_byte(words[10].substr(4))) {
    return malformed("first line " + quoted(lines[0]) +
                     " is not \"<9 hex bytes> : crc=<xx> YES|NO\"");
  }
  int zero_bytes = 0, ff_bytes = 0;
  for (int i = 0; i < 9; ++i) {
    auto b = hex_byte(words[static_cast<std::size_t>(i)]);
    if (!b)
      return malformed("scratchpad byte " + quoted(words[static_cast<std::size_t>(i)]) +
                       " is not two hex digits");
    zero_bytes += *b == 0x00;
    ff_bytes += *b == 0xff;
  }
  if (words[11] == "NO") {
    return SensorValue::rejected(Quality::kCrcFailed,
                                 "CRC mismatch (" + std::string(words[10]) + " NO)");
  }
  if (words[11] != "YES") {
    return malformed("CRC verdict " + quoted(words[11]) + " is neither YES nor NO");
  }
  // An all-zero scratchpad has a valid CRC (CRC-8 of zeros is 0): the data line is held low.
  if (zero_bytes == 9) {
    return SensorValue::rejected(Quality::kNoData,
                                 "all-zero scratchpad (data line shorted or probe unpowered)");
  }
  if (ff_bytes == 9) {
    return SensorValue::rejected(Quality::kNoData, "all-FF scratchpad (no probe answered)");
  }

  // Line 2: the same bytes, then "t=<millidegrees>".
  auto t = lines[1].rfind("t=");
  if (t == std::string_view::npos) {
    return malformed("second line " + quoted(lines[1]) + " has no \"t=<millidegrees>\"");
  }
  auto milli = whole_integer(lines[1].substr(t + 2));
  if (!milli) {
    return malformed("temperature " + quoted(lines[1].substr(t + 2)) +
                     " is not an integer in millidegrees");
  }
  const double c = static_cast<double>(*milli) / 1000.0;
  if (*milli == 85000) {
    const bool believable =
        previous_good_c && std::fabs(*previous_good_c - kW1PowerOnCelsius) <= kW1PowerOnTolerance;
    if (!believable) {
      return SensorValue::rejected(
          Quality::kImplausible,
          "85 is the DS18B20 power-on value (no conversion happened); believed only after a "
          "good reading within " +
              format_celsius(kW1PowerOnTolerance) + " of 85 (previous good: " +
              (previous_good_c ? format_celsius(*previous_good_c) : std::string("none")) + ")",
          c);
    }
  }
  return SensorValue::good(c);
}

SensorValue parse_hwmon_input(std::string_view text) {
  auto s = trim(text);
  if (s.empty()) return SensorValue::rejected(Quality::kNoData, "empty read");
  auto milli = whole_integer(s);
  if (!milli) {
    return SensorValue::rejected(Quality::kNoData, "malformed hwmon value " + quoted(s) +
                                                       ": expected an integer in millidegrees");
  }
  return SensorValue::good(static_cast<double>(*milli) / 1000.0);
}

Reading make_reading(std::string probe, const SensorValue& value, const Instant& at) {
  Reading r;
  r.probe = std::move(probe);
  r.celsius = value.celsius;
  r.wall_ms = at.wall_ms;
  r.mono_ns = at.mono_ns;
  r.flags.clock_unsynchronized = at.clock_unsynchronized;
  r.quality = value.quality;
  r.reason = value.reason;
  return r;
}

Reading check_reading(Reading reading, const ProbeCheck& check) {
  if (reading.quality != Quality::kGood) return reading;
  const double raw = reading.celsius;
  if (check.open_value) {
    reading.celsius = std::fabs(raw - *check.open_value) < 1e-9 ? 1.0 : 0.0;
    return reading;
  }
  reading.celsius = raw + check.offset_c;
  if (!std::isfinite(reading.celsius) || reading.celsius < check.plausible_min_c ||
      reading.celsius > check.plausible_max_c) {
    reading.quality = Quality::kImplausible;
    reading.reason = format_celsius(reading.celsius) + " (raw " + format_celsius(raw) +
                     ", offset " + format_celsius(check.offset_c) +
                     ") is outside the plausible range " + format_celsius(check.plausible_min_c) +
                     " to " + format_celsius(check.plausible_max_c);
  }
  return reading;
}

}  // namespace depot::coldchain
