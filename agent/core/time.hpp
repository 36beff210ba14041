// Calendar arithmetic and RFC 3339 text for UTC times, without reading any clock.
// The agent stores times as RFC 3339 UTC with milliseconds ("2026-11-23T14:34:00.123Z"),
// which sorts as text in time order. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace depot::timefmt {

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d);
// Days since 1970-01-01 as an ISO date "YYYY-MM-DD".
std::string iso_date(std::int64_t days);
// Days in a month (leap years per the Gregorian rule).
unsigned days_in_month(int y, unsigned m);

// Milliseconds since the Unix epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string rfc3339_from_unix_ms(std::int64_t unix_ms);

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" or with a "+HH:MM"/"-HH:MM" offset,
// (a space may stand for 'T') into milliseconds since the epoch; nullopt when malformed or
// out of range (month 13, Feb 30, ...).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

// Parses an age like "90s", "15m", "2h", "3d" into seconds; nullopt when malformed.
std::optional<std::int64_t> parse_age_seconds(std::string_view text);

}  // namespace depot::timefmt
