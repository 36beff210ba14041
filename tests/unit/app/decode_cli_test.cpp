// `depot-agent decode` and `depot-agent control-sheet` as an operator runs them: the real
// binary, a real config file, and (when zbarimg and rsvg-convert are installed) the printed
// control sheet read back by a real barcode reader.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent_process.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "sync/commands.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using ::testing::HasSubstr;
using ::testing::StartsWith;

using test::Run;
Run run(const std::string& program, std::vector<std::string> args) {
  return test::run_program(program, std::move(args));
}
Run agent(std::vector<std::string> args) { return test::run_agent(std::move(args)); }

class DecodeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dir_.file("agent.json");
    test::write_file(cfg_, test::sample_config("depot.db"));
  }
  test::TempDir dir_;
  std::string cfg_;
};

// A GS1-128 case label: case GTIN, expiry with day 00, lot (ended by GS), serial.
const std::string kCaseLabel =
    "]C1"
    "0114006381333938"
    "17261200"
    "10L42<GS>21S9";

TEST_F(DecodeCli, ExplainsEachApplicationIdentifier) {
  auto r = agent({"decode", kCaseLabel});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "symbology  ]C1 (GS1-128)\n"
            "format     GS1\n"
            "  (01) GTIN                     14006381333938\n"
            "  (17) USE BY or EXPIRY         261200 = 2026-12-31\n"
            "  (10) BATCH/LOT                L42\n"
            "  (21) SERIAL                   S9\n"
            "gtin       14006381333938\n");
}

TEST_F(DecodeCli, GsCanBeWrittenThreeWays) {
  auto spelled = agent({"decode", kCaseLabel});
  auto escaped = agent({"decode",
                        "]C1"
                        "0114006381333938"
                        "17261200"
                        "10L42\\x1d21S9"});
  auto raw = agent({"decode",
                    "]C1"
                    "0114006381333938"
                    "17261200"
                    "10L42\x1d"
                    "21S9"});
  ASSERT_EQ(spelled.code, 0) << spelled.err;
  EXPECT_EQ(escaped.out, spelled.out);
  EXPECT_EQ(raw.out, spelled.out);
  // The human-readable form means the same; it only lacks the symbology identifier.
  auto hri = agent({"decode", "(01)14006381333938(17)261200(10)L42(21)S9"});
  ASSERT_EQ(hri.code, 0) << hri.err;
  EXPECT_EQ("symbology  ]C1 (GS1-128)\n" + hri.out, spelled.out);
}

TEST_F(DecodeCli, JsonCarriesFieldsAndMeaning) {
  auto r = agent({"decode", "--json", kCaseLabel});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "gs1");
  EXPECT_EQ(j["symbology"], "]C1");
  EXPECT_EQ(j["gtin"], "14006381333938");
  EXPECT_EQ(j["expiry"], "2026-12-31");
  EXPECT_EQ(j["lot"], "L42");
  EXPECT_EQ(j["serial"], "S9");
  EXPECT_EQ(j["hri"], "(01)14006381333938(17)261200(10)L42(21)S9");
  ASSERT_EQ(j["fields"].size(), 4u);
  EXPECT_EQ(j["fields"][1]["ai"], "17");
  EXPECT_EQ(j["fields"][1]["value"], "261200");
  EXPECT_EQ(j["fields"][1]["text"], "2026-12-31");
  EXPECT_FALSE(j.contains("sku"));  // no catalog without -c
}

TEST_F(DecodeCli, WithACatalogItNamesTheSkuAndUnits) {
  auto r = agent({"decode", "-c", cfg_, kCaseLabel});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sku        TINT\nquantity   12 units per scan\n"));
  // A pallet label: 40 cases of 12.
  r = agent({"decode", "-c", cfg_, "--json", "(00)106141411234567897(02)14006381333938(37)40"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sku"], "TINT");
  EXPECT_EQ(j["units_per_scan"], 480);
  EXPECT_EQ(j["sscc"], "106141411234567897");
  // Plain EAN-13 and internal codes.
  r = agent({"decode", "-c", cfg_, "4006381333931"});
  EXPECT_EQ(r.out,
            "format     EAN-13\ngtin       04006381333931\nsku        TINT\n"
            "quantity   1 unit per scan\n");
  r = agent({"decode", "-c", cfg_, "INT-MATCHA"});
  EXPECT_EQ(r.out,
            "format     internal\ncode       INT-MATCHA\nsku        MATCHA\n"
            "quantity   1 unit per scan\n");
}

// decode -c answers with the catalog the daemon scans against: the database's, where the
// cloud's catalog.upsert gave a SKU a barcode the config file does not list (it read the
// config's and said "not in the catalog").
TEST_F(DecodeCli, WithADatabaseItUsesTheCatalogTheCloudUpdated) {
  ASSERT_EQ(agent({"stock", "-c", cfg_}).code, 0);  // creates the database from the config
  EXPECT_EQ(agent({"decode", "-c", cfg_, "96385074"}).code, 2);
  {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok()) << db.error().message;
    store::Ledger ledger(**db);
    sync::DeskHooks h;
    h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
    h.mono_now_ns = [] { return std::int64_t{1}; };
    h.new_id = [] { return std::string("id-1"); };
    h.config_summary = nlohmann::json::object();
    sync::CommandDesk desk(**db, ledger, "", h);
    auto r = desk.handle("catalog.upsert",
                         R"({"id":"u1","args":{"sku":"COOLER","barcodes":["96385074"]}})");
    ASSERT_EQ(r["ok"], true) << r.dump();
  }
  auto r = agent({"decode", "-c", cfg_, "96385074"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sku        COOLER\n"));
  EXPECT_EQ(r.err, "");
  // A database that cannot be read (here a folder): the config's catalog, and stderr says so.
  ASSERT_EQ(::mkdir(dir_.file("folder.db").c_str(), 0700), 0);
  const auto cfg2 = dir_.file("folder.json");
  test::write_file(cfg2, test::sample_config("folder.db"));
  r = agent({"decode", "-c", cfg2, "4006381333931"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sku        TINT\n"));
  EXPECT_THAT(r.err, HasSubstr("the config's catalog (the database's cannot be read: "));
  // A changed config that lists the cloud's code takes it back, and the write says so.
  auto moved = test::sample_config("depot.db");
  moved.replace(moved.find("\"4006381333931\""), 15, "\"4006381333931\", \"96385074\"");
  test::write_file(cfg_, moved);
  r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "96385074"});
  EXPECT_THAT(r.err, HasSubstr("catalog: barcode 96385074 moved from SKU COOLER (written by the "
                               "cloud's catalog.upsert) to SKU TINT, which the config file lists"))
      << r.out;
  EXPECT_THAT(agent({"decode", "-c", cfg_, "96385074"}).out, HasSubstr("sku        TINT\n"));
}

TEST_F(DecodeCli, ACatalogMissShowsTheDecodeAndExits2) {
  auto r = agent({"decode", "-c", cfg_, "(01)09506000134352(10)X"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.out, HasSubstr("(10) BATCH/LOT                X\n"));
  EXPECT_EQ(r.err,
            "depot-agent decode: rejected: GTIN 09506000134352 from AI (01) is not in the "
            "catalog\n");
}

TEST_F(DecodeCli, RejectionsExit2WithTheExactReason) {
  struct Case {
    std::string data, message;
  } cases[] = {
      {"(17)261331", "AI (17): \"261331\" is not a valid date: month 13"},
      {"]C10104006381333932",
       "AI (01): \"04006381333932\" fails the GTIN check digit (expected 1)"},
      {"(10)ABCDEFGHIJKLMNOPQRSTUVWXYZ", "AI (10): lot longer than 20 characters"},
      {"(89)X", "unknown application identifier (89)"},
      {"]C1<GS><GS>",
       "unexpected GS separator at position 5: an application identifier must "
       "follow each GS"},
      {"4006381333932", "barcode \"4006381333932\" fails the GTIN-13 check digit (expected 1)"},
      {"DA:QTY:0",
       "control code \"DA:QTY:0\": quantity must be 1-9999, written without sign or "
       "leading zeros"},
  };
  for (const auto& c : cases) {
    auto r = agent({"decode", c.data});
    EXPECT_EQ(r.code, 2) << c.data;
    EXPECT_EQ(r.out, "") << c.data;
    EXPECT_EQ(r.err, "depot-agent decode: rejected: " + c.message + "\n");
  }
}

TEST_F(DecodeCli, ControlCodes) {
  auto r = agent({"decode", "DA:MODE:RECEIVE"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "control    DA:MODE:RECEIVE  (RECEIVE)\n");
  r = agent({"decode", "--json", "]C0da:qty:12"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            (nlohmann::json{{"kind", "control"}, {"control", "DA:QTY:12"}, {"label", "QTY 12"}}));
}

TEST_F(DecodeCli, TakesExactlyOneDataArgument) {
  auto r = agent({"decode"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("depot-agent decode: give the scanned data as one argument"));
  r = agent({"decode", "4006381333931", "96385074"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "depot-agent decode: unexpected argument \"96385074\"\n");
  r = agent({"decode", "--", "-ABC"});  // data that starts with '-'
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("code       -ABC\n"));
  // The other commands still take no positional argument.
  r = agent({"stock", "-c", cfg_, "extra"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "depot-agent stock: unexpected argument \"extra\"\n");
}

TEST_F(DecodeCli, ScanRecordsLotAndExpiryFromAGs1Label) {
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--json", "--code",
                  "]C1"
                  "0214006381333938"
                  "17261200"
                  "3710<GS>10L7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["qty"], 120);  // 10 cases of 12
  r = agent({"movements", "-c", cfg_, "--json"});
  auto ms = nlohmann::json::parse(r.out);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0]["sku"], "TINT");
  EXPECT_EQ(ms[0]["lot"], "L7");
  EXPECT_EQ(ms[0]["expiry"], "2026-12-31");
  // A bad label changes nothing.
  r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "(01)14006381333938(17)261331"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("rejected, stock unchanged: AI (17): \"261331\" is not a valid "
                               "date: month 13"));
  EXPECT_EQ(nlohmann::json::parse(agent({"movements", "-c", cfg_, "--json"}).out).size(), 1u);
}

TEST_F(DecodeCli, ControlSheetIsWritten) {
  const auto path = dir_.file("sheet.svg");
  auto r = agent({"control-sheet", "--out", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote 20 control codes to " + path + " (print at 100% scale)\n");
  std::ifstream f(path);
  std::stringstream svg;
  svg << f.rdbuf();
  EXPECT_THAT(svg.str(), StartsWith("<?xml"));
  EXPECT_THAT(svg.str(), HasSubstr(">DA:MODE:RECEIVE</text>"));
  EXPECT_THAT(svg.str(), HasSubstr(">DA:QTY:100</text>"));

  r = agent({"control-sheet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "depot-agent control-sheet: --out FILE.svg is required\n");
  r = agent({"control-sheet", "--out", dir_.file("missing/sheet.svg")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot write " + dir_.file("missing/sheet.svg") +
                               ": No such file or directory"));
}

TEST_F(DecodeCli, ThePrintedSheetScansBackWithARealReader) {
  const std::string rsvg = "/usr/bin/rsvg-convert", zbar = "/usr/bin/zbarimg";
  if (access(rsvg.c_str(), X_OK) != 0 || access(zbar.c_str(), X_OK) != 0)
    GTEST_SKIP() << "needs rsvg-convert (librsvg2-bin) and zbarimg (zbar-tools)";
  const auto svg = dir_.file("sheet.svg"), png = dir_.file("sheet.png");
  ASSERT_EQ(agent({"control-sheet", "--out", svg}).code, 0);
  // 300 dpi: 0.4 mm modules become ~4.7 pixels, as a laser printer would print them.
  auto conv = run(rsvg, {"-d", "300", "-p", "300", "-b", "white", "-o", png, svg});
  ASSERT_EQ(conv.code, 0) << conv.err;
  auto read = run(zbar, {"--raw", "-q", "-Sdisable", "-Scode128.enable", png});
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<std::string> got;
  std::istringstream lines(read.out);
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {
      "DA:CLEAR",  "DA:MODE:COUNT", "DA:MODE:PICK", "DA:MODE:RECEIVE", "DA:MODE:RETURN",
      "DA:QTY:1",  "DA:QTY:10",     "DA:QTY:100",   "DA:QTY:12",       "DA:QTY:2",
      "DA:QTY:24", "DA:QTY:3",      "DA:QTY:4",     "DA:QTY:5",        "DA:QTY:50",
      "DA:QTY:6",  "DA:QTY:7",      "DA:QTY:8",     "DA:QTY:9",        "DA:UNDO"};
  EXPECT_EQ(got, want);
  // And each code read back is what decode calls a control code.
  for (const auto& code : got) EXPECT_EQ(agent({"decode", code}).code, 0) << code;
}

}  // namespace
}  // namespace depot
