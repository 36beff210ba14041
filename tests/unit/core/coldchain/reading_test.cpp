#include "core/coldchain/reading.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depot::coldchain {
namespace {
using ::testing::HasSubstr;

// What the kernel's w1_therm prints for a DS18B20 (bytes from a real probe at 23.125 °C:
// 0x0172 = 370 sixteenths = 23.125).
const char* kW1Good =
    "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"
    "72 01 4b 46 7f ff 0e 10 57 t=23125\n";

std::string w1(const std::string& bytes, const std::string& crc, const std::string& verdict,
               const std::string& t) {
  return bytes + " : crc=" + crc + " " + verdict + "\n" + bytes + " t=" + t + "\n";
}

TEST(W1Slave, ParsesAGoodRead) {
  auto v = parse_w1_slave(kW1Good, std::nullopt);
  EXPECT_EQ(v.quality, Quality::kGood) << v.reason;
  EXPECT_DOUBLE_EQ(v.celsius, 23.125);
  EXPECT_TRUE(v.reason.empty());
}

TEST(W1Slave, ParsesNegativeTemperatures) {
  // -10.125 °C = -162 sixteenths = 0xff5e.
  auto v = parse_w1_slave(w1("5e ff 4b 46 7f ff 02 10 d8", "d8", "YES", "-10125"), std::nullopt);
  EXPECT_EQ(v.quality, Quality::kGood) << v.reason;
  EXPECT_DOUBLE_EQ(v.celsius, -10.125);
}

TEST(W1Slave, CrcNoIsACrcFailure) {
  auto v = parse_w1_slave(w1("72 01 4b 46 7f ff 0e 10 57", "a3", "NO", "23125"), std::nullopt);
  EXPECT_EQ(v.quality, Quality::kCrcFailed);
  EXPECT_EQ(v.reason, "CRC mismatch (crc=a3 NO)");
}

TEST(W1Slave, EmptyReadIsNoData) {
  for (const char* text : {"", "\n", "  \n\n"}) {
    auto v = parse_w1_slave(text, 4.0);
    EXPECT_EQ(v.quality, Quality::kNoData) << '"' << text << '"';
    EXPECT_THAT(v.reason, HasSubstr("empty read"));
  }
}

TEST(W1Slave, AllZeroScratchpadIsNoDataEvenThoughItsCrcPasses) {
  auto v = parse_w1_slave(w1("00 00 00 00 00 00 00 00 00", "00", "YES", "0"), 4.0);
  EXPECT_EQ(v.quality, Quality::kNoData);
  EXPECT_THAT(v.reason, HasSubstr("all-zero scratchpad"));
  auto ff = parse_w1_slave(w1("ff ff ff ff ff ff ff ff ff", "ff", "YES", "-62"), 4.0);
  EXPECT_EQ(ff.quality, Quality::kNoData);
  EXPECT_THAT(ff.reason, HasSubstr("all-FF"));
}

// 85.000 °C (0x0550) is what the scratchpad holds after power-on, before any conversion.
TEST(W1Slave, PowerOnValueIsRejectedUnlessThePreviousReadingWasNear85) {
  const auto text = w1("50 05 4b 46 7f ff 0c 10 1c", "1c", "YES", "85000");
  auto none = parse_w1_slave(text, std::nullopt);
  EXPECT_EQ(none.quality, Quality::kImplausible);
  EXPECT_DOUBLE_EQ(none.celsius, 85.0);
  EXPECT_THAT(none.reason, HasSubstr("85 is the DS18B20 power-on value"));
  EXPECT_THAT(none.reason, HasSubstr("previous good: none"));

  auto cold = parse_w1_slave(text, 4.5);  // a fridge does not jump to 85 °C
  EXPECT_EQ(cold.quality, Quality::kImplausible);
  EXPECT_THAT(cold.reason, HasSubstr("previous good: 4.5"));

  EXPECT_EQ(parse_w1_slave(text, 81.9).quality, Quality::kImplausible);  // 3.1 away
  EXPECT_EQ(parse_w1_slave(text, 82.0).quality, Quality::kGood);         // exactly 3 away
  EXPECT_EQ(parse_w1_slave(text, 84.5).quality, Quality::kGood);
  EXPECT_EQ(parse_w1_slave(text, 88.0).quality, Quality::kGood);
  // Near but not exactly 85.000 is a real conversion.
  auto near = parse_w1_slave(w1("51 05 4b 46 7f ff 0f 10 6a", "6a", "YES", "85062"), 4.5);
  EXPECT_EQ(near.quality, Quality::kGood);
  EXPECT_DOUBLE_EQ(near.celsius, 85.062);
}

TEST(W1Slave, MalformedTextIsNoDataWithTheReason) {
  auto one_line = parse_w1_slave("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n", std::nullopt);
  EXPECT_EQ(one_line.quality, Quality::kNoData);
  EXPECT_EQ(one_line.reason, "malformed w1_slave text: expected 2 lines, got 1");

  auto no_t = parse_w1_slave(
      "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57\n", std::nullopt);
  EXPECT_EQ(no_t.quality, Quality::kNoData);
  EXPECT_THAT(no_t.reason, HasSubstr("has no \"t=<millidegrees>\""));

  auto bad_t = parse_w1_slave(w1("72 01 4b 46 7f ff 0e 10 57", "57", "YES", "23.1"), std::nullopt);
  EXPECT_EQ(bad_t.quality, Quality::kNoData);
  EXPECT_THAT(bad_t.reason, HasSubstr("\"23.1\" is not an integer in millidegrees"));

  auto short_pad = parse_w1_slave("72 01 4b : crc=57 YES\n72 01 4b t=23125\n", std::nullopt);
  EXPECT_EQ(short_pad.quality, Quality::kNoData);
  EXPECT_THAT(short_pad.reason, HasSubstr("is not \"<9 hex bytes> : crc=<xx> YES|NO\""));

  auto verdict = parse_w1_slave(w1("72 01 4b 46 7f ff 0e 10 57", "57", "MAYBE", "23125"), {});
  EXPECT_EQ(verdict.quality, Quality::kNoData);
  EXPECT_THAT(verdict.reason, HasSubstr("\"MAYBE\" is neither YES nor NO"));
}

TEST(Hwmon, ParsesMillidegrees) {
  auto v = parse_hwmon_input("23125\n");
  EXPECT_EQ(v.quality, Quality::kGood);
  EXPECT_DOUBLE_EQ(v.celsius, 23.125);
  EXPECT_DOUBLE_EQ(parse_hwmon_input("-5500").celsius, -5.5);
  EXPECT_DOUBLE_EQ(parse_hwmon_input("0\n").celsius, 0.0);
}

TEST(Hwmon, RejectsEmptyAndMalformedValues) {
  auto empty = parse_hwmon_input("\n");
  EXPECT_EQ(empty.quality, Quality::kNoData);
  EXPECT_EQ(empty.reason, "empty read");
  for (const char* text : {"abc", "12.5", "23125 23125", "0x10"}) {
    auto v = parse_hwmon_input(text);
    EXPECT_EQ(v.quality, Quality::kNoData) << text;
    EXPECT_THAT(v.reason, HasSubstr("expected an integer in millidegrees")) << text;
  }
}

TEST(CheckReading, AppliesTheOffsetBeforeThePlausibleRange) {
  const ProbeCheck check{-0.3, -40.0, 60.0};
  const Instant at{5 * kNsPerSecond, 1'780'000'000'000, true};
  auto r = check_reading(make_reading("fridge-1", SensorValue::good(4.0), at), check);
  EXPECT_EQ(r.quality, Quality::kGood);
  EXPECT_NEAR(r.celsius, 3.7, 1e-12);
  EXPECT_EQ(r.probe, "fridge-1");
  EXPECT_EQ(r.mono_ns, 5 * kNsPerSecond);
  EXPECT_EQ(r.wall_ms, 1'780'000'000'000);
  EXPECT_TRUE(r.flags.clock_unsynchronized);

  // 60.2 raw is 59.9 after the offset: plausible. The bounds are inclusive.
  EXPECT_EQ(check_reading(make_reading("p", SensorValue::good(60.2), at), check).quality,
            Quality::kGood);
  const ProbeCheck no_offset{0.0, -40.0, 60.0};
  EXPECT_EQ(check_reading(make_reading("p", SensorValue::good(60.0), at), no_offset).quality,
            Quality::kGood);
  EXPECT_EQ(check_reading(make_reading("p", SensorValue::good(-40.0), at), no_offset).quality,
            Quality::kGood);
  auto hot = check_reading(make_reading("p", SensorValue::good(60.4), at), check);
  EXPECT_EQ(hot.quality, Quality::kImplausible);
  EXPECT_EQ(hot.reason, "60.1 (raw 60.4, offset -0.3) is outside the plausible range -40 to 60");
  EXPECT_EQ(check_reading(make_reading("p", SensorValue::good(-39.8), at), check).quality,
            Quality::kImplausible);
}

TEST(CheckReading, LeavesRejectedReadingsAlone) {
  auto v = parse_w1_slave(w1("72 01 4b 46 7f ff 0e 10 57", "a3", "NO", "23125"), std::nullopt);
  auto r = check_reading(make_reading("p", v, {}), ProbeCheck{});
  EXPECT_EQ(r.quality, Quality::kCrcFailed);
  EXPECT_EQ(r.reason, "CRC mismatch (crc=a3 NO)");
}

TEST(FormatCelsius, ShortestUpToMillidegrees) {
  EXPECT_EQ(format_celsius(23.125), "23.125");
  EXPECT_EQ(format_celsius(-18.0), "-18");
  EXPECT_EQ(format_celsius(7.5), "7.5");
  EXPECT_EQ(format_celsius(-0.0001), "0");
  EXPECT_EQ(to_string(Quality::kCrcFailed), "crc_failed");
}

TEST(CheckReading, ADoorContactMapsItsOpenValueToOneAndAnythingElseToZeroWithoutOffsetOrRange) {
  ProbeCheck door{5.0, 10.0, 20.0, 0.0};  // offset and range are ignored for a door
  const Instant t{1, 2, false};
  auto open = check_reading(make_reading("d", SensorValue::good(0.0), t), door);
  EXPECT_EQ(open.quality, Quality::kGood);
  EXPECT_EQ(open.celsius, 1.0);
  EXPECT_EQ(check_reading(make_reading("d", SensorValue::good(1.0), t), door).celsius, 0.0);
  door.open_value = 1.0;  // a Modbus input that reads 1 when open
  EXPECT_EQ(check_reading(make_reading("d", SensorValue::good(1.0), t), door).celsius, 1.0);
  auto bad = check_reading(make_reading("d", SensorValue::rejected(Quality::kNoData, "x"), t), door);
  EXPECT_EQ(bad.quality, Quality::kNoData);
}

}  // namespace
}  // namespace depot::coldchain
