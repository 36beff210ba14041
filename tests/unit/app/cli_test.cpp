// The depot-agent binary as an operator uses it: real process, real config file, real
// SQLite file. Each call's exit code, stdout and stderr are checked.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent_process.hpp"
#include "app/cli_kit.hpp"
#include "core/config.hpp"
#include "db_damage.hpp"
#include "store/database.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using ::testing::HasSubstr;

using test::Run;
Run agent(std::vector<std::string> args) { return test::run_agent(std::move(args)); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dir_.file("agent.json");
    test::write_file(cfg_, test::sample_config("depot.db"));
  }
  nlohmann::json stock() {
    auto r = agent({"stock", "-c", cfg_, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  std::int64_t on_hand(const std::string& sku) {
    for (const auto& row : stock())
      if (row["sku"] == sku) return row["on_hand"].get<std::int64_t>();
    ADD_FAILURE() << sku << " not listed";
    return 0;
  }
  test::TempDir dir_;
  std::string cfg_;
};

// `stock --json` reads its rows in pages of 4,096 SKUs: a listing across pages has every SKU
// once, in SKU order, each with its figures.
TEST_F(Cli, StockJsonListsEverySkuOnceAcrossItsPages) {
  auto cfg = nlohmann::json::parse(test::sample_config("paged.db"));
  cfg["catalog"] = nlohmann::json::array();
  constexpr int kSkus = 9000;  // two whole pages and part of a third
  for (int i = 0; i < kSkus; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "P-%05d", i);
    cfg["catalog"].push_back({{"sku", id}, {"name", "Item"}});
  }
  test::write_file(cfg_, cfg.dump());
  auto rows = stock();
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kSkus));
  for (int i = 0; i < kSkus; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "P-%05d", i);
    ASSERT_EQ(rows[static_cast<std::size_t>(i)]["sku"], id) << i;
    ASSERT_TRUE(rows[static_cast<std::size_t>(i)].contains("position")) << i;
  }
  auto one = agent({"stock", "-c", cfg_, "--json", "--sku", "P-04096"});
  ASSERT_EQ(one.code, 0) << one.err;
  auto j = nlohmann::json::parse(one.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["sku"], "P-04096");
  auto none = agent({"stock", "-c", cfg_, "--json", "--sku", "P-99999"});
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_THAT(none.err, HasSubstr("--sku: unknown sku \"P-99999\""));
  EXPECT_THAT(none.err, ::testing::Not(HasSubstr("figures")));
}

TEST_F(Cli, CheckAcceptsAValidFile) {
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok (site test-site, gateway gw-1, 2 SKUs"));
}

// A zone no sensor names is never judged: valid, but `check` says so (issue 15: a freezer
// with no working probe must never look "normal" unnoticed).
TEST_F(Cli, CheckWarnsAboutAZoneWithNoProbe) {
  test::write_file(cfg_, R"({"site":"s","gateway":"g","database":"x.db",
    "zones":[{"id":"freezer-1","max_c":-18},{"id":"chill-1","max_c":4}],
    "sensors":[{"id":"p1","zone":"chill-1","driver":"sim","read_interval_s":1}]})");
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: zones: \"freezer-1\" has no probe"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("chill-1")));
}

TEST_F(Cli, CheckListsEveryProblemAndExits2) {
  test::write_file(cfg_, R"({"site":"a b","gateway":"g","database":"x.db","colour":"red",
    "durability":{"batch_max_ms":-1},"catalog":[{"sku":"A","barcodes":["4006381333932"]}]})");
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("4 problems"));
  EXPECT_THAT(r.err, HasSubstr("site: \"a b\" must be 1-64 characters"));
  EXPECT_THAT(r.err, HasSubstr("colour: unknown key"));
  EXPECT_THAT(r.err, HasSubstr("durability.batch_max_ms: -1 must be between 0 and 1000"));
  EXPECT_THAT(r.err, HasSubstr("catalog[0].barcodes[0]: \"4006381333932\" fails the GTIN-13"));
}

// The install steps in docs/operations.md run `depot-agent check` by hand before the service
// ever started, on a config naming systemd credentials (/run/credentials/<unit>/..., there only
// while the service runs). Found writing the system suite's TLS case: check called them
// unreadable (exit 2).
// By hand they are a note; under systemd ($CREDENTIALS_DIRECTORY set, e.g. ExecStartPre) and
// for `run` they are checked as before.
TEST_F(Cli, CheckByHandNotesSystemdCredentialsItCannotSee) {
  auto cred = std::string("/run/credentials/depot-agent-cli-test-") + std::to_string(getpid()) +
              ".service/mqtt-password";
  auto j = nlohmann::json::parse(test::sample_config("depot.db"));
  j["mqtt"] = {{"host", "127.0.0.1"}, {"username", "gw"}, {"password_file", cred}};
  test::write_file(cfg_, j.dump());
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok (site test-site"));
  EXPECT_THAT(r.err,
              HasSubstr("note: mqtt.password_file: \"" + cred + "\" is a systemd credential"));
  EXPECT_EQ(agent({"run", "-c", cfg_}).code, 2);  // the agent itself cannot start without it

  ::setenv("CREDENTIALS_DIRECTORY", dir_.path().c_str(), 1);  // as under systemd
  r = agent({"check", "-c", cfg_});
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: mqtt.password_file: \"" + cred + "\" cannot be read"));
}

// `check` refuses what `run` would refuse (found by an attack session: each of these passed
// `check`, then `run` stopped or started without the part): an empty HMAC secret, an audit key
// under 16 bytes (both read by the one reader run uses), a scanner listening on a host name, the
// console on a scanner's port, a database path that is a folder (`run` said "migration 1 failed:
// disk I/O error").
TEST_F(Cli, CheckRefusesWhatRunWouldRefuse) {
  const auto base = nlohmann::json::parse(test::sample_config("depot.db"));
  test::write_file(dir_.file("empty.key"), "\n");
  test::write_file(dir_.file("short.key"), "abc\n");
  auto j = base;
  // An empty password file is the package's placeholder: "not used" (docs/operations.md).
  j["mqtt"] = {{"host", "127.0.0.1"},
               {"hmac_secret_file", dir_.file("empty.key")},
               {"password_file", dir_.file("empty.key")}};
  j["audit_key_file"] = dir_.file("short.key");
  test::write_file(cfg_, j.dump());
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: mqtt.hmac_secret_file: " + dir_.file("empty.key") + " is empty"));
  EXPECT_THAT(r.err, HasSubstr("error: audit_key_file: " + dir_.file("short.key") +
                               " holds 3 bytes; it must hold at least 16"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("password_file")));
  auto run = agent({"run", "-c", cfg_});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("cannot start: mqtt.hmac_secret_file"));

  j = base;
  j["scanners"] = {{{"id", "t1"}, {"driver", "tcp"}, {"role", "pick"}, {"listen", "evil.invalid"},
                    {"port", 9101}},
                   {{"id", "t2"}, {"driver", "tcp"}, {"role", "pick"}, {"listen", "0.0.0.0"},
                    {"port", 9102}}};
  j["console"] = {{"listen", "127.0.0.1:9102"}};
  test::write_file(cfg_, j.dump());
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("scanners[0].listen: \"evil.invalid\" is not an IPv4 or IPv6 address"));
  EXPECT_THAT(r.err, HasSubstr("console.listen: \"127.0.0.1:9102\": port 9102 is already taken by "
                               "scanner \"t2\" on \"0.0.0.0\""));

  // An MQTT probe's password file, relative to the config's folder like every file it names:
  // read by the same reader (before, `run` started and the probe connected without a password).
  j = base;
  j["zones"] = {{{"id", "chill-1"}, {"max_c", 4}}};
  j["sensors"] = {{{"id", "p1"}, {"zone", "chill-1"}, {"driver", "mqtt"},
                   {"mqtt", {{"topic", "probes/p1"}, {"username", "gw"},
                             {"password_file", "probe.pw"}}}}};
  test::write_file(cfg_, j.dump());
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: sensors[0].mqtt.password_file: \"" + dir_.file("probe.pw") +
                               "\" cannot be read: No such file or directory"));
  run = agent({"run", "-c", cfg_});
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("cannot start: sensors[0].mqtt.password_file"));
  // A FIFO named as a secret (no writer: opening it waited forever, check and run hung).
  ASSERT_EQ(::mkfifo(dir_.file("probe.pw").c_str(), 0600), 0);
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: sensors[0].mqtt.password_file: \"" + dir_.file("probe.pw") +
                               "\" is not a regular file (a pipe, device or socket)"));
  std::filesystem::remove(dir_.file("probe.pw"));
  test::write_file(dir_.file("probe.pw"), "s3cret\n");
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;

  j = base;
  j["database"] = dir_.path();
  test::write_file(cfg_, j.dump());
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: database: \"" + dir_.path().string() + "\" is a folder: set it to the "
                               "path of a file"));
  run = agent({"run", "-c", cfg_});
  EXPECT_EQ(run.code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("is a folder"));
}

TEST_F(Cli, CheckNamesAMissingFile) {
  auto r = agent({"check", "-c", dir_.file("nope.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.json: cannot read: No such file or directory"));
}

// A config file past the parser's limit is refused with its size before any of it is read
// (sparse: no 64 MB written); a directory is refused as unreadable, not parsed as empty text.
TEST_F(Cli, CheckRefusesATooBigFileAndADirectory) {
  const auto big = dir_.file("big.json");
  std::filesystem::copy_file(cfg_, big);
  std::filesystem::resize_file(big, kMaxConfigBytes + 1);
  auto r = agent({"check", "-c", big});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("big.json: the file is " + std::to_string(kMaxConfigBytes + 1) +
                               " bytes; at most " + std::to_string(kMaxConfigBytes) +
                               " are accepted"));
  r = agent({"check", "-c", dir_.path()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(": cannot read: "));
}

// The config from a pipe (`-c <(...)`) is read to its end; a FIFO that nobody writes to reads
// as an empty config at once (check waited forever for a writer: attack session); a device is
// refused without reading it.
TEST_F(Cli, CheckReadsAPipeAndDoesNotWaitOnAFifoWithoutAWriter) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const auto text = test::sample_config(dir_.file("depot.db"));
  ASSERT_LT(text.size(), 60'000u);  // fits the pipe's buffer
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  auto r = agent({"check", "-c", "/proc/" + std::to_string(::getpid()) + "/fd/" +
                                     std::to_string(fds[0])});
  ::close(fds[0]);
  EXPECT_EQ(r.code, 0) << r.err;
  // Relative files of a config given by a descriptor are relative to the current folder (the
  // database resolved under /dev/fd: check passed, run could not create its lock file).
  ASSERT_EQ(::pipe(fds), 0);
  const auto relative = test::sample_config("rel.db");
  ASSERT_EQ(::write(fds[1], relative.data(), relative.size()),
            static_cast<ssize_t>(relative.size()));
  ::close(fds[1]);
  r = agent({"check", "-c", "/proc/" + std::to_string(::getpid()) + "/fd/" +
                               std::to_string(fds[0])});
  ::close(fds[0]);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("database " + (std::filesystem::current_path() / "rel.db").string() + ")"));
  const auto fifo = dir_.file("fifo.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  r = agent({"check", "-c", fifo});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("fifo.json: is empty"));
  r = agent({"check", "-c", "/dev/zero"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("/dev/zero: is not a regular file or a pipe (a device or socket)"));
}

// A database path that is a symlink loop is named with the system's reason (stock said
// "internal error: filesystem error", run "unable to open database file").
TEST_F(Cli, ADatabaseSymlinkLoopIsNamed) {
  std::filesystem::create_symlink(dir_.file("loop-b.db"), dir_.file("loop-a.db"));
  std::filesystem::create_symlink(dir_.file("loop-a.db"), dir_.file("loop-b.db"));
  const auto cfg = dir_.file("loop.json");
  test::write_file(cfg, test::sample_config("loop-a.db"));
  auto r = agent({"check", "-c", cfg});  // it said ok
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("error: database: \"loop-a.db\" cannot be opened: Too many "
                               "levels of symbolic links"));
  r = agent({"stock", "-c", cfg});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("loop-a.db: Too many levels of symbolic links"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("internal error")));
  r = agent({"scan", "-c", cfg, "--kind", "receive", "--code", "14006381333938"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("(Too many levels of symbolic links)"));
}

// A figure of any length keeps two spaces from the next column (`stock` ran ON_HAND into the
// SKU at 10 digits, and a SKU over 16 characters into ON_HAND); names count as code points.
TEST(TextTable, ColumnsAreAsWideAsTheirWidestCell) {
  app::TextTable t({{"SKU"}, {"ON_HAND", true}, {"NAME"}});
  t.add({"A", "2999999997", "Tub"});
  t.add({"LONG-SKU-NAME-2026-XL", "5", "Crème brûlée"});
  t.add({"B", "-1", ""});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "SKU                       ON_HAND  NAME\n"
            "A                      2999999997  Tub\n"
            "LONG-SKU-NAME-2026-XL           5  Crème brûlée\n"
            "B                              -1\n");  // no trailing spaces
}

TEST_F(Cli, StockColumnsStayApartAtTenDigits) {
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--qty",
                     "999999999"})
                  .code,
              0);
  auto r = agent({"stock", "-c", cfg_, "--sku", "TINT"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nTINT +2999999997  +0  +0  +2999999997  "));
}

// `rejects --limit N` keeps the newest N, as `movements` does ("why did my last scan fail?"
// showed rejects from hours ago: attack session).
TEST_F(Cli, RejectsLimitKeepsTheNewest) {
  for (const char* code : {"111", "222", "333"})
    EXPECT_EQ(agent({"scan", "-c", cfg_, "--kind", "pick", "--code", code}).code, 2);
  auto r = agent({"rejects", "-c", cfg_, "--limit", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u) << r.out;
  EXPECT_EQ(j[0]["raw"], "222");
  EXPECT_EQ(j[1]["raw"], "333");
}

// A receive into a lot already past its expiry says so at the dock (it only said "available"
// unchanged: attack session with --expiry 1970-01-01).
TEST_F(Cli, AReceiveIntoAnExpiredLotIsSaid) {
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--qty", "5",
                  "--lot", "OLD-1", "--expiry", "1970-01-01"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("on hand 5, available 0"));
  EXPECT_THAT(r.out, HasSubstr("warning: lot OLD-1 expired on 1970-01-01: its units are on hand, "
                               "not available"));
  r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--qty", "5",
             "--lot", "NEW-1", "--expiry", "2099-12-31"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("warning")));
}

TEST_F(Cli, ScansChangeStockAndCasesMoveTheirPack) {
  EXPECT_EQ(on_hand("TINT"), 0);
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "14006381333938",
                  "--qty", "2", "--lot", "L42", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "posted");
  EXPECT_EQ(j["qty"], 24);
  r = agent({"scan", "-c", cfg_, "--kind", "pick", "--code", "4006381333931"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("pick TINT -1 -> on hand 23, available 23"));
  EXPECT_EQ(on_hand("TINT"), 23);
  r = agent({"movements", "-c", cfg_, "--sku", "TINT", "--json"});
  auto ms = nlohmann::json::parse(r.out);
  ASSERT_EQ(ms.size(), 2u);
  // A SKU the catalog does not have is said so, as by stock (it printed nothing, exit 0).
  for (bool json : {false, true}) {
    std::vector<std::string> args{"movements", "-c", cfg_, "--sku", "NOPE"};
    if (json) args.push_back("--json");
    auto none = agent(args);
    EXPECT_EQ(none.code, 2);
    EXPECT_THAT(none.err, HasSubstr("--sku: unknown sku \"NOPE\""));
    EXPECT_EQ(none.out, "");
  }
  EXPECT_EQ(ms[0]["lot"], "L42");
  EXPECT_EQ(ms[0]["source"], "cli");
}

// Issue 13 item 14: `scan --lot` accepted 10 kB lots where scanned lots stop at 20 (GS1).
TEST_F(Cli, ALotLongerThanGs1AllowsIsRefused) {
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--lot",
                  std::string(21, 'L')});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--lot: lot is 21 characters long; GS1 AI (10) allows at most 20"));
  EXPECT_EQ(on_hand("TINT"), 0);
  r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--lot",
             std::string(20, 'L')});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(Cli, CountThroughTheCliRecordsTheVariance) {
  ASSERT_EQ(agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA", "--qty", "10"}).code, 0);
  auto r = agent({"scan", "-c", cfg_, "--kind", "count", "--code", "5012345678900", "--qty", "7", "--who", "Ann Counter",
                  "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["counted"], 7);
  EXPECT_EQ(j["qty"], -3);
  EXPECT_EQ(on_hand("MATCHA"), 7);
}

TEST_F(Cli, TheSameIdTwiceChangesStockOnce) {
  for (int i = 0; i < 2; ++i) {
    auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA", "--id",
                    "dock-7-0001"});
    ASSERT_EQ(r.code, 0) << r.err;
    if (i == 1) {
      EXPECT_THAT(r.out, HasSubstr("duplicate: movement dock-7-0001"));
    }
  }
  EXPECT_EQ(on_hand("MATCHA"), 1);
}

TEST_F(Cli, PickBelowZeroIsRecordedWithAWarning) {
  auto r = agent({"scan", "-c", cfg_, "--kind", "pick", "--code", "INT-MATCHA", "--qty", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NEGATIVE"));
  EXPECT_EQ(on_hand("MATCHA"), -2);
  EXPECT_EQ(stock()[0]["negative"], true);
}

TEST_F(Cli, BadInputIsNamedExits2AndLeavesStockAlone) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--kind", "pick", "--code", "INT-MATCHA", "--qty", "-3"}, "quantity -3 must be positive"},
      {{"--kind", "pick", "--code", "INT-MATCHA", "--qty", "two"}, "--qty: \"two\" must be a whole number"},
      {{"--kind", "pick", "--code", "0000000000000"}, "barcode \"0000000000000\" is not in the catalog"},
      {{"--kind", "pick", "--code", "4006381333932"}, "fails the GTIN-13 check digit (expected 1)"},
      {{"--kind", "steal", "--code", "INT-MATCHA"}, "--kind: \"steal\" must be one of"},
      {{"--kind", "count", "--code", "INT-MATCHA"}, "--qty is required for a count"},
      {{"--kind", "pick"}, "--code is required"},
      {{"--kind", "pick", "--code", "INT-MATCHA", "--colour", "red"}, "unknown option --colour"},
  };
  for (auto& c : cases) {
    std::vector<std::string> args{"scan", "-c", cfg_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = agent(args);
    EXPECT_EQ(r.code, 2) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  EXPECT_EQ(on_hand("MATCHA"), 0);
  EXPECT_EQ(on_hand("TINT"), 0);
  auto r = agent({"movements", "-c", cfg_, "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0u);
}

TEST_F(Cli, AnUnwritableDatabasePathIsNamed) {
  test::write_file(cfg_, test::sample_config(dir_.file("missing-folder/depot.db")));
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing-folder does not exist"));
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 0);  // the file is valid; the machine lacks the folder
  EXPECT_THAT(r.err, HasSubstr("warning: database:"));
}

// Issue 13 item 7: the daemon reported a missing database folder as "another depot-agent is
// already running" (its lock file could not be created there).
TEST_F(Cli, TheDaemonNamesAMissingDatabaseFolder) {
  test::write_file(cfg_, test::sample_config(dir_.file("missing-folder/depot.db")));
  test::AgentProcess daemon(cfg_, dir_.file("agent.log"));
  EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(20)), 1);
  EXPECT_NE(daemon.log().find("missing-folder does not exist"), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.log().find("another depot-agent"), std::string::npos) << daemon.log();
}

TEST_F(Cli, MovementsSinceValidatesItsTime) {
  auto r = agent({"movements", "-c", cfg_, "--since", "last tuesday"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--since: \"last tuesday\" must be"));
  EXPECT_EQ(agent({"movements", "-c", cfg_, "--since", "2h"}).code, 0);
}

// Issue 17 item 7: `movements --limit N` gave the oldest N; an operator wants the latest.
TEST_F(Cli, MovementsLimitGivesTheNewestInSeqOrder) {
  for (int i = 0; i < 5; ++i) {
    auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA", "--qty",
                    std::to_string(i + 1)});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  auto r = agent({"movements", "-c", cfg_, "--limit", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u) << r.out;
  EXPECT_EQ(j[0]["seq"], 4);
  EXPECT_EQ(j[1]["seq"], 5);
  EXPECT_EQ(j[1]["qty"], 5);
}

TEST_F(Cli, WritesAreSafeWhileTheDaemonRuns) {
  test::AgentProcess daemon(cfg_, dir_.file("agent.log"));
  ASSERT_TRUE(daemon.wait_for_log("ready:", std::chrono::seconds(10))) << daemon.log();
  for (int i = 0; i < 20; ++i) {
    auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  EXPECT_EQ(on_hand("MATCHA"), 20);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(Cli, AFreshDatabaseCreatedByTwoProcessesAtOnceIsMigratedOnce) {
  // The daemon and a CLI write racing on a file that does not exist yet.
  test::AgentProcess daemon(cfg_, dir_.file("agent.log"));
  auto r = agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(daemon.wait_for_log("ready:", std::chrono::seconds(10))) << daemon.log();
  EXPECT_EQ(on_hand("MATCHA"), 1);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(Cli, ASecondDaemonOnTheSameDatabaseIsRefused) {
  test::AgentProcess first(cfg_, dir_.file("first.log"));
  ASSERT_TRUE(first.wait_for_log("ready:", std::chrono::seconds(10))) << first.log();
  test::AgentProcess second(cfg_, dir_.file("second.log"));
  EXPECT_EQ(second.wait_exit(std::chrono::seconds(20)), 1);
  EXPECT_NE(second.log().find("another depot-agent is already running"), std::string::npos)
      << second.log();
  EXPECT_EQ(first.stop(), 0);
}

TEST_F(Cli, ADamagedDatabaseIsMovedAsideByTheDaemon) {
  test::write_file(dir_.file("depot.db"), std::string(4096, 'z'));
  test::AgentProcess daemon(cfg_, dir_.file("agent.log"));
  ASSERT_TRUE(daemon.wait_for_log("ready:", std::chrono::seconds(10))) << daemon.log();
  EXPECT_NE(daemon.log().find("DATABASE DAMAGED"), std::string::npos) << daemon.log();
  bool moved = false;
  for (auto& e : std::filesystem::directory_iterator(dir_.path()))
    if (e.path().filename().string().starts_with("depot.db.corrupt-")) {
      moved = true;
      EXPECT_EQ(std::filesystem::file_size(e.path()), 4096u);  // kept whole, not deleted
    }
  EXPECT_TRUE(moved);
  EXPECT_EQ(on_hand("MATCHA"), 0);  // a fresh database took its place
  EXPECT_EQ(daemon.stop(), 0);
}

// Issue 18: damage in the append-only history does not hold up READY (only the live tables
// are checked before it); the whole-file check after READY finds it, says so in the log and
// the health, and the next start checks the whole file first and moves it aside.
TEST_F(Cli, DamageInTheHistoryIsFoundAfterReadyAndMovedAsideAtTheNextStart) {
  {
    test::AgentProcess first(cfg_, dir_.file("first.log"));
    ASSERT_TRUE(first.wait_for_log("whole-file integrity check ok", std::chrono::seconds(20)))
        << first.log();
    EXPECT_FALSE(std::filesystem::exists(dir_.file("depot.db.check-whole")));
    EXPECT_EQ(first.stop(), 0);
  }
  EXPECT_EQ(agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "INT-MATCHA"}).code, 0);
  // rejects: append-only history that nothing reads while starting.
  ASSERT_EQ(test::damage_root_page(dir_.file("depot.db"), "rejects"), "");
  {
    test::AgentProcess daemon(cfg_, dir_.file("second.log"));
    ASSERT_TRUE(daemon.wait_for_log("failed the whole-file integrity check after start",
                                    std::chrono::seconds(20)))
        << daemon.log();
    EXPECT_LT(daemon.log().find("ready:"), daemon.log().find("DATABASE DAMAGED")) << daemon.log();
    EXPECT_TRUE(std::filesystem::exists(dir_.file("depot.db.check-whole")));
    EXPECT_EQ(on_hand("MATCHA"), 1);  // stock is read as it was: the agent ran on
    EXPECT_EQ(daemon.stop(), 0);
  }
  test::AgentProcess third(cfg_, dir_.file("third.log"));
  ASSERT_TRUE(third.wait_for_log("ready:", std::chrono::seconds(20))) << third.log();
  EXPECT_NE(third.log().find("failed its integrity check"), std::string::npos) << third.log();
  // Checked whole before READY: the marker is gone before READY and no second check runs.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("depot.db.check-whole")));
  EXPECT_EQ(third.log().find("whole-file integrity check"), std::string::npos) << third.log();
  bool moved = false;
  for (auto& e : std::filesystem::directory_iterator(dir_.path()))
    moved |= e.path().filename().string().starts_with("depot.db.corrupt-");
  EXPECT_TRUE(moved);
  EXPECT_EQ(third.stop(), 0);
}

TEST_F(Cli, UnknownCommandAndUsage) {
  auto r = agent({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
  r = agent({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("depot-agent 0."));
}

}  // namespace
}  // namespace depot
