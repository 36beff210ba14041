// Site time from the machine's real tzdata files (Debian `tzdata`, /usr/share/zoneinfo):
// offsets either side of a DST change, local days and local midnights, the POSIX footer rule
// past the last explicit transition, and malformed files refused by name.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "core/time.hpp"
#include "core/tz.hpp"

namespace depot {
namespace {

tz::Zone load(const std::string& name) {
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(bytes.empty()) << "tzdata is not installed: /usr/share/zoneinfo/" << name;
  auto z = tz::parse_tzif(name, bytes);
  EXPECT_TRUE(z.ok()) << (z.ok() ? "" : z.error().message);
  return z.ok() ? *z : tz::utc();
}

std::int64_t ms(const char* rfc3339) { return *timefmt::parse_rfc3339_ms(rfc3339); }
std::int64_t day(int y, unsigned m, unsigned d) { return timefmt::days_from_civil(y, m, d); }

TEST(SiteTime, ShanghaiIsUtcPlus8AndSinglesDayStartsAt16Utc) {
  const auto z = load("Asia/Shanghai");
  EXPECT_EQ(tz::offset_at(z, ms("2026-11-11T00:00:00Z") / 1000), 8 * 3600);
  // 2026-11-10T16:00Z is 2026-11-11 00:00 in Shanghai: the first instant of Singles' Day.
  EXPECT_EQ(tz::day_start_ms(z, day(2026, 11, 11)), ms("2026-11-10T16:00:00Z"));
  EXPECT_EQ(tz::local_day(z, ms("2026-11-10T15:59:59.999Z")), day(2026, 11, 10));
  EXPECT_EQ(tz::local_day(z, ms("2026-11-10T16:00:00Z")), day(2026, 11, 11));
}

TEST(SiteTime, BerlinAcrossTheSpringAndAutumnChanges) {
  const auto z = load("Europe/Berlin");
  // 2026-03-29 01:00Z: CET (+1) becomes CEST (+2); 2026-10-25 01:00Z: back to CET.
  EXPECT_EQ(tz::offset_at(z, ms("2026-03-29T00:59:59Z") / 1000), 3600);
  EXPECT_EQ(tz::offset_at(z, ms("2026-03-29T01:00:00Z") / 1000), 7200);
  EXPECT_EQ(tz::offset_at(z, ms("2026-10-25T00:59:59Z") / 1000), 7200);
  EXPECT_EQ(tz::offset_at(z, ms("2026-10-25T01:00:00Z") / 1000), 3600);
  // Local midnights: 23:00Z in winter, 22:00Z in summer. The spring day has 23 hours, the
  // autumn day 25.
  EXPECT_EQ(tz::day_start_ms(z, day(2026, 3, 29)), ms("2026-03-28T23:00:00Z"));
  EXPECT_EQ(tz::day_start_ms(z, day(2026, 3, 30)), ms("2026-03-29T22:00:00Z"));
  EXPECT_EQ(tz::day_start_ms(z, day(2026, 10, 25)), ms("2026-10-24T22:00:00Z"));
  EXPECT_EQ(tz::day_start_ms(z, day(2026, 10, 26)), ms("2026-10-25T23:00:00Z"));
  EXPECT_EQ(tz::local_day(z, ms("2026-10-25T22:30:00Z")), day(2026, 10, 25));  // 23:30 CET
}

TEST(SiteTime, PastTheLastTransitionTheFooterRuleApplies) {
  const auto z = load("Europe/Berlin");
  ASSERT_TRUE(z.rule.has_value()) << "the footer CET-1CEST,M3.5.0,M10.5.0/3";
  // 2040: last Sunday of March is the 25th, of October the 28th.
  EXPECT_EQ(tz::offset_at(z, ms("2040-03-25T00:59:59Z") / 1000), 3600);
  EXPECT_EQ(tz::offset_at(z, ms("2040-03-25T01:00:00Z") / 1000), 7200);
  EXPECT_EQ(tz::offset_at(z, ms("2040-10-28T00:59:59Z") / 1000), 7200);
  EXPECT_EQ(tz::offset_at(z, ms("2040-10-28T01:00:00Z") / 1000), 3600);
  // The southern hemisphere: Sydney is on daylight time (+11) in January.
  const auto syd = load("Australia/Sydney");
  EXPECT_EQ(tz::offset_at(syd, ms("2041-01-15T00:00:00Z") / 1000), 11 * 3600);
  EXPECT_EQ(tz::offset_at(syd, ms("2041-07-15T00:00:00Z") / 1000), 10 * 3600);
}

TEST(SiteTime, PosixRulesAndZoneNames) {
  auto r = tz::parse_posix_rule("CST-8");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->std_offset, 8 * 3600);
  EXPECT_FALSE(r->has_dst);
  r = tz::parse_posix_rule("<-03>3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->std_offset, -3 * 3600);
  r = tz::parse_posix_rule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->dst_offset, -4 * 3600);
  EXPECT_EQ(r->end.month, 11);
  EXPECT_FALSE(tz::parse_posix_rule("EST5EDT,J60,J300"));  // not understood: nullopt
  EXPECT_FALSE(tz::parse_posix_rule("E5"));

  EXPECT_TRUE(tz::valid_zone_name("Asia/Shanghai"));
  EXPECT_TRUE(tz::valid_zone_name("Etc/GMT+8"));
  EXPECT_TRUE(tz::valid_zone_name("America/Argentina/Buenos_Aires"));
  for (const char* bad : {"", "../etc/passwd", "/etc/localtime", "Asia/../../x", "Asia/",
                          "Asia//Shanghai", "Asia/Shang hai", "Asia/./Shanghai"})
    EXPECT_FALSE(tz::valid_zone_name(bad)) << bad;
}

TEST(SiteTime, MalformedFilesAreRefusedAndNeverRead) {
  EXPECT_FALSE(tz::parse_tzif("x", "").ok());
  EXPECT_FALSE(tz::parse_tzif("x", "TZif2 but far too short").ok());
  // A real file cut anywhere is refused, never read past its end.
  std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t cut = 0; cut < 1500; cut += 7)
    EXPECT_FALSE(tz::parse_tzif("x", std::string_view(bytes).substr(0, cut)).ok()) << cut;
  // UTC is UTC.
  const auto utc = load("UTC");
  EXPECT_EQ(tz::offset_at(utc, 0), 0);
  EXPECT_EQ(tz::day_start_ms(utc, day(2026, 11, 11)), ms("2026-11-11T00:00:00Z"));
}

}  // namespace
}  // namespace depot
