#include "core/time.hpp"

#include <gtest/gtest.h>

namespace depot::timefmt {

TEST(Time, FormatsAndParsesRfc3339Utc) {
  EXPECT_EQ(rfc3339_from_unix_ms(0), "1970-01-01T00:00:00.000Z");
  // 2026-11-23T14:34:00.123Z = 20780 days + 52440.123 s
  const std::int64_t t = (20780LL * 86400 + 14 * 3600 + 34 * 60) * 1000 + 123;
  EXPECT_EQ(rfc3339_from_unix_ms(t), "2026-11-23T14:34:00.123Z");
  EXPECT_EQ(parse_rfc3339_ms("2026-11-23T14:34:00.123Z"), t);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-23T22:34:00.123+08:00"), t);
  EXPECT_EQ(parse_rfc3339_ms("2026-11-23"), 20780LL * 86400 * 1000);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00Z"), days_from_civil(2024, 2, 29) * 86400000);
}

TEST(Time, RejectsImpossibleDates) {
  EXPECT_FALSE(parse_rfc3339_ms("2025-02-29"));  // not a leap year
  EXPECT_FALSE(parse_rfc3339_ms("2026-13-01"));
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-23T24:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ms("2026-11-23T10:00:00"));  // no zone
  EXPECT_FALSE(parse_rfc3339_ms("yesterday"));
}

TEST(Time, ParsesAges) {
  EXPECT_EQ(parse_age_seconds("90s"), 90);
  EXPECT_EQ(parse_age_seconds("15m"), 900);
  EXPECT_EQ(parse_age_seconds("2h"), 7200);
  EXPECT_EQ(parse_age_seconds("3d"), 259200);
  EXPECT_FALSE(parse_age_seconds("3w"));
  EXPECT_FALSE(parse_age_seconds("h"));
  // At most 9 digits, as views::kSinceRule says.
  EXPECT_EQ(parse_age_seconds("999999999d"), 999999999LL * 86400);
  EXPECT_FALSE(parse_age_seconds("1000000000s"));
  EXPECT_FALSE(parse_age_seconds("99999999999d"));
}

}  // namespace depot::timefmt
