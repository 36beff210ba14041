// The barcode decoder against GS1 General Specifications rules: AI formats and lengths, the
// FNC1 (GS) and human-readable forms, check digits, YYMMDD dates with DD=00 and the century
// rule, EAN/UPC, AIM symbology identifiers, and one test per rejection reason with its exact
// message. GTINs and SSCCs are the GS1 example numbers (09506000134352, 006141411234567890, ...).
#include "core/barcode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depot::barcode {
namespace {
using ::testing::ElementsAre;

constexpr int kYear = 2026;
const std::string GS(1, kGs);

Decoded ok(const std::string& raw, int year = kYear) {
  auto d = decode(raw, year);
  EXPECT_TRUE(d.ok()) << raw << ": " << (d.ok() ? "" : d.error().message);
  return d.ok() ? std::move(d).value() : Decoded{};
}

std::string rejected(const std::string& raw, int year = kYear) {
  auto d = decode(raw, year);
  EXPECT_FALSE(d.ok()) << printable(raw) << " was accepted";
  return d.ok() ? "" : d.error().message;
}

std::vector<std::string> ais(const Decoded& d) {
  std::vector<std::string> v;
  for (const auto& f : d.fields) v.push_back(f.ai);
  return v;
}

TEST(Barcode, Gs1_128WithFnc1AsGs) {
  // GTIN, expiry, lot (variable, ended by GS), serial (variable, ended by the end of data).
  auto d =
      ok("]C1"
         "0109506000134352"
         "17261231"
         "10ABC123" +
         GS + "21S/N-7");
  EXPECT_EQ(d.symbology, "]C1");
  EXPECT_EQ(d.kind, Kind::kGs1);
  EXPECT_EQ(d.format, "GS1");
  ASSERT_EQ(d.fields.size(), 4u);
  EXPECT_EQ(d.fields[0], (barcode::Field{"01", "GTIN", "09506000134352", "09506000134352"}));
  EXPECT_EQ(d.fields[1], (barcode::Field{"17", "USE BY or EXPIRY", "261231", "2026-12-31"}));
  EXPECT_EQ(d.fields[2], (barcode::Field{"10", "BATCH/LOT", "ABC123", "ABC123"}));
  EXPECT_EQ(d.fields[3], (barcode::Field{"21", "SERIAL", "S/N-7", "S/N-7"}));
  EXPECT_EQ(d.gtin, "09506000134352");
  EXPECT_EQ(d.expiry, "2026-12-31");
  EXPECT_EQ(d.lot, "ABC123");
  EXPECT_EQ(d.serial, "S/N-7");
  EXPECT_EQ(d.field("17")->text, "2026-12-31");
  EXPECT_EQ(d.field("15"), nullptr);
}

TEST(Barcode, HumanReadableAndFnc1FormsGiveTheSameResult) {
  const std::string hri = "(01)09506000134352(17)261231(10)ABC123(21)S/N-7";
  const std::string fnc1 =
      "]C1"
      "0109506000134352"
      "17261231"
      "10ABC123" +
      GS + "21S/N-7";
  auto a = ok(hri);
  auto b = ok(fnc1);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.gtin, b.gtin);
  EXPECT_EQ(a.expiry, b.expiry);
  EXPECT_EQ(a.lot, b.lot);
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.symbology, "");
  EXPECT_EQ(to_hri(b.fields), hri);
  EXPECT_EQ(to_element_string(a.fields), fnc1.substr(3));
  // As printed under a barcode, with spaces.
  EXPECT_EQ(ok("(01) 09506000134352 (17) 261231 (10) ABC123 (21) S/N-7").fields, a.fields);
  // Without a symbology identifier, a GS marks the data as GS1 too.
  EXPECT_EQ(ok(fnc1.substr(3)).fields, a.fields);
  // Some scanners send FNC1 in first position as a leading GS.
  EXPECT_EQ(ok("]d2" + GS + fnc1.substr(3)).fields, a.fields);
}

TEST(Barcode, GtinAliasesAcrossSymbologiesAndForms) {
  for (const std::string raw :
       {"]C101095060001343521726123110ABC", "]d201095060001343521726123110ABC",
        "]Q301095060001343521726123110ABC", "]e001095060001343521726123110ABC",
        "]J101095060001343521726123110ABC"}) {
    auto d = ok(raw);
    EXPECT_EQ(d.kind, Kind::kGs1) << raw;
    EXPECT_EQ(d.symbology, raw.substr(0, 3));
    EXPECT_THAT(ais(d), ElementsAre("01", "17", "10")) << raw;
    EXPECT_EQ(d.lot, "ABC");
  }
  EXPECT_EQ(symbology_name("]C1"), "GS1-128");
  EXPECT_EQ(symbology_name("]d2"), "GS1 DataMatrix");
  EXPECT_EQ(symbology_name("]X9"), "");
}

TEST(Barcode, VariableFieldEndsAtGsOrAtTheEndOfData) {
  // Lot first, ended by GS; then a fixed-length date.
  auto a =
      ok("]C1"
         "10LOT-1" +
         GS + "17261231");
  EXPECT_EQ(a.lot, "LOT-1");
  EXPECT_EQ(a.expiry, "2026-12-31");
  // Lot last, ended by the end of the data.
  auto b =
      ok("]C1"
         "17261231"
         "10LOT-1");
  EXPECT_EQ(b.lot, "LOT-1");
  EXPECT_EQ(b.expiry, "2026-12-31");
  // A trailing GS is harmless.
  EXPECT_EQ(ok("]C1"
               "17261231"
               "10LOT-1" +
               GS)
                .lot,
            "LOT-1");
  // Without the GS the lot runs on: what follows is part of it, not a date.
  auto c =
      ok("]C1"
         "10LOT-1"
         "17261231");
  EXPECT_EQ(c.lot, "LOT-117261231");
  EXPECT_FALSE(c.expiry);
}

TEST(Barcode, PredefinedLengthFieldsNeedNoSeparatorButMayHaveOne) {
  auto a =
      ok("]C1"
         "00006141411234567890"
         "0109506000134352"
         "11250101"
         "13250102"
         "15260630"
         "20"
         "07");
  EXPECT_THAT(ais(a), ElementsAre("00", "01", "11", "13", "15", "20"));
  EXPECT_EQ(a.sscc, "006141411234567890");
  EXPECT_EQ(a.production_date, "2025-01-01");
  EXPECT_EQ(a.packaging_date, "2025-01-02");
  EXPECT_EQ(a.best_before, "2026-06-30");
  EXPECT_EQ(a.field("20")->value, "07");
  auto b =
      ok("]C1"
         "0109506000134352" +
         GS + "17261231" + GS + "10X");
  EXPECT_EQ(b.gtin, "09506000134352");
  EXPECT_EQ(b.lot, "X");
}

TEST(Barcode, MeasuresCarryTheirDecimalPointInTheAi) {
  // GS1 example of a variable measure trade item: (01)95012345678903(3103)000123 = 0.123 kg.
  auto d =
      ok("]C1"
         "0195012345678903"
         "3103000123");
  ASSERT_EQ(d.fields.size(), 2u);
  EXPECT_EQ(d.fields[1], (barcode::Field{"3103", "NET WEIGHT (kg)", "000123", "0.123"}));
  EXPECT_EQ(ok("(01)95012345678903(3202)001250").field("3202")->text, "12.50");
  EXPECT_EQ(ok("(01)95012345678903(3202)001250").field("3202")->title, "NET WEIGHT (lb)");
  EXPECT_EQ(ok("(01)95012345678903(3100)000500").field("3100")->text, "500");
  EXPECT_EQ(ok("(01)95012345678903(3105)123456").field("3105")->text, "1.23456");
  EXPECT_EQ(ok("(00)006141411234567890(3301)004321").field("3301")->text, "432.1");
}

TEST(Barcode, CountsAndLogisticUnits) {
  auto d =
      ok("]C1"
         "00106141411234567897"
         "0210614141000415"
         "3740" +
         GS + "10L1");
  EXPECT_EQ(d.sscc, "106141411234567897");
  EXPECT_EQ(d.content_gtin, "10614141000415");
  EXPECT_FALSE(d.gtin);
  EXPECT_EQ(d.trade_item_count, 40);
  EXPECT_EQ(d.lot, "L1");
  EXPECT_EQ(ok("(01)95012345678903(30)12345678").variable_count, 12345678);
}

TEST(Barcode, OtherSupportedAis) {
  auto d =
      ok("(01)09506000134352(22)CPV-1(240)ADD(241)CPN(250)SER2(251)SRC(400)PO-77(401)"
         "GINC1(402)06141411234567890(403)R9(410)0614141000005(420)1017(90)I0(91)I1(99)I9");
  EXPECT_THAT(ais(d), ElementsAre("01", "22", "240", "241", "250", "251", "400", "401", "402",
                                  "403", "410", "420", "90", "91", "99"));
  EXPECT_EQ(d.field("410")->title, "SHIP TO LOC");
  EXPECT_EQ(d.field("99")->title, "INTERNAL");
}

TEST(Barcode, DayZeroMeansTheLastDayOfTheMonth) {
  EXPECT_EQ(ok("(17)261200").expiry, "2026-12-31");
  EXPECT_EQ(ok("(15)260400").best_before, "2026-04-30");
  EXPECT_EQ(ok("(17)280200").expiry, "2028-02-29");  // leap year
  EXPECT_EQ(ok("(17)270200").expiry, "2027-02-28");
  EXPECT_EQ(ok("(17)000200", 2026).expiry, "2000-02-29");  // 2000 was a leap year
  EXPECT_EQ(ok("(11)260100").production_date, "2026-01-31");
  EXPECT_EQ(ok("(17)261200").field("17")->value, "261200");  // the raw value is kept
}

TEST(Barcode, CenturyRuleAtItsBoundaries) {
  // GS1 General Specifications 7.12: YY - current YY in 51..99 -> previous century,
  // -99..-50 -> next century, otherwise the current century.
  EXPECT_EQ(gs1_year(26, 2026), 2026);
  EXPECT_EQ(gs1_year(76, 2026), 2076);  // +50: current century
  EXPECT_EQ(gs1_year(77, 2026), 1977);  // +51: previous century
  EXPECT_EQ(gs1_year(99, 2026), 1999);
  EXPECT_EQ(gs1_year(0, 2026), 2000);
  EXPECT_EQ(gs1_year(26, 2075), 2026);  // -49: current century
  EXPECT_EQ(gs1_year(25, 2075), 2125);  // -50: next century
  EXPECT_EQ(gs1_year(0, 2099), 2100);   // -99: next century
  EXPECT_EQ(gs1_year(49, 2099), 2149);  // -50
  EXPECT_EQ(gs1_year(50, 2099), 2050);  // -49
  EXPECT_EQ(gs1_year(50, 2000), 2050);  // +50
  EXPECT_EQ(gs1_year(51, 2000), 1951);  // +51
  // Through the decoder:
  EXPECT_EQ(ok("(17)760101").expiry, "2076-01-01");
  EXPECT_EQ(ok("(17)770101").expiry, "1977-01-01");
  EXPECT_EQ(ok("(17)250101", 2075).expiry, "2125-01-01");
  EXPECT_EQ(ok("(17)260101", 2075).expiry, "2026-01-01");
}

TEST(Barcode, PlainEanUpcAndGtin14) {
  auto ean13 = ok("4006381333931");
  EXPECT_EQ(ean13.kind, Kind::kGtin);
  EXPECT_EQ(ean13.format, "EAN-13");
  EXPECT_EQ(ean13.gtin, "04006381333931");
  EXPECT_TRUE(ean13.fields.empty());
  EXPECT_EQ(ok("96385074").format, "EAN-8");
  EXPECT_EQ(ok("96385074").gtin, "00000096385074");
  EXPECT_EQ(ok("036000291452").format, "UPC-A");
  EXPECT_EQ(ok("036000291452").gtin, "00036000291452");
  EXPECT_EQ(ok("14006381333938").format, "GTIN-14");
  EXPECT_EQ(ok("14006381333938").gtin, "14006381333938");
  // With EAN/UPC symbology identifiers.
  EXPECT_EQ(ok("]E04006381333931").gtin, "04006381333931");
  EXPECT_EQ(ok("]E0036000291452").format, "UPC-A");
  EXPECT_EQ(ok("]E496385074").gtin, "00000096385074");
  auto upce = ok("]E001234565");  // UPC-E 01234565 = UPC-A 012345000065
  EXPECT_EQ(upce.format, "UPC-E");
  EXPECT_EQ(upce.gtin, "00012345000065");
  auto addon = ok("]E3400638133393112");
  EXPECT_EQ(addon.gtin, "04006381333931");
  EXPECT_EQ(addon.add_on, "12");
  EXPECT_EQ(ok("]I114006381333938").gtin, "14006381333938");  // ITF-14
}

TEST(Barcode, AnythingElsePrintableIsAnInternalCode) {
  auto d = ok("INT-VC-001");
  EXPECT_EQ(d.kind, Kind::kInternal);
  EXPECT_EQ(d.format, "internal");
  EXPECT_EQ(d.data, "INT-VC-001");
  EXPECT_FALSE(d.gtin);
  EXPECT_EQ(ok("1234567890").kind, Kind::kInternal);  // digits, but not a GTIN length
  EXPECT_EQ(ok("bin A-07").kind, Kind::kInternal);    // a space is printable
  auto c = ok("]C0INT-VC-001");
  EXPECT_EQ(c.kind, Kind::kInternal);
  EXPECT_EQ(c.symbology, "]C0");
  EXPECT_EQ(c.data, "INT-VC-001");
  EXPECT_EQ(ok("]C0(not gs1)").kind, Kind::kInternal);
}

TEST(Barcode, RepeatedElementStringIsOneFact) {
  auto d = ok("(01)09506000134352(10)A(10)A");
  EXPECT_THAT(ais(d), ElementsAre("01", "10"));
}

TEST(Barcode, CharacterSet82) {
  int n = 0;
  for (int c = 0; c < 128; ++c) n += is_cset82(static_cast<char>(c));
  EXPECT_EQ(n, 82);
  EXPECT_TRUE(is_cset82('_'));
  EXPECT_FALSE(is_cset82(' '));
  EXPECT_FALSE(is_cset82('#'));
  EXPECT_FALSE(is_cset82('$'));
  EXPECT_FALSE(is_cset82('@'));
}

TEST(Barcode, EachRejectionNamesItsRule) {
  struct Case {
    std::string raw;
    std::string message;
    int year = kYear;
  } cases[] = {
      {"(17)261331", "AI (17): \"261331\" is not a valid date: month 13"},
      {"(11)260001", "AI (11): \"260001\" is not a valid date: month 00"},
      {"(15)260431", "AI (15): \"260431\" is not a valid date: day 31 (April 2026 has 30 days)"},
      {"(17)270229", "AI (17): \"270229\" is not a valid date: day 29 (February 2027 has 28 days)"},
      {"(17)26AB01", "AI (17): \"26AB01\" must be 6 digits (YYMMDD)"},
      {"]C1"
       "0109506000134352"
       "172612",
       "AI (17): \"2612\" must be 6 digits (YYMMDD)"},
      {"(17)261231",
       "AI (17): \"261231\": the century of year 26 needs the current year "
       "(reference year 0 is not 1..9999)",
       0},
      {"(01)04006381333932", "AI (01): \"04006381333932\" fails the GTIN check digit (expected 1)"},
      {"]C1"
       "0104006381333932",
       "AI (01): \"04006381333932\" fails the GTIN check digit (expected 1)"},
      {"(02)10614141000416", "AI (02): \"10614141000416\" fails the GTIN check digit (expected 5)"},
      {"(00)106141411234567890",
       "AI (00): \"106141411234567890\" fails the SSCC check digit (expected 7)"},
      {"(410)0614141000006", "AI (410): \"0614141000006\" fails the GLN check digit (expected 5)"},
      {"(01)0400638133393", "AI (01): \"0400638133393\" must be 14 digits"},
      {"(01)0400638133393X", "AI (01): \"0400638133393X\" must be 14 digits"},
      {"(20)1", "AI (20): \"1\" must be 2 digits"},
      {"(10)ABCDEFGHIJKLMNOPQRSTU", "AI (10): lot longer than 20 characters"},
      {"]C1"
       "10ABCDEFGHIJ"
       "17261231"
       "21X",
       "AI (10): lot longer than 20 characters"},
      {"(21)123456789012345678901", "AI (21): serial longer than 20 characters"},
      {"(01)09506000134352(10)", "AI (10): lot is empty"},
      {"(10)AB C",
       "AI (10): \"AB C\" has \" \" at character 3, which is not in GS1 character set 82"},
      {"(01) 0950600013435 2", "AI (01): \"0950600013435 2\" must be 14 digits"},
      {"(10)AB#",
       "AI (10): \"AB#\" has \"#\" at character 3, which is not in GS1 character set 82"},
      {"(37)123456789", "AI (37): count longer than 8 digits"},
      {"(30)1A", "AI (30): \"1A\" must be digits"},
      {"(89)1", "unknown application identifier (89)"},
      {"(011)09506000134352", "unknown application identifier (011)"},
      {"]C1"
       "891",
       "unknown application identifier (89)"},
      {"]C1"
       "2351234",
       "unknown application identifier (235)"},
      {"]C1"
       "3106000123",
       "unknown application identifier (3106)"},
      {"(3106)000123", "unknown application identifier (3106)"},
      {"]C1"
       "ABC",
       "expected an application identifier at position 4, found \"A\""},
      {"]C1"
       "0109506000134352"
       "1",
       "truncated application identifier \"1\" at position 20"},
      {"]C1"
       "0109506000134352" +
           GS + GS + "10A",
       "unexpected GS separator at position 21: an application identifier must follow each GS"},
      {"]C1" + GS, "no GS1 data after the FNC1"},
      {"(10)A(10)B", "AI (10) appears twice with different values: \"A\" and \"B\""},
      {"(01)09506000134352(02)10614141000415",
       "AI (01) and AI (02) must not appear together: (01) identifies the item itself, (02) the "
       "items inside a logistic unit"},
      {"(01)09506000134352(37)5",
       "AI (01) and AI (37) must not appear together: (37) counts the trade items named by "
       "(02), not by (01)"},
      {"(01)95012345678903(3102)000123(3103)000123",
       "AI (3102) and AI (3103) must not appear together: one NET WEIGHT (kg) per item"},
      {"(0A)123", "\"(0A)\" at position 1 is not an application identifier in parentheses"},
      {"(10)AB" + GS + "C",
       "GS separator at position 7 inside human-readable (parenthesised) data"},
      {"4006381333931\r",
       "control character \\x0d at position 14 is not allowed (only GS, 0x1d, may appear in a "
       "scan)"},
      {"INT\xc3\xa9", "byte \\xc3 at position 4 is not ASCII"},
      {"]1A4006381333931",
       "\"]1A\" is not an AIM symbology identifier (\"]\", a letter and a "
       "modifier)"},
      {"]C1", "no data after the symbology identifier ]C1"},
      {"", "empty scan"},
      {"]C0AB" + GS + "C", "GS separator at position 6 in a symbol that is not GS1 (]C0)"},
      {"4006381333932", "barcode \"4006381333932\" fails the GTIN-13 check digit (expected 1)"},
      {"96385075", "barcode \"96385075\" fails the GTIN-8 check digit (expected 4)"},
      {"036000291453", "barcode \"036000291453\" fails the GTIN-12 check digit (expected 2)"},
      {"14006381333939", "barcode \"14006381333939\" fails the GTIN-14 check digit (expected 8)"},
      {"]E012345",
       "symbology ]E0 (EAN-13, UPC-A or UPC-E) carries \"12345\": expected 8, 12 or "
       "13 digits"},
      {"]E44006381333931", "symbology ]E4 (EAN-8) carries \"4006381333931\": expected 8 digits"},
      {"]E001234566", "UPC-E \"01234566\" fails its check digit (expected 5)"},
      {"]E021234565", "UPC-E \"21234565\": number system 2 must be 0 or 1"},
      {"]E112", "symbology ]E1 is an EAN/UPC add-on read on its own; it names no item"},
      {"]E340063813339311",
       "symbology ]E3 (EAN-13 with add-on) carries \"40063813339311\": "
       "expected 13 digits and a 2- or 5-digit add-on"},
  };
  for (const auto& c : cases) EXPECT_EQ(rejected(c.raw, c.year), c.message) << printable(c.raw);
}

TEST(Barcode, PrintableEscapesWhatATerminalWouldNotShow) {
  EXPECT_EQ(printable("A" + GS + "B\n\xff"), "A\\x1dB\\x0a\\xff");
  EXPECT_EQ(printable("plain (01) text"), "plain (01) text");
}

}  // namespace
}  // namespace depot::barcode
