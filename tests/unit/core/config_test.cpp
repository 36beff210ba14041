#include "core/config.hpp"

#include "core/json_parse.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace depot {
namespace {
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::string> problems(const std::string& json) { return parse_config(json).problems; }

const char* kMinimal = R"({"site":"s1","gateway":"g1","database":"x.db"})";

TEST(Config, MinimalConfigGetsDocumentedDefaults) {
  auto r = parse_config(kMinimal);
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(r.config->site, "s1");
  EXPECT_EQ(r.config->durability.synchronous, Synchronous::kFull);
  EXPECT_EQ(r.config->durability.batch_max_movements, 1024);
  EXPECT_EQ(r.config->durability.batch_max_ms, 5);
  EXPECT_EQ(r.config->durability.busy_timeout_ms, 5000);
  EXPECT_EQ(r.config->durability.readings_commit_s, 10);
  EXPECT_EQ(r.config->log_level, "info");
  EXPECT_TRUE(r.config->catalog.empty());
}

// Issue 16 items 1 and 6: the console is off unless `console.listen` is set; every setting
// is checked with a message naming the field, the value and the rule; mqtt.status_s too.
TEST(Config, ConsoleIsOffByDefaultAndItsSettingsAreValidated) {
  auto plain = parse_config(kMinimal);
  ASSERT_TRUE(plain.config);
  EXPECT_FALSE(plain.config->console);
  auto with = [](const std::string& console) {
    return std::string(R"({"site":"s1","gateway":"g1","database":"x.db","console":)") + console +
           "}";
  };
  auto ok = parse_config(with(R"({"listen":"127.0.0.1:9480"})"));
  ASSERT_TRUE(ok.config) << ok.problems[0];
  EXPECT_EQ(ok.config->console->address, "127.0.0.1");
  EXPECT_EQ(ok.config->console->port, 9480);
  EXPECT_EQ(ok.config->console->max_connections, 16);
  EXPECT_EQ(ok.config->console->request_timeout_s, 10);
  auto v6 = parse_config(with(R"({"listen":"[::1]:80","tls_cert":"c.pem","tls_key":"k.pem"})"));
  ASSERT_TRUE(v6.config) << v6.problems[0];
  EXPECT_EQ(v6.config->console->address, "::1");
  EXPECT_EQ(v6.config->console->tls_key, "k.pem");

  EXPECT_THAT(problems(with("{}")), ElementsAre(HasSubstr("console.listen")));
  EXPECT_THAT(problems(with(R"({"listen":"9480"})")),
              ElementsAre(AllOf(HasSubstr("console.listen"), HasSubstr("\"9480\""),
                                HasSubstr("address:port"))));
  EXPECT_THAT(problems(with(R"({"listen":"gateway.local:9480"})")),
              ElementsAre(AllOf(HasSubstr("console.listen"), HasSubstr("host names"))));
  EXPECT_THAT(problems(with(R"({"listen":"127.0.0.1:70000"})")),
              ElementsAre(AllOf(HasSubstr("console.listen"), HasSubstr("1 to 65535"))));
  EXPECT_THAT(problems(with(R"({"listen":"127.0.0.1:1","tls_cert":"c.pem"})")),
              ElementsAre(AllOf(HasSubstr("console.tls_key"), HasSubstr("tls_cert"))));
  EXPECT_THAT(problems(with(R"({"listen":"127.0.0.1:1","max_connections":0})")),
              ElementsAre(HasSubstr("console.max_connections")));
  EXPECT_THAT(problems(with(R"({"listen":"127.0.0.1:1","lisen":"x"})")),
              ElementsAre(HasSubstr("console.lisen")));

  auto mqtt = [](const std::string& status_s) {
    return std::string(R"({"site":"s1","gateway":"g1","database":"x.db","mqtt":{"host":"h")") +
           status_s + "}}";
  };
  auto m = parse_config(mqtt(""));
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->mqtt->status_s, 60);
  EXPECT_THAT(problems(mqtt(R"(,"status_s":0)")), ElementsAre(HasSubstr("mqtt.status_s")));
}

// Issue 13 item 6: check accepted two scanners on one port (0.0.0.0 and 127.0.0.1) and one
// pipe spelled twice (x.pipe and ./x.pipe).
TEST(Config, TwoScannersOnOnePortOrOnePipeAreRefused) {
  auto with = [](const std::string& scanners) {
    return problems(R"({"site":"s1","gateway":"g1","database":"x.db","scanners":[)" + scanners +
                    "]}");
  };
  auto any = with(R"({"id":"a","role":"pick","driver":"tcp","listen":"0.0.0.0","port":9100},
                     {"id":"b","role":"pick","driver":"tcp","listen":"127.0.0.1","port":9100})");
  ASSERT_EQ(any.size(), 1u);
  EXPECT_THAT(any[0], HasSubstr("port 9100 on \"127.0.0.1\" is already taken by scanners[0]"));
  EXPECT_EQ(with(R"({"id":"a","role":"pick","driver":"tcp","port":9100},
                    {"id":"b","role":"pick","driver":"tcp","port":9100})")
                .size(),
            1u);
  EXPECT_TRUE(with(R"({"id":"a","role":"pick","driver":"tcp","listen":"127.0.0.1","port":9100},
                      {"id":"b","role":"pick","driver":"tcp","listen":"10.0.0.5","port":9100})")
                  .empty());
  // An address, never a name; a scoped IPv6 link-local address is one.
  EXPECT_TRUE(with(R"({"id":"a","role":"pick","driver":"tcp","listen":"fe80::1%eth0","port":9100})")
                  .empty());
  EXPECT_THAT(with(R"({"id":"a","role":"pick","driver":"tcp","listen":"gw.local","port":9100})"),
              ElementsAre(HasSubstr("scanners[0].listen: \"gw.local\" is not an IPv4 or IPv6 address")));
  auto pipe = with(R"({"id":"a","role":"pick","driver":"stdin","path":"x.pipe"},
                      {"id":"b","role":"pick","driver":"stdin","path":"./x.pipe"})");
  ASSERT_EQ(pipe.size(), 1u);
  EXPECT_THAT(pipe[0], HasSubstr("two scanners read the same device"));
  EXPECT_EQ(with(R"({"id":"a","role":"pick","driver":"serial","path":"/dev//ttyUSB0"},
                    {"id":"b","role":"pick","driver":"serial","path":"/dev/ttyUSB0/"})")
                .size(),
            1u);
}

// Issue 13 item 14: the per-scan maximum has a sane default and is configurable per scanner
// and per SKU.
TEST(Config, MaximumQuantityPerScan) {
  auto r = parse_config(R"({"site":"s1","gateway":"g1","database":"x.db",
    "catalog":[{"sku":"A","max_qty_per_scan":500}],
    "scanners":[{"id":"a","role":"pick","driver":"stdin"},
                {"id":"b","role":"pick","driver":"tcp","port":9100,"max_qty_per_scan":50,
                 "station_per_client":false,"line_timeout_s":5,"max_rejects_per_s":3}]})");
  ASSERT_TRUE(r.config) << r.problems[0];
  EXPECT_EQ(r.config->catalog[0].max_qty_per_scan, 500);
  EXPECT_EQ(r.config->scanners[0].max_qty_per_scan, 10000);
  EXPECT_EQ(r.config->scanners[1].max_qty_per_scan, 50);
  EXPECT_EQ(r.config->scanners[1].max_rejects_per_s, 3);
  EXPECT_FALSE(std::get<TcpSettings>(r.config->scanners[1].driver).station_per_client);
  EXPECT_EQ(std::get<TcpSettings>(r.config->scanners[1].driver).line_timeout_s, 5);
  EXPECT_FALSE(problems(R"({"site":"s1","gateway":"g1","database":"x.db",
    "scanners":[{"id":"a","role":"pick","driver":"stdin","max_qty_per_scan":0}]})")
                   .empty());
}

TEST(Config, RequiredKeysAreNamed) {
  EXPECT_THAT(problems("{}"), ElementsAre("site: is required", "gateway: is required",
                                          "database: is required"));
}

TEST(Config, SyntaxErrorSaysWhere) {
  auto p = problems(R"({"site": "s1",})");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("not valid JSON"));
  EXPECT_THAT(p[0], HasSubstr("line 1"));
}

// From the trials: `1e400` threw std::out_of_range out of every command and out of a running
// daemon's SIGHUP; duplicate keys were last-one-wins; bytes after the document were ignored.
TEST(Config, OverflowingNumbersDuplicateKeysAndTrailingBytesAreProblems) {
  EXPECT_THAT(problems(R"({"site":"s1","gateway":"g1","database":"x.db",
                          "durability":{"batch_max_ms":1e400}})"),
              ElementsAre(HasSubstr("out of range")));
  EXPECT_THAT(problems(R"({"site":"s1","gateway":"g1","database":"x.db","site":"s2"})"),
              ElementsAre("(top level): duplicate key \"site\""));
  EXPECT_THAT(problems(std::string(kMinimal) + " {}"), ElementsAre(HasSubstr("not valid JSON")));
  EXPECT_THAT(problems(std::string(kMinimal) + std::string(1, '\0')),
              ElementsAre(HasSubstr("NUL byte")));
  std::string deep = R"({"site":"s1","gateway":"g1","database":"x.db","mqtt":)";
  deep += std::string(100000, '[');
  EXPECT_THAT(problems(deep), ElementsAre(HasSubstr("nested deeper than 32 levels")));
}

// Found by fuzz.config: a long string in a message was cut inside a UTF-8 sequence.
TEST(Config, LongValuesInMessagesAreCutOnACharacterBoundary) {
  std::string name;
  for (int i = 0; i < 30; ++i) name += "\xe5\x86\xb7";  // 冷
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","log_level":")" + name +
                    "\"}");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(valid_utf8(p[0])) << p[0];
}

TEST(Config, UnknownKeysAreErrorsWithASuggestion) {
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","durabilty":{},
    "catalog":[{"sku":"A","nmae":"x"}]})");
  EXPECT_THAT(p, UnorderedElementsAre("durabilty: unknown key (did you mean \"durability\"?)",
                             "catalog[0].nmae: unknown key (did you mean \"name\"?)"));
}

TEST(Config, TypeAndRangeRulesNameThePathAndValue) {
  auto p = problems(R"({"site":"s 1","gateway":7,"database":"x.db",
    "durability":{"synchronous":"fast","batch_max_movements":0,"batch_max_ms":5000,
                  "readings_commit_s":0},
    "log_level":"loud"})");
  EXPECT_THAT(p, ElementsAre(
      "site: \"s 1\" must be 1-64 characters of letters, digits, '_', '-' or '.'",
      "gateway: 7 must be a string, not an integer",
      "durability.synchronous: \"fast\" must be one of: normal, full, extra",
      "durability.batch_max_movements: 0 must be between 1 and 10000",
      "durability.batch_max_ms: 5000 must be between 0 and 1000",
      "durability.readings_commit_s: 0 must be between 1 and 60",
      "log_level: \"loud\" must be one of: debug, info, warning, error"));
}

TEST(Config, CatalogRules) {
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","catalog":[
    {"sku":"A","barcodes":["4006381333932", 4006381333931, "has space"]},
    {"sku":"B","barcodes":["4006381333931"],"cases":[{"barcode":"14006381333938","qty":0}]},
    {"sku":"C","barcodes":["04006381333931"],"daily_demand":-1,"daily_demand_sd":1e308},
    {"sku":"B"},
    {"name":"no sku"}
  ]})");
  EXPECT_THAT(p, ElementsAre(
      "catalog[0].barcodes[0]: \"4006381333932\" fails the GTIN-13 check digit (expected 1)",
      "catalog[0].barcodes[1]: 4006381333931 must be a string (quote it: leading zeros matter)",
      "catalog[0].barcodes[2]: \"has space\" must be printable ASCII without spaces",
      "catalog[1].cases[0].qty: 0 must be between 1 and 1000000",
      "catalog[2].daily_demand: -1.0 must be from 0 to 1000000000 (units a day)",
      "catalog[2].daily_demand_sd: 1e+308 must be from 0 to 1000000000 (units a day)",
      "catalog[2].barcodes[0]: \"04006381333931\" is already used by catalog[1].barcodes[0]",
      "catalog[3].sku: \"B\" is already used by catalog[1]",
      "catalog[4].sku: is required"));
}

// A name, unit and zone are shown on terminals, pages and reports: UTF-8 text without control
// characters, bounded (an escape sequence in a name redrew the operator's terminal in
// `depot-agent stock`; a 100 KB name made one row 100 KB wide). Other scripts are fine.
TEST(Config, CatalogTextIsTextWithoutControlCharactersAndBounded) {
  auto r = parse_config(R"({"site":"s1","gateway":"g1","database":"x.db","catalog":[
    {"sku":"OK","name":"Crème brûlée 抹茶 500 ml","unit":"tub","zone":"freezer-1"}]})");
  ASSERT_TRUE(r.config) << r.problems[0];
  EXPECT_EQ(r.config->catalog[0].name, "Crème brûlée 抹茶 500 ml");
  const std::string long_name(1025, 'n');
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","catalog":[
    {"sku":"A","name":"\u001b[2JFAKE"},
    {"sku":"B","unit":"ea\r\nLIPTINT-07  99999"},
    {"sku":"C","zone":"cold\u0007"},
    {"sku":"D","name":")" + long_name + R"("},
    {"sku":"E","unit":"a very long unit name over 32 bytes"},
    {"sku":"F","name":"x\u009b2Jy"}
  ]})");
  EXPECT_THAT(p, ElementsAre(
      "catalog[0].name: \"\\x1b[2JFAKE\" contains a control character",
      "catalog[1].unit: \"ea\\x0d\\x0aLIPTINT-07  99999\" contains a control character",
      "catalog[2].zone: \"cold\\x07\" contains a control character",
      "catalog[3].name: 1025 bytes; at most 1024 are accepted",
      "catalog[4].unit: 35 bytes; at most 32 are accepted",
      // U+009B, the 8-bit CSI a terminal acts on like ESC [
      "catalog[5].name: \"x\\xc2\\x9b2Jy\" contains a control character"));
}

TEST(Config, CatalogCodesMustBeReachableByAScan) {
  // A scan starting with "]" carries a symbology identifier, "(" is GS1 human-readable data
  // and "DA:" an operator control code: an internal code like that could never be matched.
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","catalog":[
    {"sku":"A","barcodes":["DA:QTY:5", "da:x", "]C0ABC", "(01)X", "D-A:1"]}]})");
  EXPECT_THAT(p, ElementsAre(
      "catalog[0].barcodes[0]: \"DA:QTY:5\" must not start with \"DA:\", which marks operator "
      "control codes",
      "catalog[0].barcodes[1]: \"da:x\" must not start with \"DA:\", which marks operator "
      "control codes",
      "catalog[0].barcodes[2]: \"]C0ABC\" must not start with \"]\": a scan starting with it "
      "carries a symbology identifier",
      "catalog[0].barcodes[3]: \"(01)X\" must not start with \"(\": a scan starting with it is "
      "GS1 human-readable data"));
}

TEST(Config, SameGtinInTwoFormsIsADuplicate) {
  auto p = problems(R"({"site":"s1","gateway":"g1","database":"x.db","catalog":[
    {"sku":"A","barcodes":["4006381333931"]},
    {"sku":"B","barcodes":["04006381333931"]}]})");
  EXPECT_THAT(p, ElementsAre(
      "catalog[1].barcodes[0]: \"04006381333931\" is already used by catalog[0].barcodes[0]"));
}

TEST(Config, ReportsEveryProblemNotJustTheFirst) {
  auto p = problems(R"({"site":"","gateway":"","database":"","extra":1,"catalog":{}})");
  EXPECT_EQ(p.size(), 5u);
}

TEST(Config, ExampleFilesAreValid) {
  for (const char* name : {"demo.json", "agent.json"}) {
    std::ifstream in(std::string(DEPOT_SOURCE_DIR) + "/config/" + name);
    std::stringstream text;
    text << in.rdbuf();
    auto r = parse_config(text.str());
    EXPECT_TRUE(r.config) << name << ": " << (r.problems.empty() ? "" : r.problems[0]);
  }
}

}  // namespace
}  // namespace depot
