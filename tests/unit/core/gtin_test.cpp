#include "core/gtin.hpp"

#include <gtest/gtest.h>

namespace depot::gtin {

TEST(Gtin, CheckDigitOfPublishedExamples) {
  // GS1 General Specifications worked example: GTIN-13 body 629104150021 -> check digit 3.
  EXPECT_EQ(check_digit("629104150021"), 3);
  EXPECT_EQ(check_digit("400638133393"), 1);     // EAN-13 4006381333931
  EXPECT_EQ(check_digit("9638507"), 4);          // EAN-8 96385074
  EXPECT_EQ(check_digit("03600029145"), 2);      // UPC-A 036000291452
  EXPECT_EQ(check_digit("1400638133393"), 8);    // GTIN-14 14006381333938
  EXPECT_EQ(check_digit("00614141123456789"), 0);  // SSCC 006141411234567890
}

TEST(Gtin, ValidatesAndNormalisesTo14Digits) {
  EXPECT_TRUE(check_digit_ok("4006381333931"));
  EXPECT_FALSE(check_digit_ok("4006381333932"));
  EXPECT_FALSE(check_digit_ok("40063813339X1"));
  EXPECT_EQ(to_gtin14("4006381333931"), "04006381333931");
  EXPECT_EQ(to_gtin14("96385074"), "00000096385074");
  EXPECT_EQ(to_gtin14("036000291452"), "00036000291452");
  EXPECT_EQ(to_gtin14("14006381333938"), "14006381333938");
  EXPECT_EQ(to_gtin14("4006381333932"), std::nullopt);  // bad check digit
  EXPECT_EQ(to_gtin14("123456789"), std::nullopt);      // not a GTIN length
}

}  // namespace depot::gtin
