// Command parsing (pure) and the command desk against a real SQLite file.
#include "sync/commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <tuple>

#include "store/outbox.hpp"
#include "sync/envelope.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

namespace depot::sync {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

TEST(ParseCommand, ValidCommandsBecomeActions) {
  auto c = parse_command("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})", "");
  ASSERT_TRUE(c.command) << c.error;
  EXPECT_EQ(c.id, "c1");
  auto* a = std::get_if<StockCount>(&c.command->action);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->sku, "A");
  EXPECT_EQ(a->counted, 7);
  EXPECT_TRUE(parse_command("snapshot.request", R"({"id":"c2"})", "").command);
  EXPECT_TRUE(parse_command("config.get", R"({"id":"c3","args":{}})", "").command);
  auto up =
      parse_command("catalog.upsert",
                    R"({"id":"c4","args":{"sku":"N","name":"New","barcodes":["96385074"]}})", "");
  ASSERT_TRUE(up.command) << up.error;
  EXPECT_EQ(std::get<CatalogUpsert>(up.command->action).item.barcodes[0], "96385074");
}

TEST(ParseCommand, InvalidCommandsAreNamedAndKeepTheirId) {
  struct Case {
    std::string name, payload, error;
  } cases[] = {
      {"stock.count", "not json", "not a JSON object"},
      {"stock.count", R"({"args":{}})", "id: is required"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A","counted":-1}})",
       "args.counted: -1 must be between 0 and"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A"}})", "args.counted: is required"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A","counted":1,"colour":2}})",
       "args.colour: unknown key"},
      {"catalog.upsert", R"({"id":"c1","args":{"sku":"N","barcodes":["4006381333932"]}})",
       "fails the GTIN-13 check digit"},
      {"catalog.upsert", R"({"id":"c1","args":{"sku":"N","max_qty_per_scan":5}})",
       "args.max_qty_per_scan: is read from the config file only"},
      {"catalog.upsert", R"({"id":"c1","args":{"sku":"N","pin_demand":true}})",
       "args.pin_demand: true needs daily_demand"},
      {"catalog.upsert", R"({"id":"c1","args":{"sku":"N","name":"\u001b]0;owned\u0007x"}})",
       "args.name: \"\\x1b]0;owned\\x07x\" contains a control character"},
      {"stock.count", R"({"id":"c1","args":[1]})", "args: [1] must be an object"},
      {"self.destruct", R"({"id":"c1"})", "unknown command \"self.destruct\""},
      {"campaign.start", R"({"id":"c1"})", "unknown command \"campaign.start\" (known: stock.count,"},
      {"alarm.ack", R"({"id":"c1","args":{"zone":"cold-1","who":"Ana"}})",
       "args.comment: is required"},
      {"hold.release", R"({"id":"c1","args":{"hold":0,"who":"Ana","why":"ok"}})",
       "args.hold: 0 must be at least 1"},
      {"hold.place", R"({"id":"c1"})", "unknown command \"hold.place\""},
      // A name that is no command name at all (over 64 characters): the reply keeps the id.
      {std::string(65, 'x'), R"({"id":"c1"})", "(not a command name)"},
  };
  for (const auto& c : cases) {
    auto p = parse_command(c.name, c.payload, "");
    EXPECT_FALSE(p.command) << c.payload;
    EXPECT_THAT(p.error, HasSubstr(c.error)) << c.payload;
    if (c.payload.find("\"c1\"") != std::string::npos) {
      EXPECT_EQ(p.id, "c1");
    }
  }
}

// The signed form as scripts/sign-command writes it, at 2026-11-23T10:00:00Z.
std::string sign(std::string_view secret, std::string_view name, std::string_view id,
                 std::string_view inner, std::string_view site = "s1",
                 std::string_view gateway = "gw-1",
                 std::string_view issued = "2026-11-23T10:00:00.000Z",
                 std::string_view expires = "2026-11-23T10:05:00.000Z") {
  return json{{"signed", inner},
              {"hmac", hmac_sha256_hex(
                           secret, signing_text(site, gateway, name, id, issued, expires, inner))}}
      .dump();
}
std::string inner_text(std::string_view id, std::string_view args,
                       std::string_view issued = "2026-11-23T10:00:00.000Z",
                       std::string_view expires = "2026-11-23T10:05:00.000Z") {
  return R"({"id":")" + std::string(id) + R"(","args":)" + std::string(args) + R"(,"issued_at":")" +
         std::string(issued) + R"(","expires_at":")" + std::string(expires) + R"("})";
}
constexpr std::int64_t kNow = 1795428000000;  // 2026-11-23T10:00:00Z

CommandCheck checked(std::string_view secret, std::int64_t now = kNow) {
  CommandCheck c;
  c.secret = secret;
  c.site = "s1";
  c.gateway = "gw-1";
  c.now_ms = now;
  return c;
}

// One problem per bad line made a refusal of a large command bigger than the broker takes: it
// was never sent, and the cloud resent the command forever. The first 20, then a count; and
// any error is cut at kMaxErrorBytes on a character's boundary.
TEST(ParseCommand, ARefusalListsTwentyProblemsAndFitsAMessage) {
  json lines = json::array();
  for (int i = 0; i < 1000; ++i)
    lines.push_back({{"sku", "bad sku " + std::string(60, 'x')}, {"qty", 1}});
  const auto payload = json{{"id", "s1"}, {"args", {{"source", "central"}, {"stock", lines}}}}.dump();
  auto c = parse_command("source.stock", payload, "");
  ASSERT_FALSE(c.command);
  EXPECT_THAT(c.error, HasSubstr("; and 980 more problem(s)"));
  EXPECT_LT(c.error.size(), 4000u);
  const std::string long_error = std::string(kMaxErrorBytes - 1, 'e') + "\u00e9" + "tail";
  auto r = make_reply("s1", false, long_error);
  const auto text = r["error"].get<std::string>();
  EXPECT_EQ(text, std::string(kMaxErrorBytes - 1, 'e') + "... (" +
                      std::to_string(long_error.size()) + " bytes in all)");
  EXPECT_NO_THROW(r.dump());
}

TEST(ParseCommand, SignedCommandsAreCheckedWithHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const auto inner = inner_text("c9", R"({"sku":"A","counted":3})");
  auto ok =
      parse_command("stock.count", sign("s3cret", "stock.count", "c9", inner), checked("s3cret"));
  ASSERT_TRUE(ok.command) << ok.error;
  EXPECT_EQ(ok.id, "c9");

  auto bad =
      parse_command("stock.count", sign("guess", "stock.count", "c9", inner), checked("s3cret"));
  EXPECT_FALSE(bad.command);
  EXPECT_EQ(bad.id, "c9");
  EXPECT_THAT(bad.error, HasSubstr("HMAC does not match"));

  auto unsigned_ = parse_command("stock.count", inner, checked("s3cret"));
  EXPECT_FALSE(unsigned_.command);
  EXPECT_THAT(unsigned_.error, HasSubstr("must be signed"));
}

// docs/protocol.md's worked example, byte for byte (scripts/sign-command gives the same).
TEST(ParseCommand, TheDocumentedSigningExampleHolds) {
  const std::string inner =
      R"({"id":"c1","args":{"sku":"A","counted":7},"issued_at":"2026-11-23T10:00:00.000Z","expires_at":"2026-11-23T10:05:00.000Z"})";
  const auto text = signing_text("s1", "gw-1", "stock.count", "c1", "2026-11-23T10:00:00.000Z",
                                 "2026-11-23T10:05:00.000Z", inner);
  EXPECT_EQ(text,
            "depot-command-v1\ns1\ngw-1\nstock.count\nc1\n2026-11-23T10:00:00.000Z\n"
            "2026-11-23T10:05:00.000Z\n" +
                inner);
  EXPECT_EQ(hmac_sha256_hex("s3cret", text),
            "b5ab038773341468058b92b3a69af771210fed50edf80d2cc1867135d144a199");
  auto ok = parse_command(
      "stock.count",
      json{{"signed", inner},
           {"hmac", "b5ab038773341468058b92b3a69af771210fed50edf80d2cc1867135d144a199"}}
          .dump(),
      checked("s3cret"));
  EXPECT_TRUE(ok.command) << ok.error;
}

// A signed hold.release published on cmd/hold.writeoff was applied as a write-off; the
// signature now binds the name, the site, the gateway, the id and the times.
TEST(ParseCommand, TheSignatureBindsNameSiteGatewayAndTimes) {
  const auto inner = inner_text("h1", R"({"hold":1,"who":"Ana","why":"ok"})");
  const auto wrapped = sign("k", "hold.release", "h1", inner);
  EXPECT_TRUE(parse_command("hold.release", wrapped, checked("k")).command);
  auto moved = parse_command("hold.writeoff", wrapped, checked("k"));
  EXPECT_FALSE(moved.command);
  EXPECT_THAT(moved.error, HasSubstr("HMAC does not match"));
  auto other_gw = checked("k");
  other_gw.gateway = "gw-2";
  EXPECT_FALSE(parse_command("hold.release", wrapped, other_gw).command);
  auto other_site = checked("k");
  other_site.site = "s2";
  EXPECT_FALSE(parse_command("hold.release", wrapped, other_site).command);

  // Expired, and issued in the future beyond the skew; inside the skew is fine.
  auto late = parse_command("hold.release", wrapped, checked("k", kNow + 301'000));
  EXPECT_FALSE(late.command);
  EXPECT_THAT(late.error, HasSubstr("expires_at: the command expired at 2026-11-23T10:05:00.000Z"));
  auto early = parse_command("hold.release", wrapped, checked("k", kNow - 61'000));
  EXPECT_FALSE(early.command);
  EXPECT_THAT(early.error, HasSubstr("issued_at: \"2026-11-23T10:00:00.000Z\" is in the future"));
  EXPECT_TRUE(parse_command("hold.release", wrapped, checked("k", kNow - 59'000)).command);
  // A lifetime of at most 24 hours (0000-01-01 to 9999-12-31 was applied).
  for (auto [issued, expires, ok] :
       {std::tuple{"2026-11-23T10:00:00.000Z", "2026-11-24T10:00:00.000Z", true},
        std::tuple{"2026-11-23T10:00:00.000Z", "2026-11-24T10:00:00.001Z", false},
        std::tuple{"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", false}}) {
    auto r = parse_command(
        "hold.release",
        sign("k", "hold.release", "h9", inner_text("h9", R"({"hold":1,"who":"A","why":"b"})", issued, expires),
             "s1", "gw-1", issued, expires),
        checked("k"));
    EXPECT_EQ(static_cast<bool>(r.command), ok) << issued << " " << expires << ": " << r.error;
    if (!ok) {
      EXPECT_THAT(r.error, HasSubstr("is more than 24 hours after issued_at")) << r.error;
    }
  }
  // Times are required when signed, and must be RFC 3339 times.
  const std::string no_times = R"({"id":"h2","args":{"hold":1,"who":"A","why":"b"}})";
  auto missing =
      parse_command("hold.release", sign("k", "hold.release", "h2", no_times), checked("k"));
  EXPECT_THAT(missing.error, HasSubstr("issued_at: is required"));
  EXPECT_THAT(missing.error, HasSubstr("expires_at: is required"));
  // The wrapper takes signed and hmac only.
  auto extra = json::parse(wrapped);
  extra["note"] = "x";
  auto e = parse_command("hold.release", extra.dump(), checked("k"));
  EXPECT_FALSE(e.command);
  EXPECT_THAT(e.error, HasSubstr("note: unknown key"));
}

// Item 8: a 60,000-deep command killed the agent (also when correctly signed); item 9:
// duplicate keys and trailing bytes are refused.
TEST(ParseCommand, DeepDuplicateAndTrailingTextIsRefusedWithAReason) {
  const std::string deep = std::string(60000, '[') + std::string(60000, ']');
  const auto plain = R"({"id":"d1","args":{"sku":)" + deep + "}}";
  auto p = parse_command("stock.count", plain, checked(""));
  EXPECT_FALSE(p.command);
  EXPECT_THAT(p.error, HasSubstr("nested deeper than 16 levels"));
  const auto inner = inner_text("d2", R"({"sku":)" + deep + "}");
  auto s = parse_command("stock.count", sign("k", "stock.count", "d2", inner), checked("k"));
  EXPECT_FALSE(s.command);
  EXPECT_THAT(s.error, HasSubstr("nested deeper than 16 levels"));
  auto big = parse_command("stock.count", std::string(kMaxCommandBytes + 1, ' '), checked(""));
  EXPECT_FALSE(big.command);

  auto dup = parse_command(
      "stock.count", R"({"id":"d3","args":{"sku":"A","counted":1,"counted":900}})", checked(""));
  EXPECT_FALSE(dup.command);
  EXPECT_THAT(dup.error, HasSubstr("duplicate key \"counted\""));
  EXPECT_EQ(dup.id, "d3");  // the reply still names the command it refuses (it was null)
  // ...also when the duplicate is deep in the text: the second pass is bounded the same way.
  auto deep_dup = parse_command(
      "stock.count", R"({"id":"d5","args":{"a":1,"a":)" + deep + "}}", checked(""));
  EXPECT_THAT(deep_dup.error, HasSubstr("duplicate key \"a\""));
  EXPECT_EQ(deep_dup.id, "");  // too deep to read at all: no id rather than a crash
  auto dup_id = parse_command("stock.count", R"({"id":"d6","id":"d7","args":{}})", checked(""));
  EXPECT_EQ(dup_id.id, "d6");
  auto trailing =
      parse_command("stock.count", std::string(R"({"id":"d4"})") + '\0' + "x", checked(""));
  EXPECT_FALSE(trailing.command);
  EXPECT_THAT(trailing.error, HasSubstr("not a JSON object"));
}

// Item 2: text from a command is valid UTF-8 without controls, or refused naming the field;
// an invalid id is echoed printable (and said invalid), never as null.
TEST(ParseCommand, TextsAreCheckedAndInvalidIdsEchoedPrintably) {
  auto bad_utf8 = parse_command(
      "alarm.ack", "{\"id\":\"a1\",\"args\":{\"zone\":\"z\",\"who\":\"qa\xff\",\"comment\":\"c\"}}",
      checked(""));
  EXPECT_FALSE(bad_utf8.command);
  EXPECT_THAT(bad_utf8.error, HasSubstr("UTF-8"));
  auto control = parse_command("alarm.ack",
                               R"({"id":"a1","args":{"zone":"z","who":"qa\u0007","comment":"c"}})",
                               checked(""));
  EXPECT_FALSE(control.command);
  EXPECT_THAT(control.error, HasSubstr("args.who: \"qa\\x07\" contains a control character"));
  auto long_lot = parse_command(
      "stock.count",
      R"({"id":"a2","args":{"sku":"A","counted":1,"lot":")" + std::string(21, 'L') + R"("}})",
      checked(""));
  EXPECT_THAT(long_lot.error, HasSubstr("args.lot: 21 bytes; at most 20"));

  auto spaced = parse_command("config.get", R"({"id":"has space\u0001"})", checked(""));
  EXPECT_FALSE(spaced.command);
  EXPECT_EQ(spaced.id, "has space\\x01");
  EXPECT_THAT(spaced.error, HasSubstr("is not a valid id"));
  EXPECT_EQ(make_reply(spaced.id, false, spaced.error)["id"], "has space\\x01");
  auto number = parse_command("config.get", R"({"id":42})", checked(""));
  EXPECT_EQ(number.id, "42");
  auto name = parse_command("bad/name+", R"({"id":"x"})", checked(""));
  EXPECT_THAT(name.error, HasSubstr("unknown command \"bad/name+\""));
}

// RabbitMQ's MQTT plugin turns "." into "/": cmd/config/get is config.get.
TEST(CommandTopics, BothSpellingsNameTheCommandAndRepliesAreNotCommands) {
  Topics t("s1", "gw-1");
  EXPECT_EQ(t.commands(), "depot/v1/s1/gw-1/cmd/#");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/config.get"), "config.get");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/config/get"), "config.get");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/hold/release"), "hold.release");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/config.get/reply"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/config/get/reply"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/config//get"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-1/cmd/"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/gw-2/cmd/config.get"), "");
}

TEST(ResponseTopic, WildcardsAndTheGatewaysOwnTopicsAreRefused) {
  const std::string prefix = "depot/v1/s1/gw-1/";
  EXPECT_EQ(response_topic_problem(prefix, "cloud/replies/gw-1"), "");
  EXPECT_EQ(response_topic_problem(prefix, prefix + "cmd/stock.count/reply"), "");
  EXPECT_THAT(response_topic_problem(prefix, "cloud/+/bad"), HasSubstr("wildcard"));
  EXPECT_THAT(response_topic_problem(prefix, "cloud/#"), HasSubstr("wildcard"));
  EXPECT_THAT(response_topic_problem(prefix, prefix + "status"), HasSubstr("own topics"));
  EXPECT_THAT(response_topic_problem(prefix, prefix + "movements"), HasSubstr("own topics"));
  EXPECT_THAT(response_topic_problem(prefix, prefix + "cmd/stock.count"), HasSubstr("own topics"));
  EXPECT_THAT(response_topic_problem(prefix, "a\xff"), HasSubstr("UTF-8"));
  // Another gateway's topics and the broker's (an attack session had a reply published on
  // gw-2's command topic, where gw-2 would take it for a command).
  EXPECT_EQ(response_topic_problem(prefix, "depot/v1/s1/gw-2/cmd/stock.count"),
            "the response topic \"depot/v1/s1/gw-2/cmd/stock.count\" is under depot/v1/ but not "
            "this gateway's depot/v1/s1/gw-1/: another gateway's topic");
  EXPECT_THAT(response_topic_problem(prefix, "depot/v1/s2/gw-1/cmd/x/reply"),
              HasSubstr("another gateway's topic"));
  EXPECT_THAT(response_topic_problem(prefix, "$SYS/x"), HasSubstr("the broker's"));
  EXPECT_EQ(response_topic_problem(prefix, "depot/v2/anything"), "");
  // RabbitMQ's MQTT plugin reads '.' as '/': its dotted spellings are the same topics.
  EXPECT_THAT(response_topic_problem(prefix, "depot.v1.s2.gw-2.cmd.stock.count"),
              HasSubstr("another gateway's topic"));
  EXPECT_THAT(response_topic_problem(prefix, "depot.v1.s1.gw-1.movements"), HasSubstr("own topics"));
  EXPECT_EQ(response_topic_problem(prefix, "depot.v1.s1.gw-1.cmd.stock.count.reply"), "");
}

class Desk : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("desk.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem a{.sku = "A", .name = "Item A"};
    a.barcodes = {"4006381333931"};
    ASSERT_TRUE(store::apply_catalog(*db_, {a}, "2026-11-23T00:00:00.000Z").ok());
    ledger_ = std::make_unique<store::Ledger>(*db_);
    DeskHooks h;
    h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
    h.mono_now_ns = [] { return std::int64_t{1}; };
    h.new_id = [this] { return "id-" + std::to_string(++ids_); };
    h.catalog_changed = [this] { ++catalog_changes_; };
    h.config_summary = json{{"site", "s1"}};
    desk_ = std::make_unique<CommandDesk>(*db_, *ledger_, "", h);
  }
  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(*(*s)->step());
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Ledger> ledger_;
  std::unique_ptr<CommandDesk> desk_;
  int ids_ = 0, catalog_changes_ = 0;
};

TEST_F(Desk, StockCountPostsACountMovementOnceAndIsAudited) {
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m1", "A", MovementKind::kReceive, 10)}).ok());
  auto r = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["error"], nullptr);
  EXPECT_EQ(r["result"]["variance"], -3);
  EXPECT_EQ(r["result"]["on_hand"], 7);
  auto again = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(again["ok"], true);
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'count'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit'"), 1);
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'A'"), 7);
}

// A stock.count whose command record cannot be written (a full disk, a wrong audit key) is
// refused and leaves the stock as it was: the count committed on its own before the record,
// so an ok=false reply stood beside a count applied and sent on the movements stream.
TEST_F(Desk, AStockCountWhoseRecordFailsChangesNothing) {
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m1", "A", MovementKind::kReceive, 10)}).ok());
  ASSERT_TRUE(db_->exec("CREATE TRIGGER boom BEFORE INSERT ON commands"
                        " BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
                  .ok());
  auto r = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'count'"), 0);
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'A'"), 10);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'movements'"), 1);
  // Once the record can be written, the same command applies once.
  ASSERT_TRUE(db_->exec("DROP TRIGGER boom").ok());
  r = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["variance"], -3);
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'A'"), 7);
}

// A count that would come before scans received earlier (still waiting for a busy database)
// is refused: it was applied anyway, and the scans committed after it were subtracted again.
TEST_F(Desk, AStockCommandIsRefusedWhileEarlierScansWaitForTheDatabase) {
  DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  bool waiting = true;
  h.before_stock_change = [&]() -> Status {
    if (waiting) return Error{"2 scan(s) received before this command are still waiting"};
    return {};
  };
  CommandDesk desk(*db_, *ledger_, "", h);
  auto r = desk.handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("still waiting"));
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
  r = desk.handle("snapshot.request", R"({"id":"s1"})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  waiting = false;
  r = desk.handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
}

// The config wins a barcode the cloud gave another SKU, and says so: a changed config that
// lists the code takes it from the cloud's SKU (apply_catalog's `taken`); an unchanged one
// writes nothing and takes nothing.
TEST_F(Desk, AConfigThatListsACloudSkusBarcodeTakesItAndSaysSo) {
  auto r = desk_->handle("catalog.upsert",
                         R"({"id":"u1","args":{"sku":"COOLER","barcodes":["96385074"]}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  CatalogItem a{.sku = "A", .name = "Item A"};
  a.barcodes = {"4006381333931"};
  auto same = store::apply_catalog(*db_, {a}, "2026-11-23T11:00:00.000Z");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);
  EXPECT_TRUE(same->taken.empty());
  a.barcodes.push_back("96385074");
  auto moved = store::apply_catalog(*db_, {a}, "2026-11-23T11:00:00.000Z");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_TRUE(moved->changed);
  ASSERT_EQ(moved->taken.size(), 1u);
  EXPECT_EQ(moved->taken[0], (store::TakenBarcode{"96385074", "COOLER", "A"}));
  auto cat = store::load_catalog(*db_);
  ASSERT_TRUE(cat.ok());
  auto hit = cat->find_barcode("96385074");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->sku, "A");
}

// Issue 13 item 3: an exception thrown inside a command's transaction (here by a hook) used
// to leave the connection in BEGIN IMMEDIATE; every later write then failed.
TEST(DeskTxn, AnExceptionInsideACommandLeavesTheConnectionUsable) {
  test::TempDir dir;
  auto db = std::move(store::Database::open(dir.file("desk.db"), {}).value());
  CatalogItem a{.sku = "A", .name = "Item A"};
  ASSERT_TRUE(store::apply_catalog(*db, {a}, "2026-11-23T00:00:00.000Z").ok());
  store::Ledger ledger(*db);
  DeskHooks h;
  int calls = 0;
  h.wall_now = [&calls]() -> std::string {
    if (++calls == 2) throw std::runtime_error("clock exploded");  // inside the command's txn
    return "2026-11-23T10:00:00.000Z";
  };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.config_summary = json{{"site", "s1"}};
  CommandDesk desk(*db, ledger, "", h);
  auto r = desk.handle("config.get", R"({"id":"g1","args":{}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(r["id"], "g1") << r.dump();  // the reply still names the command it answers
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("internal error: clock exploded"));
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
  auto again = desk.handle("config.get", R"({"id":"g2","args":{}})");
  EXPECT_EQ(again["ok"], true) << again.dump();
  std::vector<MovementRequest> m{test::movement("m1", "A", MovementKind::kReceive, 1)};
  auto posted = ledger.post(m);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
}

TEST_F(Desk, AStockCountWithAnOverlongLotIsRefused) {
  auto r = desk_->handle("stock.count", R"({"id":"c9","args":{"sku":"A","counted":7,"lot":")" +
                                            std::string(10000, 'L') + R"("}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.lot: 10000 bytes; at most 20"));
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
}

// A catalog.remove reusing a stock.count's id got the count's old reply with ok:true.
TEST_F(Desk, AnIdIsOncePerNameAndReusedUnderAnotherNameIsRefused) {
  auto r = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  auto other = desk_->handle("catalog.remove", R"({"id":"c1","args":{"sku":"A"}})");
  EXPECT_EQ(other["ok"], false);
  EXPECT_FALSE(other.contains("duplicate"));
  EXPECT_THAT(other["error"].get<std::string>(),
              HasSubstr("id \"c1\" was already used by a \"stock.count\" command"));
  EXPECT_EQ(count("SELECT active FROM skus WHERE sku = 'A'"), 1);
  EXPECT_EQ(
      desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})")["duplicate"],
      true);
}

// A command's args can be 256 KB; its audit record must still fit one message a broker takes
// (or the cloud's audit chain would have a hole): large args are audited by size and hash.
TEST_F(Desk, LargeArgsAreAuditedBySizeAndHashAndKeptWholeInTheCommandsTable) {
  json args{{"sku", "N"}, {"name", "New"}, {"barcodes", json::array()}};
  for (int i = 0; i < 2000; ++i) args["barcodes"].push_back("INT-N-" + std::to_string(i));
  const auto text = args.dump();
  ASSERT_GT(text.size(), kMaxAuditedBytes);
  auto r = desk_->handle("catalog.upsert", json{{"id", "big-1"}, {"args", args}}.dump());
  ASSERT_EQ(r["ok"], true) << r.dump().substr(0, 400);
  auto q = db_->prepare("SELECT payload FROM outbox WHERE stream = 'audit'");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*(*q)->step());
  const auto payload = (*q)->text(0);
  (*q)->reset();
  EXPECT_LT(payload.size(), 4000u);
  auto rec = json::parse(payload);
  EXPECT_EQ(rec["args"]["elided"], true);
  EXPECT_EQ(rec["args"]["bytes"], text.size());
  EXPECT_EQ(rec["args"]["sha256"], to_hex(sha256(text)));
  auto whole = db_->prepare("SELECT args FROM commands WHERE id = 'big-1'");
  ASSERT_TRUE(whole.ok());
  ASSERT_TRUE(*(*whole)->step());
  EXPECT_EQ((*whole)->text(0), text);
  (*whole)->reset();
  // Small args stay as they are.
  auto small = desk_->handle("stock.count", R"({"id":"c9","args":{"sku":"N","counted":1}})");
  ASSERT_EQ(small["ok"], true) << small.dump();
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit' AND "
                  "json_extract(payload, '$.args.sku') = 'N'"),
            1);
}

TEST_F(Desk, CatalogUpsertWithAnUnknownPolicyIsRefused) {
  auto r = desk_->handle("catalog.upsert",
                         R"({"id":"p1","args":{"sku":"N","name":"New","policy":"fats"}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(),
              HasSubstr("args.policy: \"fats\" names no profile in policies (known: none)"));
  EXPECT_EQ(count("SELECT count(*) FROM skus WHERE sku = 'N'"), 0);
}

// The desk checks signed commands against its clock (wall_now) and its site and gateway.
TEST_F(Desk, SignedCommandsUseTheDesksClockSiteAndGateway) {
  DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.site = "s1";
  h.gateway = "gw-1";
  h.config_summary = json{{"catalog_skus", 0}};
  h.catalog_skus = [] { return std::size_t{12}; };
  CommandDesk signed_desk(*db_, *ledger_, "k", h);
  const auto inner = inner_text("g1", "{}");
  auto r = signed_desk.handle("config.get", sign("k", "config.get", "g1", inner));
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["catalog_skus"], 12);  // item 7: the live count, not the freed config's
  auto deep = signed_desk.handle(
      "config.get", sign("k", "config.get", "g2",
                         inner_text("g2", std::string(60000, '[') + std::string(60000, ']'))));
  EXPECT_EQ(deep["ok"], false);
  EXPECT_TRUE(deep["id"].is_null());  // the text had no readable id
  EXPECT_THAT(deep["error"].get<std::string>(), HasSubstr("nested deeper than"));
}

// A signed command refused by the gateway's state stays refused: its bytes, replayed once the
// state changed (the SKU added), were applied, though the cloud had its refusal. And a resend
// of an applied one after it expired gets its stored reply, not "expired".
TEST_F(Desk, ARefusedSignedCommandCannotBeReplayedOnceTheStateChanged) {
  std::string now = "2026-11-23T10:00:00.000Z";
  DeskHooks h;
  h.wall_now = [&] { return now; };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.site = "s1";
  h.gateway = "gw-1";
  CommandDesk signed_desk(*db_, *ledger_, "k", h);
  const auto count_c = sign("k", "stock.count", "cnt-1", inner_text("cnt-1", R"({"sku":"C","counted":500})"));
  auto r = signed_desk.handle("stock.count", count_c);
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("not an active SKU"));
  auto up = signed_desk.handle(
      "catalog.upsert",
      sign("k", "catalog.upsert", "up-1", inner_text("up-1", R"({"sku":"C","barcodes":["96385074"]})")));
  ASSERT_EQ(up["ok"], true) << up.dump();
  r = signed_desk.handle("stock.count", count_c);  // the captured bytes again
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(r["duplicate"], true) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("not an active SKU"));
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE sku = 'C'"), 0);
  // The refusal is audited as one (ok false).
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit'"
                  " AND json_extract(payload, '$.command_id') = 'cnt-1'"
                  " AND json_extract(payload, '$.ok') = 0"),
            1);
  // A new id applies it.
  r = signed_desk.handle("stock.count", sign("k", "stock.count", "cnt-2",
                                             inner_text("cnt-2", R"({"sku":"C","counted":500})")));
  EXPECT_EQ(r["ok"], true) << r.dump();
  // After it expired, a resend of the applied one gets its reply; an unknown one "expired".
  now = "2026-11-23T11:00:00.000Z";
  r = signed_desk.handle("stock.count", sign("k", "stock.count", "cnt-2",
                                             inner_text("cnt-2", R"({"sku":"C","counted":500})")));
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["duplicate"], true) << r.dump();
  r = signed_desk.handle("stock.count", sign("k", "stock.count", "cnt-3",
                                             inner_text("cnt-3", R"({"sku":"C","counted":1})")));
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("expired"));
  // A forged one naming the applied id gets no stored reply: its signature is checked first.
  r = signed_desk.handle("stock.count", sign("guess", "stock.count", "cnt-2",
                                             inner_text("cnt-2", R"({"sku":"C","counted":500})")));
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_FALSE(r.contains("duplicate")) << r.dump();
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'C'"), 500);
  // A transient refusal (scans still waiting for the database) is not kept: the same id,
  // sent again once they are committed, applies.
  now = "2026-11-23T10:00:00.000Z";
  bool waiting = true;
  h.before_stock_change = [&]() -> Status {
    return waiting ? Status{Error{"1 scan(s) ... still waiting", ErrorKind::kBusy}} : Status{};
  };
  CommandDesk busy_desk(*db_, *ledger_, "k", h);
  const auto count_4 =
      sign("k", "stock.count", "cnt-4", inner_text("cnt-4", R"({"sku":"C","counted":7})"));
  r = busy_desk.handle("stock.count", count_4);
  EXPECT_EQ(r["ok"], false) << r.dump();
  waiting = false;
  r = busy_desk.handle("stock.count", count_4);
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_FALSE(r.contains("duplicate")) << r.dump();
  // The ledger's own rule (a count under what is held) is kept too: released later, the
  // captured count is not applied.
  ASSERT_TRUE(ledger_->post(std::vector{test::movement("h1", "C", MovementKind::kHold, 5)}).ok());
  const auto count_5 =
      sign("k", "stock.count", "cnt-5", inner_text("cnt-5", R"({"sku":"C","counted":2})"));
  r = busy_desk.handle("stock.count", count_5);
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.counted: count 2 leaves 2 on hand"));
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("rel1", "C", MovementKind::kRelease, 5)}).ok());
  r = busy_desk.handle("stock.count", count_5);
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_EQ(r["duplicate"], true) << r.dump();
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'C'"), 7);
}

// Delivered records were deleted at once, so a cloud that lost data after PUBACK could not ask
// again: they are kept for a window, and stream.replay resends what is kept and says what not.
// A replay holds its messages in memory: 10,000 telemetry records of 16 KiB were 160 MB at
// once. At most 4 MiB per command; the range ends earlier and `more_from` says where to go on.
TEST_F(Desk, StreamReplayStopsAtFourMebibytesAndSaysWhereToGoOn) {
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.replay = [&](const std::string&, std::int64_t from, std::int64_t to) -> Expected<std::int64_t> {
    calls.emplace_back(from, to);
    return to - from + 1;
  };
  CommandDesk desk(*db_, *ledger_, "", h);
  for (int i = 1; i <= 6; ++i)  // about 1,000,050 bytes each
    ASSERT_TRUE(store::outbox_append(*db_, "telemetry", "t" + std::to_string(i),
                                     "2026-11-23T10:00:00.000Z",
                                     json{{"pad", std::string(1'000'000, 'x')}})
                    .ok());
  auto r = desk.handle("stream.replay",
                       R"({"id":"p1","args":{"stream":"telemetry","from_seq":1,"to_seq":6}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["to_seq"], 4);
  EXPECT_EQ(r["result"]["more_from"], 5);
  EXPECT_EQ(r["result"]["resent"], 4);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(std::int64_t{1}, std::int64_t{4}));
  r = desk.handle("stream.replay",
                  R"({"id":"p2","args":{"stream":"telemetry","from_seq":5,"to_seq":6}})");
  EXPECT_EQ(r["result"]["to_seq"], 6);
  EXPECT_FALSE(r["result"].contains("more_from")) << r.dump();
}

TEST_F(Desk, StreamReplayResendsWhatIsKeptAndSaysWhatIsNot) {
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> calls;
  DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.replay = [&](const std::string& stream, std::int64_t from,
                 std::int64_t to) -> Expected<std::int64_t> {
    calls.emplace_back(stream, from, to);
    return to - from + 1;
  };
  CommandDesk desk(*db_, *ledger_, "", h);
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(ledger_
                    ->post(std::vector{
                        test::movement("m" + std::to_string(i), "A", MovementKind::kReceive, 1)})
                    .ok());
  ASSERT_TRUE(store::outbox_acknowledge(*db_, {{"movements", 3}}).ok());
  // Inside the window nothing delivered is deleted; past it, the oldest go first.
  EXPECT_EQ(*store::outbox_compact(*db_, 100, "2000-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(*store::outbox_compact(*db_, 1), 1);  // seq 1 deleted, 2-3 kept

  auto r =
      desk.handle("stream.replay", R"({"id":"p1","args":{"stream":"movements","from_seq":1}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["to_seq"], 3);  // default: the last delivered
  EXPECT_EQ(r["result"]["resent"], 3);  // what the hook said it sent
  EXPECT_EQ(r["result"]["first_seq"], 2);
  EXPECT_EQ(r["result"]["not_kept"], 1);
  EXPECT_THAT(r["result"]["note"].get<std::string>(), HasSubstr("kept: 2-3"));
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_tuple(std::string("movements"), std::int64_t{1}, std::int64_t{3}));

  auto bad =
      desk.handle("stream.replay", R"({"id":"p2","args":{"stream":"movements","from_seq":9}})");
  EXPECT_EQ(bad["ok"], false);
  EXPECT_THAT(bad["error"].get<std::string>(), HasSubstr("beyond the last movements seq (3)"));
  bad = desk.handle("stream.replay", R"({"id":"p3","args":{"stream":"nope","from_seq":1}})");
  EXPECT_EQ(bad["ok"], false);
  ASSERT_TRUE(store::outbox_compact(*db_, 100).ok());
  auto none = desk.handle("stream.replay",
                          R"({"id":"p4","args":{"stream":"movements","from_seq":1,"to_seq":3}})");
  ASSERT_EQ(none["ok"], true) << none.dump();
  EXPECT_EQ(none["result"]["resent"], 0);
  EXPECT_EQ(none["result"]["not_kept"], 3);
  EXPECT_EQ(calls.size(), 1u);
}

TEST_F(Desk, InvalidOrUnknownChangesNothing) {
  auto r = desk_->handle("stock.count", R"({"id":"c2","args":{"sku":"NOPE","counted":1}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("\"NOPE\" is not an active SKU"));
  r = desk_->handle("hold.place", R"({"id":"c3","args":{}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["id"], "c3");
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(Desk, SnapshotPutsEverySkuOnTheStockStream) {
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m1", "A", MovementKind::kReceive, 4)}).ok());
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m2", "A", MovementKind::kReceive, 6)}).ok());
  auto r = desk_->handle("snapshot.request", R"({"id":"s1"})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["skus"], 1);
  // The watermark: the snapshot includes movements up to seq 2 (the two receipts).
  EXPECT_EQ(r["result"]["movements_seq"], 2);
  auto recs = store::outbox_read(*db_, "stock", 0, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  auto j = json::parse((*recs)[0].payload);
  EXPECT_EQ(j["sku"], "A");
  EXPECT_EQ(j["on_hand"], 10);
  EXPECT_EQ(j["movements_seq"], 2);
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["snapshot"], "snap-s1");
}

TEST_F(Desk, CatalogUpsertAndRemove) {
  auto r = desk_->handle("catalog.upsert",
                         R"({"id":"u1","args":{"sku":"N","name":"New","barcodes":["96385074"]}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(catalog_changes_, 1);
  auto cat = store::load_catalog(*db_);
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE(cat->find_barcode("96385074"));
  EXPECT_EQ(cat->find_barcode("96385074")->sku, "N");

  r = desk_->handle("catalog.upsert",
                    R"({"id":"u2","args":{"sku":"M","barcodes":["4006381333931"]}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("already belongs to SKU \"A\""));

  r = desk_->handle("catalog.remove", R"({"id":"r1","args":{"sku":"N"}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_FALSE(r["result"].contains("left")) << r.dump();  // nothing stays behind
  cat = store::load_catalog(*db_);
  EXPECT_FALSE(cat->contains("N"));
  EXPECT_EQ(count("SELECT count(*) FROM skus WHERE sku = 'N'"), 1);  // kept, inactive
  r = desk_->handle("config.get", R"({"id":"g1"})");
  EXPECT_EQ(r["result"]["site"], "s1");
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 3);
}

// A SKU removed with stock on hand: the reply and the log say what stays in the ledger
// without a barcode to scan it (it was removed silently).
TEST_F(Desk, RemovingASkuWithStockSaysWhatStaysBehind) {
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m1", "A", MovementKind::kReceive, 10)}).ok());
  ::testing::internal::CaptureStderr();
  auto r = desk_->handle("catalog.remove", R"({"id":"r2","args":{"sku":"A"}})");
  const auto log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["left"], (json{{"on_hand", 10},
                                       {"held", 0},
                                       {"reserved", 0},
                                       {"backordered", 0},
                                       {"open_proposals", 0}}))
      << r.dump();
  EXPECT_THAT(log, HasSubstr("catalog.remove r2: SKU A still has 10 on hand: its barcodes no "
                             "longer scan"));
  EXPECT_EQ(count("SELECT active FROM skus WHERE sku = 'A'"), 0);
}

}  // namespace
}  // namespace depot::sync
