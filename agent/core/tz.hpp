// Site time: an IANA time zone read from its compiled TZif file (RFC 8536), so that demand
// days, campaign dates without a time and daily reports follow the site's calendar, not UTC.
// Debian's tzdata ships "fat" files (explicit transitions up to 2037); after the last
// transition the footer's POSIX TZ rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3") is applied, so a
// date in 2040 is right too. Rules in the rare Jn/n day forms fall back to the last
// transition's offset.
// Pure: parses bytes it is given; app/ reads the file (/usr/share/zoneinfo/NAME).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace depot::tz {

// A POSIX TZ rule of the M-form: standard and daylight offsets (seconds east of UTC) and the
// two changes, each in month/week/weekday and seconds after local midnight.
struct PosixRule {
  std::int32_t std_offset = 0, dst_offset = 0;
  bool has_dst = false;
  struct When {
    int month = 1, week = 1, weekday = 0;  // week 5 = the last; weekday 0 = Sunday
    std::int32_t time_s = 7200;
  } start, end;
};

struct Zone {
  std::string name = "UTC";
  std::vector<std::int64_t> at;            // transition instants, unix seconds, ascending
  std::vector<std::int32_t> offset_after;  // the UTC offset (s) from at[i] on
  std::int32_t initial_offset = 0;         // before the first transition (time type 0)
  std::optional<PosixRule> rule;           // after the last transition
};

// UTC.
Zone utc();

// Whether `name` may name a zone file: 1-64 characters of A-Z a-z 0-9 _ + - /, no leading
// '/', no "." or ".." segment (so it never leaves the zoneinfo folder).
bool valid_zone_name(std::string_view name);

// A zone from the bytes of its TZif file (versions 1 to 4). Errors say what is malformed.
Expected<Zone> parse_tzif(std::string_view name, std::string_view bytes);

// A POSIX TZ string such as "CST-8" or "CET-1CEST,M3.5.0,M10.5.0/3"; nullopt when it is not
// one this reader understands (then the last transition's offset stays in force).
std::optional<PosixRule> parse_posix_rule(std::string_view text);

// The UTC offset in seconds at `unix_s`.
std::int32_t offset_at(const Zone& z, std::int64_t unix_s);

// The site-local civil day of `unix_ms`, as days since 1970-01-01.
std::int64_t local_day(const Zone& z, std::int64_t unix_ms);

// The first instant (unix ms) of the local civil day `day` (days since 1970-01-01): local
// midnight, or the end of a daylight-saving gap that swallowed midnight.
std::int64_t day_start_ms(const Zone& z, std::int64_t day);

}  // namespace depot::tz
