// The console's JSON API and sessions (issue 16 items 4 and 2's hook) through a real
// http::Server on loopback over a real SQLite file: every read route gives byte for byte what
// the CLI's --json gives (one implementation), parameters are validated with the field, value
// and rule, limits are bounded, and every /api/ route refuses a request without a session or
// bearer token (401), a session's non-GET without its CSRF token (403), and an expired session.
#include "console_fixture.hpp"

namespace depot::app {
namespace {

using nlohmann::json;
using test_console::ConsoleApi;
using test_console::Reply;

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
           {"/api/movements?limit=0", "limit", "whole number from 1"},
           {"/api/movements?limit=5000", "limit", "from 1 to 1000 (rows per page)"},
           {"/api/movements?limit=ten", "limit", "whole number from 1"},
           {"/api/movements?limit=99999999999999999999999", "limit", "from 1 to 1000"},
           {"/api/stock?after=" + std::string(300, 'A'), "after", "1-128 characters"},
           {"/api/events?x=1", "x", "it takes none"},
           {"/api/rejects?since=yesterday", "since", "RFC 3339"},
           {"/api/audit?since=2026-13-45", "since", "RFC 3339"},
           {"/api/alarms?open=maybe", "open", "true or false"},
           {"/api/stock?color=red", "color", "not a parameter of /api/stock (sku, after, limit)"},
           {"/api/zones?x=1", "x", "it takes none"},
           {"/api/stock?sku=A&sku=B", "sku", "more than once"},
           {"/api/stock?sku=%ZZ", "query", "%-escape"},
           {"/api/stock?sku=NOPE", "sku", "unknown sku"},
           {"/api/movements?sku=NOPE", "sku", "unknown sku"}}) {
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
  // A member of the wrong type, or one the sign-in does not take: 400 naming it.
  auto typed = request("POST", "/api/login", "Content-Type: application/json\r\n",
                       R"({"user":7,"password":"x"})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_EQ(nlohmann::json::parse(typed.body)["field"], "user") << typed.body;
  // A user that cannot be an account id (a NUL, upper case): 400 naming the rule, not 401.
  auto nul = request("POST", "/api/login", "Content-Type: application/json\r\n",
                     R"({"user":"ana\u0000","password":"correct horse"})");
  EXPECT_EQ(nul.status, 400) << nul.body;
  EXPECT_EQ(nlohmann::json::parse(nul.body)["rule"],
            "\"ana\\x00\" is not an account id (1-64 of a-z 0-9 . _ -, starting with a letter)")
      << nul.body;
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: application/json\r\n",
                    R"({"user":"Ana","password":"correct horse"})")
                .status,
            400);
  auto extra = request("POST", "/api/login", "Content-Type: application/json\r\n",
                       R"({"user":"ana","pasword":"x"})");
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(nlohmann::json::parse(extra.body)["field"], "password") << extra.body;  // is required
  EXPECT_EQ(extra.header("Set-Cookie"), "");
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: text/plain\r\n",
                    R"({"user":"ana","password":"correct horse"})")
                .status,
            415);
  // The media type, not a prefix of the header: "application/jsonx" is not JSON.
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: application/jsonx\r\n",
                    R"({"user":"ana","password":"correct horse"})")
                .status,
            415);
  // Media types are compared without case, with parameters after ';' (RFC 9110 8.3.1).
  EXPECT_EQ(request("POST", "/api/login", "Content-Type: Application/JSON; charset=utf-8\r\n",
                    R"({"user":"ana","password":"correct horse"})")
                .status,
            200);
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

// Reads from `fd` until `needle` is in what was read (or 5 s pass without a byte).
std::string read_until(int fd, const std::string& needle, std::string got = {}) {
  char buf[4096];
  while (got.find(needle) == std::string::npos) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Opens GET /api/events with `cookie` on a fresh socket; the socket.
int open_events(ConsoleApi& t, const std::string& cookie, int rcvbuf = 0) {
  int fd = t.connect_socket(rcvbuf);
  std::string req = "GET /api/events HTTP/1.1\r\nHost: x\r\n" + cookie + "\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  return fd;
}

TEST_F(ConsoleApi, LiveEventsArriveOnAnOpenStreamWithHeartbeats) {
  auto [cookie, csrf] = login();
  EXPECT_EQ(request("GET", "/api/events").status, 401);
  int fd = open_events(*this, cookie);
  auto head = read_until(fd, "retry: 5000\n\n");
  ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  ASSERT_EQ(on_loop([this] { return hub_->clients(); }), 1u);
  // Past request_timeout (2 s) the stream is still open: heartbeats keep coming.
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  auto beat = read_until(fd, ": heartbeat\n\n");
  EXPECT_NE(beat.find(": heartbeat"), std::string::npos);
  on_loop([this] {
    hub_->publish("zone", {{"zone", "pharma-1"}, {"level", "alarm"}, {"celsius", 9.5}});
    return 0;
  });
  const std::string expected =
      "event: zone\ndata: {\"celsius\":9.5,\"level\":\"alarm\",\"zone\":\"pharma-1\"}\n\n";
  auto ev = read_until(fd, expected);
  EXPECT_NE(ev.find(expected), std::string::npos) << ev;
  ::close(fd);
  // The hub notices the client left (at the next push at the latest).
  for (int i = 0; i < 50 && on_loop([this] { return hub_->clients(); }) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(on_loop([this] { return hub_->clients(); }), 0u);
}

TEST_F(ConsoleApi, LiveClientsAreCapped) {
  auto [cookie, csrf] = login();
  int a = open_events(*this, cookie), b = open_events(*this, cookie);
  read_until(a, "retry");
  read_until(b, "retry");
  auto third = request("GET", "/api/events", cookie);
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_NE(third.body.find("too many live clients"), std::string::npos);
  ::close(a);
  for (int i = 0; i < 50 && on_loop([this] { return hub_->clients(); }) > 1; ++i) {
    on_loop([this] {
      hub_->publish("stock", {{"movements", 1}});
      return 0;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int c = open_events(*this, cookie);  // a place is free again
  EXPECT_EQ(read_until(c, "retry").rfind("HTTP/1.1 200", 0), 0u);
  ::close(b);
  ::close(c);
}

TEST_F(ConsoleApi, ASlowLiveClientIsDroppedAndMemoryStaysBounded) {
  auto [cookie, csrf] = login();
  int slow = open_events(*this, cookie, 4096);  // never reads after the head
  read_until(slow, "retry");
  int fast = open_events(*this, cookie);
  read_until(fast, "retry");
  const json big{{"zone", "pharma-1"}, {"pad", std::string(1000, 'x')}};
  std::uint64_t dropped = 0;
  std::string fast_got;
  // Up to 40 MB of events, 10 KB at a time (well under the 64 KiB a stream may queue); the
  // fast client reads them all as they come.
  for (int round = 0; round < 4000 && dropped == 0; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    dropped = on_loop([&] {
      for (int i = 0; i < 10; ++i) hub_->publish("zone", big);
      return server_->stats().streams_dropped;
    });
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fast, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
      fast_got.append(buf, static_cast<std::size_t>(n));
      if (fast_got.size() > 65536) fast_got.erase(0, fast_got.size() - 1024);
    }
  }
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(on_loop([this] { return hub_->clients(); }), 1u);  // the fast one stays
  EXPECT_EQ(on_loop([this] { return server_->stats().streams; }), 1u);
  // The fast client still gets events.
  on_loop([this] {
    hub_->publish("alarm", {{"open", 1}});
    return 0;
  });
  EXPECT_NE(read_until(fast, "event: alarm", fast_got).find("event: alarm"), std::string::npos);
  ::close(slow);
  ::close(fast);
}

TEST_F(ConsoleApi, PagesAreServedWithAStrictContentSecurityPolicy) {
  auto page = request("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Content-Security-Policy"), kConsoleCsp);
  EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("<script src=\"/console/app.js\""), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);  // nothing inline
  EXPECT_EQ(page.body.find("http"), std::string::npos);      // nothing from elsewhere
  auto js = request("GET", "/console/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("EventSource"), std::string::npos);
  EXPECT_EQ(request("GET", "/console/app.css").header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(request("GET", "/console/nope.js").status, 404);
  EXPECT_EQ(request("GET", "/console/../agent.json").status, 400);
  // The overview reads the health report and the outbox.
  auto [cookie, csrf] = login();
  auto o = json::parse(request("GET", "/api/overview", cookie).body);
  EXPECT_TRUE(o["health"].contains("ok"));
  EXPECT_TRUE(o["outbox"].is_object());
}

// A password check too slow for the loop (Argon2id) runs off it: the sign-in is answered when
// it is done, and meanwhile the loop answers everyone else.
class ConsoleApiSlowCheck : public ConsoleApi {
 protected:
  void configure(ConsoleSources& s) override {
    s.verify_password = nullptr;
    s.verify_password_async = [this](std::string user, std::string pass,
                                     std::function<void(Expected<Principal>)> done) {
      std::thread([this, user, pass, done] {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the hash
        boost::asio::post(io_, [user, pass, done] {
          if (user == "ana" && pass == "correct horse")
            done(Principal{"ana", "quality", ""});
          else
            done(Error{"wrong"});
        });
      }).detach();
    };
  }
};

TEST_F(ConsoleApiSlowCheck, SignInIsCheckedOffTheLoop) {
  std::pair<std::string, std::string> session;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point login_done;
  std::thread t([&] {
    session = login();
    login_done = std::chrono::steady_clock::now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(request("GET", "/console/app.css").status, 200);  // while the check runs
  auto other_done = std::chrono::steady_clock::now();
  t.join();
  EXPECT_LT(other_done, login_done);
  EXPECT_GE(login_done - t0, std::chrono::milliseconds(400));
  EXPECT_EQ(request("GET", "/api/stock?sku=VAX", session.first).status, 200);
  auto bad = request("POST", "/api/login", "Content-Type: application/json\r\n",
                     R"({"user":"ana","password":"wrong"})");
  EXPECT_EQ(bad.status, 401);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the detached checks finish
}

}  // namespace
}  // namespace depot::app
