// The console test fixture: a real SQLite file with stock from the real binary and a zone
// state, a real http::Server on loopback with the console's routes, an injected
// verify_password (ana / "correct horse", role quality) and bearer check, sessions on a clock
// the test moves, and a live-update hub (2 clients, 300 ms heartbeat, 64 KiB per stream).
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent_process.hpp"
#include "app/config_file.hpp"
#include "app/console.hpp"
#include "app/signing.hpp"
#include "core/replenish/proposal.hpp"
#include "store/ledger.hpp"
#include "store/replenish_store.hpp"
#include "app/store_access.hpp"
#include "store/coldchain_store.hpp"
#include "test_support.hpp"

namespace depot::app::test_console {

using nlohmann::json;

inline std::string api_config(const std::string& db) {
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
 public:  // the helpers below are used by free functions of the tests too
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
    hub_ = std::make_shared<EventHub>(io_, 2, std::chrono::milliseconds(300));
    hub_->start();
    s.events = hub_;
    configure(s);
    http::ServerOptions o;
    o.address = "127.0.0.1";
    o.request_timeout = std::chrono::seconds(2);
    o.max_stream_buffer = 65536;
    server_ = std::make_unique<http::Server>(io_, o, console_routes(s));
    ASSERT_TRUE(server_->start());
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] {
      hub_->stop();
      server_->stop();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // A derived fixture changes the sources here, before the routes are made.
  virtual void configure(ConsoleSources&) {}
  // Runs `fn` on the loop thread and waits for it.
  template <class F>
  auto on_loop(F fn) {
    std::promise<decltype(fn())> p;
    boost::asio::post(io_, [&] { p.set_value(fn()); });
    return p.get_future().get();
  }
  // A connected socket to the server (receive timeout 5 s).
  int connect_socket(int rcvbuf = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
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
  std::shared_ptr<EventHub> hub_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

inline constexpr std::int64_t kNow = 1764900000000;  // 2025-12-05

// Real accounts on the fixture's database (ana: quality, "correct horse"; bo: buyer,
// "buyer-pass-1"), a hold of the 37 vaccines and a proposal P-tea-1, and sign-in and signed
// actions on a real SignWorker (app/console.hpp connect_accounts), as the daemon wires them.
template <class Base>
class WithAccounts : public Base {
 public:
  using Base::db_;
  using Base::io_;
  using Base::loaded_;
  void configure(ConsoleSources& s) override {
    // Accounts: ana (quality) and bo (buyer), hashed as `users add` hashes them.
    ASSERT_TRUE(add_user(*db_, "ana", "Ana Lee", accounts::Role::kQuality, "correct horse",
                         "test", kNow));
    ASSERT_TRUE(add_user(*db_, "bo", "Bo Chen", accounts::Role::kBuyer, "buyer-pass-1", "test",
                         kNow));
    // A hold on the vaccine (37 on hand) after an excursion.
    store::Ledger ledger(*db_);
    auto placed = db_->transaction([&](const store::Txn& txn) {
      return store::place_holds(txn, ledger, "pharma-1", "pharma-1/high/run/1", "hold-x",
                                {"2026-12-05T07:00:00.000Z", 1, "agent", "coldchain"});
    });
    ASSERT_TRUE(placed.ok()) << placed.error().message;
    ASSERT_EQ(placed->size(), 1u);
    hold_ = placed->front().id;
    // A proposal for the tea, as the daemon makes them.
    replenish::Decision d;
    d.reason = replenish::Reason::kReorderPointReached;
    d.quantity = 40;
    d.expected_arrival_ms = kNow + 10 * 86'400'000LL;
    auto p = replenish::make_proposal(d, "P-tea-1", "AMB", kNow);
    auto st = db_->transaction(
        [&]() -> Status { return store::insert_proposal(*db_, p, "2026-12-05T07:00:00.000Z"); });
    ASSERT_TRUE(st.ok()) << st.error().message;
    worker_ = std::make_unique<SignWorker>(io_, [this] { return open_for_writing(loaded_); });
    connect_accounts(s, io_, *worker_, /*agent_running=*/false);
    s.verify_password = nullptr;
  }
  void TearDown() override {
    if (worker_) worker_->stop();
    Base::TearDown();
  }
  std::pair<std::string, std::string> login_as(const std::string& user, const std::string& pass) {
    auto r = this->request("POST", "/api/login", "Content-Type: application/json\r\n",
                     json{{"user", user}, {"password", pass}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    auto set = r.header("Set-Cookie");
    return {"Cookie: " + set.substr(0, set.find(';')) + "\r\n",
            json::parse(r.body)["csrf"].template get<std::string>()};
  }
  Reply act(const std::pair<std::string, std::string>& session, const std::string& path,
            const json& body) {
    return this->request("POST", path,
                   session.first + "X-CSRF-Token: " + session.second +
                       "\r\nContent-Type: application/json\r\n",
                   body.dump());
  }
  json audit() { return json::parse(this->cli({"audit"})); }

  std::unique_ptr<SignWorker> worker_;
  std::int64_t hold_ = 0;
};

}  // namespace depot::app::test_console
