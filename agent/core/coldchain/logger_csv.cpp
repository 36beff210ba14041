#include "core/coldchain/logger_csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/coldchain/mkt.hpp"
#include "core/time.hpp"

namespace depot::coldchain {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  return s;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (s.size() > 40) out += "...";
  return out + "\"";
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto pos = line.find(sep, start);
    out.push_back(unquote(line.substr(start, pos == std::string_view::npos ? pos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// RFC 3339, or "YYYY-MM-DD HH:MM[:SS]" without a zone taken as UTC. A bare date is refused:
// a logger reading needs a time of day.
std::optional<std::int64_t> parse_timestamp(std::string_view s, std::string& why) {
  if (s.size() <= 10) {
    why = "timestamp " + quoted(s) + " needs a date and a time of day";
    return std::nullopt;
  }
  if (auto t = timefmt::parse_rfc3339_ms(s)) return t;
  if (auto t = timefmt::parse_rfc3339_ms(std::string(s) + "Z")) return t;
  why = "timestamp " + quoted(s) +
        " is not RFC 3339 or YYYY-MM-DD HH:MM[:SS] (or is not a real date and time)";
  return std::nullopt;
}

std::optional<double> parse_celsius(std::string_view s, std::string& why) {
  if (s.empty()) {
    why = "temperature is empty";
    return std::nullopt;
  }
  if (s.find(',') != std::string_view::npos) {
    why = "temperature " + quoted(s) + " uses a decimal comma; use a decimal point";
    return std::nullopt;
  }
  std::string_view digits = s.front() == '+' ? s.substr(1) : s;
  double v = 0.0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
      !std::isfinite(v)) {
    why = "temperature " + quoted(s) + " is not a number";
    return std::nullopt;
  }
  return v;
}

}  // namespace

LoggerFile parse_logger_csv(std::string_view text) {
  LoggerFile file;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  bool first = true;
  int line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::string_view line = trim(
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;

    if (first) {
      file.separator = line.find(';') != std::string_view::npos ? ';' : ',';
      first = false;
      // A header names its columns; a reading starts with a digit (or a quoted one).
      auto lead = unquote(line);
      if (lead.empty() || lead.front() < '0' || lead.front() > '9') {
        file.has_header = true;
        continue;
      }
    }
    auto fields = split(line, file.separator);
    if (fields.size() != 2) {
      file.problems.push_back({line_no, "expected 2 fields (timestamp, °C) separated by '" +
                                            std::string(1, file.separator) + "', got " +
                                            std::to_string(fields.size())});
      continue;
    }
    std::string why;
    auto ms = parse_timestamp(fields[0], why);
    if (!ms) {
      file.problems.push_back({line_no, why});
      continue;
    }
    auto c = parse_celsius(fields[1], why);
    if (!c) {
      file.problems.push_back({line_no, why});
      continue;
    }
    // Loggers record the present: a year outside 1970-2200 is a typo (and would overflow the
    // nanosecond time line of a file spanning centuries).
    constexpr std::int64_t kLatestMs = 7'258'118'400'000;  // 2200-01-01T00:00:00Z
    if (*ms < 0 || *ms >= kLatestMs) {
      file.problems.push_back({line_no, "timestamp " + timefmt::rfc3339_from_unix_ms(*ms) +
                                            " is outside 1970-2199"});
      continue;
    }
    if (!file.rows.empty() && *ms <= file.rows.back().unix_ms) {
      const auto& prev = file.rows.back();
      file.problems.push_back({line_no, "timestamp " + timefmt::rfc3339_from_unix_ms(*ms) +
                                            " is not after line " + std::to_string(prev.line) +
                                            "'s " + timefmt::rfc3339_from_unix_ms(prev.unix_ms)});
      continue;
    }
    file.rows.push_back({line_no, *ms, *c});
  }
  return file;
}

ProbeCheck logger_check(const Zone& zone) {
  constexpr double kWiden = 60.0;
  ProbeCheck c;
  c.plausible_min_c = -100.0;
  c.plausible_max_c = 100.0;
  for (const auto& limit : {zone.min_c, zone.max_c}) {
    if (!limit) continue;
    c.plausible_min_c = std::min(c.plausible_min_c, *limit - kWiden);
    c.plausible_max_c = std::max(c.plausible_max_c, *limit + kWiden);
  }
  return c;
}

LoggerEvaluation evaluate_logger(const LoggerFile& file, const Zone& zone, const ProbeCheck& check,
                                 std::int64_t max_gap_s) {
  LoggerEvaluation result;
  if (file.rows.empty()) return result;
  const std::string kProbe = "logger";
  ZoneMonitor monitor(zone, {ProbeSpec{kProbe, max_gap_s}});
  const std::int64_t origin_ms = file.rows.front().unix_ms;
  const std::int64_t max_gap_ms = max_gap_s * 1000;

  std::vector<std::pair<std::int64_t, double>> good;  // (unix ms, calibrated °C)
  for (const auto& row : file.rows) {
    Reading r;
    r.probe = kProbe;
    r.celsius = row.celsius;
    r.wall_ms = row.unix_ms;
    r.mono_ns = (row.unix_ms - origin_ms) * 1'000'000;
    r = check_reading(std::move(r), check);
    if (r.quality == Quality::kGood) {
      good.emplace_back(r.wall_ms, r.celsius);
    } else {
      result.dropped.push_back({row.line, r.reason});
    }
    auto events = monitor.on_reading(r);
    result.events.insert(result.events.end(), events.begin(), events.end());
  }

  result.excursions = monitor.take_closed_excursions();
  for (Side side : {Side::kHigh, Side::kLow}) {
    if (const auto& open = monitor.open_excursion(side)) result.excursions.push_back(*open);
  }
  for (const auto& p : monitor.probes())
    if (p.failure) result.excursions.push_back(p.failure->record);
  std::sort(result.excursions.begin(), result.excursions.end(),
            [](const Excursion& a, const Excursion& b) { return a.seq < b.seq; });

  MktSum mkt;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::int64_t stands_ms = 1000;  // a lone reading: a nominal second
    if (i + 1 < good.size()) {
      stands_ms = good[i + 1].first - good[i].first;
    } else if (i > 0) {
      stands_ms = good[i].first - good[i - 1].first;
    }
    mkt.add(good[i].second, static_cast<double>(std::min(stands_ms, max_gap_ms)) / 1000.0);
  }
  result.mkt_c = mkt.celsius();
  result.covered_s = mkt.weight();
  return result;
}

}  // namespace depot::coldchain
