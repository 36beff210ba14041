// The console's JSON API and sessions (issue 16 items 4 and 2's hook) through a real
// http::Server on loopback over a real SQLite file: every read route gives byte for byte what
// the CLI's --json gives (one implementation), parameters are validated with the field, value
// and rule, limits are bounded, and every /api/ route refuses a request without a session or
// bearer token (401), a session's non-GET without its CSRF token (403), and an expired session.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent_process.hpp"
#include "app/config_file.hpp"
#include "app/console.hpp"
#include "app/store_access.hpp"
#include "store/coldchain_store.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {

using nlohmann::json;

std::string api_config(const std::string& db) {
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" +
         db + R"(",
  "catalog": [
    {"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"},
    {"sku": "AMB", "name": "Tea", "barcodes": ["5012345678900"], "zone": "ambient"}
  ],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "warning_band_c": 1,
             "alarm_delay_s": 1800, "hysteresis_c": 0.5, "repeat_s": 0}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "offline_after_s": 2}]
})";
}

struct Reply {
  int status = 0;
  std::string head, body;
  std::string header(const std::string& name) const {
    auto p = head.find("\r\n" + name + ": ");
    if (p == std::string::npos) return {};
    p += name.size() + 4;
    return head.substr(p, head.find("\r\n", p) - p);
  }
};

class ConsoleApi : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dir_.file("agent.json");
    test::write_file(cfg_, api_config("depot.db"));
    // Real stock through the real binary: two receipts and a pick, one reject.
    for (auto args : std::vector<std::vector<std::string>>{
             {"scan", "--kind", "receive", "--code", "4006381333931", "--qty", "40"},
             {"scan", "--kind", "receive", "--code", "5012345678900", "--qty", "7"},
             {"scan", "--kind", "pick", "--code", "4006381333931", "--qty", "3"},
             {"scan", "--kind", "pick", "--code", "0000000000000"}}) {
      args.insert(args.end(), {"-c", cfg_});
      test::run_agent(args);
    }
    auto loaded = load_config_file(cfg_);
    ASSERT_TRUE(loaded.loaded);
    loaded_ = std::move(*loaded.loaded);
    auto db = open_for_writing(loaded_);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    // A zone state as the daemon saves it, with a reading of 5.4 C.
    ASSERT_TRUE(db_->exec("BEGIN"));
    json state{
        {"zone", "pharma-1"},
        {"level", "normal"},
        {"min_c", 2},
        {"max_c", 8},
        {"probes", json::array({{{"id", "p1"},
                                 {"state", "online"},
                                 {"celsius", 5.4},
                                 {"last", {{"celsius", 5.4}, {"wall_ms", 1700000000000}}}}})},
        {"open_excursions", json::array()},
        {"mkt_24h_c", 5.1},
        {"mkt_30d_c", nullptr},
        {"updated_at", "2026-12-05T07:00:00.000Z"}};
    ASSERT_TRUE(store::save_zone_state(*db_, "pharma-1", state, 1700000000000));
    ASSERT_TRUE(db_->exec("COMMIT"));

    ConsoleSources s;
    s.config = &loaded_.config;
    s.db = db_.get();
    s.verify_password = [](std::string_view user, std::string_view pass) -> Expected<Principal> {
      if (user == "ana" && pass == "correct horse") return Principal{"ana", "quality", ""};
      return Error{"wrong user or password"};
    };
    s.verify_bearer = [](std::string_view token) -> std::optional<Principal> {
      if (token == "machine-token-1") return Principal{"scraper", "operator", ""};
      return std::nullopt;
    };
    SessionOptions so;
    so.now = [this] { return clock_; };
    s.sessions = std::make_shared<SessionStore>(so);
    http::ServerOptions o;
    o.address = "127.0.0.1";
    server_ = std::make_unique<http::Server>(io_, o, console_routes(s));
    ASSERT_TRUE(server_->start());
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  Reply request(const std::string& method, const std::string& target,
                const std::string& headers = "", const std::string& body = "") {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                      headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                      body;
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    Reply r;
    if (out.size() > 12) r.status = std::atoi(out.substr(9, 3).c_str());
    auto p = out.find("\r\n\r\n");
    r.head = out.substr(0, p);
    if (p != std::string::npos) r.body = out.substr(p + 4);
    return r;
  }
  // Signs in as ana; the cookie header line and the CSRF token.
  std::pair<std::string, std::string> login() {
    auto r = request("POST", "/api/login", "Content-Type: application/json\r\n",
                     R"({"user":"ana","password":"correct horse"})");
    EXPECT_EQ(r.status, 200) << r.body;
    auto set = r.header("Set-Cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
    EXPECT_EQ(set.find("Secure"), std::string::npos) << set;  // plain HTTP here
    auto cookie = set.substr(0, set.find(';'));
    EXPECT_EQ(cookie.rfind("depot_session=", 0), 0u);
    EXPECT_EQ(cookie.size(), 14u + 64u);  // 32 random bytes as hex
    return {"Cookie: " + cookie + "\r\n", json::parse(r.body)["csrf"].get<std::string>()};
  }
  std::string cli(std::vector<std::string> args) {
    args.insert(args.end(), {"-c", cfg_, "--json"});
    auto r = test::run_agent(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  test::TempDir dir_;
  std::string cfg_;
  LoadedConfig loaded_;
  std::unique_ptr<store::Database> db_;
  std::chrono::steady_clock::time_point clock_ = std::chrono::steady_clock::now();
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(ConsoleApi, EveryReadRouteGivesTheCliJsonByteForByte) {
  auto [cookie, csrf] = login();
  const std::vector<std::pair<std::string, std::vector<std::string>>> pairs = {
      {"/api/stock", {"stock"}},
      {"/api/stock?sku=VAX", {"stock", "--sku", "VAX"}},
      {"/api/movements", {"movements"}},
      {"/api/movements?sku=VAX&limit=1", {"movements", "--sku", "VAX", "--limit", "1"}},
      {"/api/rejects", {"rejects"}},
      {"/api/reorders", {"reorders"}},
      {"/api/reorders?open=true", {"reorders", "--open"}},
      {"/api/zones", {"zones"}},
      {"/api/alarms", {"alarms"}},
      {"/api/alarms?open=1", {"alarms", "--open"}},
      {"/api/holds", {"holds"}},
      {"/api/holds?open=true", {"holds", "--open"}},
      {"/api/audit", {"audit"}},
      {"/api/audit?since=2026-01-01", {"audit", "--since", "2026-01-01"}}};
  for (const auto& [target, args] : pairs) {
    auto r = request("GET", target, cookie);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << target;
    auto expected = cli(args);
    // zones: state_age_s and probes' age_s count seconds from now; equal within a second.
    if (target == "/api/zones") {
      auto a = json::parse(r.body), b = json::parse(expected);
      a[0].erase("state_age_s");
      b[0].erase("state_age_s");
      a[0]["probes"][0]["last"].erase("age_s");
      b[0]["probes"][0]["last"].erase("age_s");
      EXPECT_EQ(a, b);
      continue;
    }
    EXPECT_EQ(r.body, expected) << target;
  }
  // Real figures came through.
  auto stock = json::parse(request("GET", "/api/stock?sku=VAX", cookie).body);
  ASSERT_EQ(stock.size(), 1u);
  EXPECT_EQ(stock[0]["on_hand"], 37);
  auto zones = json::parse(request("GET", "/api/zones", cookie).body);
  EXPECT_DOUBLE_EQ(zones[0]["probes"][0]["celsius"].get<double>(), 5.4);
  auto moves = json::parse(request("GET", "/api/movements?limit=1", cookie).body);
  ASSERT_EQ(moves.size(), 1u);  // the newest
  EXPECT_EQ(moves[0]["qty"], -3);
  auto page = json::parse(request("GET", "/api/stock?limit=1&after=AMB", cookie).body);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["sku"], "VAX");
}

TEST_F(ConsoleApi, ParametersAreCheckedWithFieldValueAndRule) {
  auto [cookie, csrf] = login();
  struct Case {
    std::string target, field, rule_part;
  };
  for (const auto& c : std::vector<Case>{
           {"/api/movements?limit=0", "limit", "positive number"},
           {"/api/movements?limit=5000", "limit", "at most 1000"},
           {"/api/movements?limit=ten", "limit", "positive number"},
           {"/api/rejects?since=yesterday", "since", "RFC 3339"},
           {"/api/audit?since=2026-13-45", "since", "RFC 3339"},
           {"/api/alarms?open=maybe", "open", "true or false"},
           {"/api/stock?color=red", "color", "not a parameter of /api/stock (sku, after, limit)"},
           {"/api/zones?x=1", "x", "it takes none"},
           {"/api/stock?sku=A&sku=B", "sku", "more than once"},
           {"/api/stock?sku=%ZZ", "query", "%-escape"},
           {"/api/stock?sku=NOPE", "sku", "unknown sku"}}) {
    auto r = request("GET", c.target, cookie);
    EXPECT_EQ(r.status, 400) << c.target << ": " << r.body;
    auto j = json::parse(r.body);
    EXPECT_EQ(j["field"], c.field) << c.target;
    EXPECT_NE(j["error"].get<std::string>().find(c.rule_part), std::string::npos)
        << c.target << ": " << r.body;
  }
  // The value is given back printable.
  auto j = json::parse(request("GET", "/api/movements?since=%01x", cookie).body);
  EXPECT_EQ(j["value"].get<std::string>().find('\x01'), std::string::npos);
}

TEST_F(ConsoleApi, EveryApiRouteRefusesWithoutASession) {
  for (const char* path :
       {"/api/stock", "/api/movements", "/api/rejects", "/api/reorders", "/api/zones",
        "/api/alarms", "/api/holds", "/api/audit", "/api/session"}) {
    auto r = request("GET", path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(json::parse(r.body).count("error"), 1u) << path;
    EXPECT_EQ(request("GET", path, "Cookie: depot_session=" + std::string(64, 'a') + "\r\n").status,
              401)
        << path;
  }
  EXPECT_EQ(request("POST", "/api/logout").status, 401);
  // Wrong password, wrong user, not JSON, the wrong content type: no session.
  auto bad = request("POST", "/api/login", "Content-Type: application/json\r\n",
                     R"({"user":"ana","password":"wrong"})");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.header("Set-Cookie"), "");
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: application/json\r\n", "{not json").status,
            400);
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: text/plain\r\n",
                    R"({"user":"ana","password":"correct horse"})")
                .status,
            415);
  EXPECT_EQ(request("GET", "/api/login").status, 405);
}

TEST_F(ConsoleApi, BearerTokensForMachines) {
  EXPECT_EQ(request("GET", "/api/stock", "Authorization: Bearer machine-token-1\r\n").status, 200);
  EXPECT_EQ(request("GET", "/api/stock", "Authorization: Bearer machine-token-2\r\n").status, 401);
  auto s =
      json::parse(request("GET", "/api/session", "Authorization: Bearer machine-token-1\r\n").body);
  EXPECT_EQ(s["account"], "scraper");
  EXPECT_TRUE(s["csrf"].is_null());
}

TEST_F(ConsoleApi, ANonGetNeedsTheSessionsCsrfToken) {
  auto [cookie, csrf] = login();
  auto s = json::parse(request("GET", "/api/session", cookie).body);
  EXPECT_EQ(s["account"], "ana");
  EXPECT_EQ(s["role"], "quality");
  EXPECT_EQ(s["csrf"], csrf);
  EXPECT_EQ(request("POST", "/api/logout", cookie).status, 403);
  EXPECT_EQ(
      request("POST", "/api/logout", cookie + "X-CSRF-Token: " + std::string(64, '0') + "\r\n")
          .status,
      403);
  EXPECT_EQ(request("GET", "/api/session", cookie).status, 200);  // still signed in
  auto out = request("POST", "/api/logout", cookie + "X-CSRF-Token: " + csrf + "\r\n");
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(request("GET", "/api/session", cookie).status, 401);
}

TEST_F(ConsoleApi, SessionsExpireWhenIdleAndAfterTheirLifetime) {
  auto [cookie, csrf] = login();
  // Used every 20 minutes: alive until the 8 h lifetime.
  for (int i = 0; i < 23; ++i) {
    boost::asio::post(io_, [this] { clock_ += std::chrono::minutes(20); });
    EXPECT_EQ(request("GET", "/api/stock", cookie).status, 200) << i;
  }
  boost::asio::post(io_, [this] { clock_ += std::chrono::minutes(21); });  // past 8 h
  EXPECT_EQ(request("GET", "/api/stock", cookie).status, 401);
  auto [cookie2, csrf2] = login();
  boost::asio::post(io_, [this] { clock_ += std::chrono::minutes(31); });  // idle too long
  EXPECT_EQ(request("GET", "/api/stock", cookie2).status, 401);
}

TEST(ConsoleSessions, AreCappedAndTheLeastRecentlyUsedGoesFirst) {
  SessionOptions o;
  o.max_sessions = 3;
  SessionStore store(o);
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i)
    tokens.push_back(store.create({"u" + std::to_string(i), "operator", ""})->token);
  EXPECT_TRUE(store.find(tokens[0]));  // 0 used again: 1 is now the oldest
  auto t4 = store.create({"u3", "operator", ""});
  ASSERT_TRUE(t4);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.find(tokens[1]));
  EXPECT_TRUE(store.find(tokens[0]));
  EXPECT_TRUE(store.find(t4->token));
  EXPECT_NE(t4->token, t4->csrf);
}

}  // namespace
}  // namespace depot::app
