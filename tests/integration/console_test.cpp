// The console (issue 16 items 1, 5, 6) through the real daemon binary: /metrics after scans
// through a TCP scanner, /healthz 200 and 503 (a required scanner down), hostile clients
// (oversized headers and bodies, traversal targets, slow loris, a burst over the connection
// cap) that change nothing while a TCP scanner keeps committing scans, a real Prometheus
// scraping /metrics (its query API returns the outbox depth; promtool check metrics passes),
// and the retained MQTT status refreshed every mqtt.status_s with a clean offline body at
// stop. Every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <netinet/tcp.h>
#include <sys/time.h>
#include <sys/un.h>

#include <atomic>
#include <regex>
#include <thread>

#include "agent_process.hpp"
#include "drivers/sensor_test_support.hpp"
#include "harness.hpp"
#include "store/database.hpp"

namespace depot::itest {
namespace {

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the peer closes (or 5 s pass without a byte).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// One raw request on a fresh connection ("Connection: close"); the whole response.
std::string raw_http(int port, const std::string& request) {
  int fd = connect_to(port);
  if (fd < 0) return {};
  send_all(fd, request);
  auto out = read_all(fd);
  ::close(fd);
  return out;
}

struct Reply {
  int status = 0;
  std::string body;
};

Reply get(int port, const std::string& path) {
  auto r = raw_http(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  Reply out;
  if (r.size() > 12) out.status = std::atoi(r.substr(9, 3).c_str());
  if (auto p = r.find("\r\n\r\n"); p != std::string::npos) out.body = r.substr(p + 4);
  return out;
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.substr(9, 3).c_str()) : 0;
}

// A sample's value in Prometheus text ("name{labels} value"); -1 when absent.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// Sends scan lines to a TCP scanner, one connection.
bool tcp_scans(int port, const std::vector<std::string>& codes) {
  int fd = connect_to(port);
  if (fd < 0) return false;
  bool ok = true;
  for (const auto& c : codes) ok = ok && send_all(fd, c + "\n");
  ::close(fd);
  return ok;
}

std::string console_config(const std::string& db, int scan_port, int http_port,
                           const std::string& console_extra = "", const std::string& mqtt = "") {
  auto c = test::sample_config(db);
  c.pop_back();
  while (!c.empty() && (c.back() == '\n' || c.back() == ' ')) c.pop_back();
  c += R"(,
  "durability": {"batch_max_ms": 2},
  "scanners": [{"id": "pack-tcp", "role": "receive", "driver": "tcp", "port": )" +
       std::to_string(scan_port) + R"(, "double_read_ms": 0}],
  "console": {"listen": "127.0.0.1:)" +
       std::to_string(http_port) + "\"" + console_extra + "}";
  if (!mqtt.empty()) c += ",\n  \"mqtt\": " + mqtt;
  return c + "\n}\n";
}

// The first barcode of the sample catalog (a receive of 1).
std::string good_code() {
  auto cfg = nlohmann::json::parse(test::sample_config("x.db"));
  return cfg["catalog"][0]["barcodes"][0].get<std::string>();
}

class Console : public ::testing::Test {
 protected:
  // `extra`: more of the console section; `members`: more top-level members (",\n \"zones\"...").
  void start(const std::string& extra = "", const std::string& members = "") {
    scan_port_ = free_port();
    http_port_ = free_port();
    cfg_ = dir_.file("agent.json");
    auto c = console_config(dir_.file("depot.db"), scan_port_, http_port_, extra);
    if (!members.empty()) c = c.erase(c.rfind('}')) + members + "\n}\n";
    test::write_file(cfg_, c);
    agent_ = std::make_unique<Agent>(dir_, cfg_);
    agent_->start();
    ASSERT_TRUE(wait_for([&] { return agent_->log().find("ready:") != std::string::npos; }, 10s))
        << agent_->log();
    ASSERT_TRUE(wait_for([&] { return port_open(http_port_); }, 5s)) << agent_->log();
  }
  double movements() {
    return metric(get(http_port_, "/metrics").body,
                  "depot_scan_movements_total{scanner=\"pack-tcp\"}");
  }

  test::TempDir dir_;
  int scan_port_ = 0, http_port_ = 0;
  std::string cfg_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(Console, MetricsCountScansAndRejectsPerScannerAndTheOutbox) {
  start();
  const auto code = good_code();
  ASSERT_TRUE(tcp_scans(scan_port_, {code, code, code, "NOT-A-KNOWN-CODE"}));
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        text = get(http_port_, "/metrics").body;
        return metric(text, "depot_scan_movements_total{scanner=\"pack-tcp\"}") == 3 &&
               metric(text, "depot_scan_rejects_total{scanner=\"pack-tcp\"}") == 1;
      },
      10s))
      << text << agent_->log();
  EXPECT_EQ(metric(text, "depot_scans_total{scanner=\"pack-tcp\"}"), 4) << text;
  EXPECT_EQ(metric(text, "depot_scanner_up{scanner=\"pack-tcp\"}"), 1) << text;
  // Three movements waiting for the cloud (sync is off) on the movements stream.
  EXPECT_GE(metric(text, "depot_outbox_depth{stream=\"movements\"}"), 3) << text;
  EXPECT_GE(metric(text, "depot_outbox_oldest_age_seconds{stream=\"movements\"}"), 0) << text;
  EXPECT_GT(metric(text, "depot_database_bytes"), 0) << text;
  EXPECT_GT(metric(text, "depot_process_resident_bytes"), 0) << text;
  EXPECT_GE(metric(text, "depot_event_loop_lag_seconds"), 0) << text;
  EXPECT_EQ(metric(text, "depot_mqtt_enabled"), 0) << text;
  EXPECT_NE(text.find("# TYPE depot_scans_total counter"), std::string::npos) << text;
}

// The cold chain in /metrics: a zone in range and a zone in alarm (simulated probes), and the
// quiet readings retention.raw_every_s kept out of storage.
TEST_F(Console, MetricsShowZonesProbesAndOpenAlarms) {
  start("", R"(,
  "zones": [{"id": "chiller", "min_c": 2, "max_c": 8},
            {"id": "freezer", "max_c": -18, "alarm_delay_s": 0}],
  "sensors": [
    {"id": "p-chill", "zone": "chiller", "driver": "sim", "read_interval_s": 1,
     "sim": {"profile": "constant", "base_c": 5}},
    {"id": "p-freeze", "zone": "freezer", "driver": "sim", "read_interval_s": 1,
     "sim": {"profile": "constant", "base_c": -5}}],
  "retention": {"raw_every_s": 3})");
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        text = get(http_port_, "/metrics").body;
        return metric(text, "depot_zone_level{zone=\"freezer\"}") == 2 &&
               metric(text, "depot_probe_online{zone=\"chiller\",probe=\"p-chill\"}") == 1 &&
               metric(text, "depot_probe_readings_not_stored_total") >= 1;
      },
      15s))
      << text << agent_->log();
  EXPECT_EQ(metric(text, "depot_zone_level{zone=\"chiller\"}"), 0) << text;
  EXPECT_EQ(metric(text, "depot_probe_celsius{zone=\"chiller\",probe=\"p-chill\"}"), 5) << text;
  EXPECT_EQ(metric(text, "depot_probe_celsius{zone=\"freezer\",probe=\"p-freeze\"}"), -5) << text;
  EXPECT_GE(metric(text, "depot_probe_readings_total{zone=\"chiller\",probe=\"p-chill\"}"), 1);
  EXPECT_EQ(metric(text, "depot_alarms_open"), 1) << text;
  EXPECT_EQ(metric(text, "depot_zone_no_data{zone=\"chiller\"}"), 0) << text;
}

// A probe read that never returns (a hung 1-Wire bus: a FIFO as w1_slave) in the daemon: the
// other w1 probe stays online, the hung read is counted on /metrics once past its 10 s
// deadline, and the daemon still stops at once.
TEST_F(Console, AHungProbeReadIsCountedAndTheOtherProbeStaysOnline) {
  const auto w1 = dir_.file("w1");
  std::filesystem::create_directories(w1 + "/28-00000000000a");
  ASSERT_EQ(::mkfifo((w1 + "/28-00000000000a/w1_slave").c_str(), 0600), 0);
  test::put(w1 + "/28-00000000000b/w1_slave", test::w1_text(4250));
  start("", R"(,
  "zones": [{"id": "chiller", "min_c": 2, "max_c": 8}],
  "sensors": [
    {"id": "p-hung", "zone": "chiller", "driver": "w1", "read_interval_s": 1,
     "w1": {"root": ")" + w1 + R"(", "device": "28-00000000000a"}},
    {"id": "p-ok", "zone": "chiller", "driver": "w1", "read_interval_s": 1,
     "w1": {"root": ")" + w1 + R"(", "device": "28-00000000000b"}}])");
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        text = get(http_port_, "/metrics").body;
        return metric(text, "depot_probe_reads_abandoned_total") >= 1;
      },
      25s))
      << text << agent_->log();
  EXPECT_EQ(metric(text, "depot_probe_reads_abandoned_total"), 1) << text;
  EXPECT_EQ(metric(text, "depot_probe_online{zone=\"chiller\",probe=\"p-ok\"}"), 1) << text;
  EXPECT_EQ(metric(text, "depot_probe_celsius{zone=\"chiller\",probe=\"p-ok\"}"), 4.25) << text;
  using ::testing::HasSubstr;
  EXPECT_THAT(agent_->log(), HasSubstr("probe p-hung: read of " + w1 +
                                       "/28-00000000000a/w1_slave has not returned after 10 s"));
  EXPECT_THAT(agent_->log(), ::testing::Not(HasSubstr("probe p-ok probe_offline")));
}

// The real daemon before accounts are wired (issue 16 item 2): the console's pages are served,
// but every sign-in and every /api/ route is refused, so nothing is exposed unauthenticated.
TEST_F(Console, TheDaemonServesThePagesAndRefusesEveryApiRouteUntilAccountsExist) {
  scan_port_ = free_port();
  http_port_ = free_port();
  cfg_ = dir_.file("agent.json");
  test::write_file(cfg_, console_config(dir_.file("depot.db"), scan_port_, http_port_));
  agent_ = std::make_unique<Agent>(dir_, cfg_);
  agent_->start();
  ASSERT_TRUE(wait_for([&] { return port_open(http_port_); }, 10s)) << agent_->log();
  auto page = get(http_port_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/console/app.js"), std::string::npos);
  for (const char* path : {"/api/stock", "/api/movements", "/api/rejects", "/api/reorders",
                           "/api/zones", "/api/alarms", "/api/holds", "/api/audit",
                           "/api/overview", "/api/events", "/api/session"})
    EXPECT_EQ(get(http_port_, path).status, 401) << path;
  auto login = raw_http(http_port_,
                        "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Content-Type: application/json\r\nContent-Length: 36\r\n\r\n"
                        "{\"user\":\"admin\",\"password\":\"admin\"}  ");
  EXPECT_EQ(login.rfind("HTTP/1.1 401", 0), 0u) << login;
  EXPECT_EQ(login.find("Set-Cookie"), std::string::npos) << login;
}

// Issue 15's third door: a freezer alarm open in the running daemon is acknowledged through its
// console by a quality account (made with `users add`), signed with her password typed again;
// the daemon applies it at its tick and `alarms --json` names her. An operator's wrong password
// is refused and changes nothing.
TEST_F(Console, AnOpenAlarmIsAcknowledgedThroughTheConsoleByASignedAccount) {
  scan_port_ = free_port();
  http_port_ = free_port();
  cfg_ = dir_.file("agent.json");
  auto c = console_config(dir_.file("depot.db"), scan_port_, http_port_);
  c.erase(c.rfind('}'));
  c += R"(,
  "zones": [{"id": "freezer", "max_c": -18, "alarm_delay_s": 0}],
  "sensors": [{"id": "p-freeze", "zone": "freezer", "driver": "sim", "read_interval_s": 1,
               "sim": {"profile": "constant", "base_c": -5}}]
}
)";
  test::write_file(cfg_, c);
  const auto pw = dir_.file("pw");
  test::write_file(pw, "cold-store-7\n");
  for (auto [id, role] : {std::pair{"qa.lee", "quality"}, std::pair{"op.kim", "operator"}})
    ASSERT_EQ(test::run_agent({"users", "add", id, "--role", role, "--name", id,
                               "--password-file", pw, "-c", cfg_})
                  .code,
              0);
  agent_ = std::make_unique<Agent>(dir_, cfg_);
  agent_->start();
  ASSERT_TRUE(wait_for([&] { return port_open(http_port_); }, 10s)) << agent_->log();
  auto open_unacked = [&] {
    auto r = test::run_agent({"alarms", "--json", "-c", cfg_});
    int n = 0;
    if (r.code == 0)
      for (const auto& x : nlohmann::json::parse(r.out))
        n += x.value("open", false) && x.contains("acknowledged") && x["acknowledged"].is_null();
    return n;
  };
  ASSERT_TRUE(wait_for([&] { return open_unacked() == 1; }, 20s)) << agent_->log();

  auto post = [&](const std::string& path, const std::string& headers, const std::string& body) {
    return raw_http(http_port_, "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                    headers + "Content-Type: application/json\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  auto session = [&](const std::string& user) {
    auto r = post("/api/login", "", R"({"user":")" + user + R"(","password":"cold-store-7"})");
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
    auto at = r.find("Set-Cookie: ");
    auto cookie = r.substr(at + 12, r.find(';', at) - at - 12);
    auto csrf = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4))["csrf"].get<std::string>();
    return "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n";
  };
  // The first sign-in opens the signing thread's connection. It marked every configured SKU
  // inactive (it applied the daemon's freed, empty catalog): the cloud's orders were refused.
  auto stranger = post("/api/login", "", R"({"user":"ghost","password":"nope-nope-nope"})");
  EXPECT_EQ(stranger.rfind("HTTP/1.1 401", 0), 0u) << stranger;
  const auto op = session("op.kim");
  {
    auto stock = nlohmann::json::parse(test::run_agent({"stock", "--json", "-c", cfg_}).out);
    ASSERT_FALSE(stock.empty());
    for (const auto& line : stock) EXPECT_EQ(line["active"], true) << line.dump();
  }
  auto wrong = post("/api/alarms/ack", op,
                    R"({"zone":"freezer","comment":"door shut","password":"not-it-at-all"})");
  EXPECT_EQ(wrong.rfind("HTTP/1.1 403", 0), 0u) << wrong;
  EXPECT_EQ(open_unacked(), 1);
  const auto qa = session("qa.lee");
  auto ok = post("/api/alarms/ack", qa,
                 R"({"zone":"freezer","comment":"door left open; shut, product checked",)"
                 R"("root_cause":"door alarm missing; added to the round","password":"cold-store-7"})");
  ASSERT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok << agent_->log();
  auto answer = nlohmann::json::parse(ok.substr(ok.find("\r\n\r\n") + 4));
  EXPECT_EQ(answer["result"]["applied"], true) << answer.dump();
  EXPECT_EQ(answer["signature"]["account"], "qa.lee");
  EXPECT_EQ(open_unacked(), 0);
  // Again, with nothing left: the running agent refuses it, and the answer is 404 (docs/api.md),
  // as with no agent running, not a bad request.
  auto again = post("/api/alarms/ack", qa,
                    R"({"zone":"freezer","comment":"again","password":"cold-store-7"})");
  EXPECT_EQ(again.rfind("HTTP/1.1 404", 0), 0u) << again;
  EXPECT_NE(again.find("has no unacknowledged alarm"), std::string::npos) << again;
  bool named = false;
  for (const auto& x : nlohmann::json::parse(test::run_agent({"alarms", "--json", "-c", cfg_}).out))
    named |= x.contains("acknowledged") && x["acknowledged"].is_object() &&
             x["acknowledged"].value("who", "") == "qa.lee";
  EXPECT_TRUE(named);
  // The trail: op.kim's refusal and qa.lee's acknowledgement, and the chain verifies.
  auto trail = test::run_agent({"audit", "--json", "-c", cfg_}).out;
  EXPECT_NE(trail.find("signature.refused"), std::string::npos);
  EXPECT_EQ(test::run_agent({"audit", "verify", "-c", cfg_}).code, 0);
}

// A machine (a fleet dashboard, a WMS poller) reads the API with a bearer token issued by
// `tokens add`: the JSON views and live updates answer it, it signs nothing, a wrong or revoked
// token is 401, and the database keeps only the token's SHA-256.
TEST_F(Console, ABearerTokenFromTokensAddReadsTheApiSignsNothingAndIsRevokedAtOnce) {
  scan_port_ = free_port();
  http_port_ = free_port();
  cfg_ = dir_.file("agent.json");
  test::write_file(cfg_, console_config(dir_.file("depot.db"), scan_port_, http_port_));
  auto issued = test::run_agent({"tokens", "add", "fleet-board", "-c", cfg_});
  ASSERT_EQ(issued.code, 0) << issued.err;
  const std::string token = issued.out.substr(0, issued.out.find('\n'));
  ASSERT_EQ(token.size(), 68u) << issued.out;
  EXPECT_EQ(token.rfind("dpt_", 0), 0u);
  EXPECT_EQ(test::run_agent({"tokens", "add", "fleet-board", "-c", cfg_}).code, 2);
  agent_ = std::make_unique<Agent>(dir_, cfg_);
  agent_->start();
  ASSERT_TRUE(wait_for([&] { return port_open(http_port_); }, 10s)) << agent_->log();
  auto with = [&](const std::string& method, const std::string& path, const std::string& t,
                  const std::string& body = "") {
    return raw_http(http_port_, method + " " + path +
                                    " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                    "Authorization: Bearer " + t +
                                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  auto status = [](const std::string& r) { return std::stoi(r.substr(9, 3)); };
  for (const char* path : {"/api/stock", "/api/movements", "/api/reorders", "/api/zones",
                           "/api/alarms", "/api/holds", "/api/audit", "/api/overview"})
    EXPECT_EQ(status(with("GET", path, token)), 200) << path;
  auto who = with("GET", "/api/session", token);
  auto me = nlohmann::json::parse(who.substr(who.find("\r\n\r\n") + 4));
  EXPECT_EQ(me["account"], "token:fleet-board");
  EXPECT_EQ(me["machine"], true);
  EXPECT_TRUE(me["csrf"].is_null());
  // It signs nothing, even with a password in the body.
  auto act = with("POST", "/api/holds/release", token, R"({"id":1,"why":"x","password":"y"})");
  EXPECT_EQ(status(act), 403) << act;
  EXPECT_NE(act.find("signs nothing"), std::string::npos) << act;
  // A wrong token, one character off, and a token-shaped guess are refused.
  auto off = token;
  off.back() = off.back() == '0' ? '1' : '0';
  EXPECT_EQ(status(with("GET", "/api/stock", off)), 401);
  EXPECT_EQ(status(with("GET", "/api/stock", "dpt_" + std::string(64, 'a'))), 401);
  EXPECT_EQ(status(with("GET", "/api/stock", "admin")), 401);
  // The database holds the SHA-256, not the token.
  auto db_bytes = read_file(dir_.file("depot.db")) + read_file(dir_.file("depot.db-wal"));
  EXPECT_NE(db_bytes.find("fleet-board"), std::string::npos);  // the files were read
  EXPECT_EQ(db_bytes.find(token.substr(4)), std::string::npos);
  // Revoked while the daemon runs: refused at the next request.
  auto revoked = test::run_agent({"tokens", "revoke", "fleet-board", "-c", cfg_});
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_EQ(status(with("GET", "/api/stock", token)), 401);
  auto list = nlohmann::json::parse(test::run_agent({"tokens", "list", "--json", "-c", cfg_}).out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "fleet-board");
  EXPECT_TRUE(list[0]["revoked_at"].is_string());
  auto trail = test::run_agent({"audit", "--json", "-c", cfg_}).out;
  EXPECT_NE(trail.find("tokens.add"), std::string::npos);
  EXPECT_NE(trail.find("tokens.revoke"), std::string::npos);
  EXPECT_EQ(trail.find(token.substr(4)), std::string::npos);
}

// Under systemd's watchdog (NOTIFY_SOCKET and WATCHDOG_USEC, as systemd sets them) the pings
// the loop sends are counted in /metrics; the TLS files may be systemd credentials.
TEST_F(Console, WatchdogPingsAreCountedAndTlsFilesMayBeCredentials) {
  const auto sock_path = dir_.file("notify.sock");
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  auto certs = make_certs(dir_);
  std::filesystem::create_directories(dir_.file("creds"));
  std::filesystem::copy_file(certs.server_cert, dir_.file("creds/console-cert"));
  std::filesystem::copy_file(certs.server_key, dir_.file("creds/console-key"));
  ::setenv("NOTIFY_SOCKET", sock_path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);  // a ping every 200 ms
  ::setenv("CREDENTIALS_DIRECTORY", dir_.file("creds").c_str(), 1);
  start(R"(, "tls_cert": "$CREDENTIALS_DIRECTORY/console-cert",
           "tls_key": "$CREDENTIALS_DIRECTORY/console-key")");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  const auto script = dir_.file("get.py");
  test::write_file(script,
                   "import ssl, sys, urllib.request\n"
                   "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
                   "r = urllib.request.urlopen(sys.argv[2], context=ctx, timeout=5)\n"
                   "print(r.read().decode())\n");
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(sh("python3 " + script + " " + certs.ca + " https://127.0.0.1:" +
               std::to_string(http_port_) + "/metrics > " + dir_.file("metrics.txt") + " 2>&1"),
            0)
      << read_file(dir_.file("metrics.txt"));
  EXPECT_GE(metric(read_file(dir_.file("metrics.txt")), "depot_watchdog_pings_total"), 3)
      << read_file(dir_.file("metrics.txt"));
  ::close(sock);
}

TEST_F(Console, HealthzIs200WhenWellAnd503WithTheReasonWhenAScannerIsDown) {
  start();
  auto ok = get(http_port_, "/healthz");
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto j = nlohmann::json::parse(ok.body);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["reasons"].empty());
  EXPECT_EQ(j["database"]["ok"], true);
  EXPECT_EQ(j["loop"]["ok"], true);
  EXPECT_EQ(j["scanners"]["pack-tcp"]["ok"], true);
  agent_->stop(SIGTERM);

  // The scanner's port is taken by someone else: the required driver is down.
  int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(squatter, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(squatter, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(squatter, reinterpret_cast<sockaddr*>(&a), &len);
  const int taken = ntohs(a.sin_port);
  const int http_port = free_port();
  test::write_file(cfg_, console_config(dir_.file("depot.db"), taken, http_port));
  Agent down(dir_, cfg_);
  down.start();
  ASSERT_TRUE(wait_for([&] { return port_open(http_port); }, 10s)) << down.log();
  Reply bad;
  ASSERT_TRUE(wait_for(
      [&] {
        bad = get(http_port, "/healthz");
        return bad.status == 503;
      },
      10s))
      << bad.status << " " << bad.body << down.log();
  auto b = nlohmann::json::parse(bad.body);
  EXPECT_EQ(b["ok"], false);
  ASSERT_FALSE(b["reasons"].empty());
  EXPECT_NE(b["reasons"][0].get<std::string>().find("scanner pack-tcp DOWN"), std::string::npos)
      << bad.body;
  EXPECT_EQ(b["scanners"]["pack-tcp"]["ok"], false) << bad.body;
  down.stop(SIGTERM);
  ::close(squatter);
}

TEST_F(Console, HostileClientsChangeNothingAndScansKeepBeingCommitted) {
  start(R"(, "max_connections": 4, "request_timeout_s": 1, "max_header_bytes": 2048,
           "max_body_bytes": 1024)");
  // A scanner keeps scanning through the whole attack: one scan every 20 ms.
  std::atomic<bool> attacking{true};
  std::atomic<int> sent{0};
  const auto code = good_code();
  std::thread scanner([&] {
    int fd = connect_to(scan_port_);
    while (attacking) {
      if (fd >= 0 && send_all(fd, code + "\n")) ++sent;
      std::this_thread::sleep_for(20ms);
    }
    if (fd >= 0) ::close(fd);
  });
  const auto db_before = read_file(dir_.file("agent.json"));

  // Oversized headers: 431; an oversized body: 413; neither reaches a handler.
  auto big_header =
      raw_http(http_port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(8192, 'a') +
                               "\r\n\r\n");
  EXPECT_EQ(status_of(big_header), 431) << big_header.substr(0, 200);
  auto big_body =
      raw_http(http_port_, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                               std::to_string(1 << 20) + "\r\n\r\n" + std::string(4096, 'b'));
  EXPECT_EQ(status_of(big_body), 413) << big_body.substr(0, 200);
  // Path traversal and odd targets: 400; unknown paths 404; wrong methods 405.
  for (std::string target : {"/../../etc/passwd", "/metrics/..", "/%2e%2e/etc/passwd", "/./metrics",
                             "//metrics", "/x\\..\\y"}) {
    auto r =
        raw_http(http_port_, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(r), 400) << target << ": " << r.substr(0, 200);
  }
  EXPECT_EQ(get(http_port_, "/etc/passwd").status, 404);
  auto del =
      raw_http(http_port_, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(del), 405) << del.substr(0, 200);
  EXPECT_NE(del.find("Allow: GET"), std::string::npos) << del.substr(0, 300);
  // Garbage instead of HTTP: 400.
  EXPECT_EQ(status_of(raw_http(http_port_, "\x16\x03\x01 not http at all\r\n\r\n")), 400);

  // Slow loris: a header line a byte at a time; the server drops it when the request
  // timeout (1 s) runs out, well before the client is done.
  {
    int fd = connect_to(http_port_);
    ASSERT_GE(fd, 0);
    send_all(fd, "GET /metrics HTTP/1.1\r\n");
    auto t0 = Clock::now();
    bool dropped = false;
    for (int i = 0; i < 40 && !dropped; ++i) {  // 40 x 100 ms: 4 s of trickling at most
      if (!send_all(fd, "X")) dropped = true;
      char c;
      auto n = ::recv(fd, &c, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) dropped = true;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(dropped) << "a slow-loris client was not dropped";
    EXPECT_LT(Clock::now() - t0, 3s);
    ::close(fd);
  }

  // A burst over the cap (4): 20 idle connections; those past the cap are closed at once,
  // the rest at the request timeout.
  std::vector<int> burst;
  for (int i = 0; i < 20; ++i) burst.push_back(connect_to(http_port_));
  std::this_thread::sleep_for(300ms);
  int closed_at_once = 0;
  for (int fd : burst) {
    char c;
    if (fd >= 0 && ::recv(fd, &c, 1, MSG_DONTWAIT) == 0) ++closed_at_once;
  }
  EXPECT_GE(closed_at_once, 16 - 1) << "connections past max_connections were not refused";
  for (int fd : burst)
    if (fd >= 0) ::close(fd);

  // After the attack: the console answers again, /healthz is well, the counters saw it all.
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = get(http_port_, "/metrics");
        text = r.body;
        return r.status == 200;
      },
      5s));
  attacking = false;
  scanner.join();
  ASSERT_GT(sent.load(), 20) << "the scanner thread did not scan during the attack";
  ASSERT_TRUE(wait_for([&] { return movements() == sent.load(); }, 10s))
      << "sent " << sent << ", committed " << movements() << "\n"
      << agent_->log();
  text = get(http_port_, "/metrics").body;
  EXPECT_GE(metric(text, "depot_console_bad_requests_total"), 9) << text;
  EXPECT_GE(metric(text, "depot_console_timeouts_total"), 1) << text;
  EXPECT_GE(metric(text, "depot_console_connections_refused_total"), 15) << text;
  EXPECT_LT(metric(text, "depot_event_loop_lag_max_seconds"), 2.0) << text;
  EXPECT_EQ(get(http_port_, "/healthz").status, 200);
  // Nothing was written by any of it: the config is as it was, no stray file appeared.
  EXPECT_EQ(read_file(dir_.file("agent.json")), db_before);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("passwd")));
  EXPECT_TRUE(agent_->running());
}

// console.tls_cert/tls_key: HTTPS with the configured certificate (verified against its CA by
// python3's ssl module); plain HTTP on that port gets nothing; a client that never finishes
// its handshake is dropped at the request timeout.
TEST_F(Console, TlsServesHttpsWithTheConfiguredCertificate) {
  auto certs = make_certs(dir_);
  start(R"(, "request_timeout_s": 1, "tls_cert": ")" + certs.server_cert + R"(", "tls_key": ")" +
        certs.server_key + "\"");
  const auto script = dir_.file("get.py");
  test::write_file(script,
                   "import ssl, sys, urllib.request\n"
                   "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
                   "r = urllib.request.urlopen(sys.argv[2], context=ctx, timeout=5)\n"
                   "print(r.status, r.read().decode())\n");
  EXPECT_EQ(sh("python3 " + script + " " + certs.ca + " https://127.0.0.1:" +
               std::to_string(http_port_) + "/healthz > " + dir_.file("https.out") + " 2>&1"),
            0)
      << read_file(dir_.file("https.out"));
  EXPECT_EQ(read_file(dir_.file("https.out")).rfind("200 {", 0), 0u)
      << read_file(dir_.file("https.out"));
  EXPECT_NE(get(http_port_, "/healthz").status, 200);
  int fd = connect_to(http_port_);
  ASSERT_GE(fd, 0);
  auto t0 = Clock::now();
  EXPECT_EQ(read_all(fd), "");  // closed by the server, not by our 5 s receive timeout
  EXPECT_LT(Clock::now() - t0, 3s);
  ::close(fd);
  EXPECT_TRUE(agent_->log().find("https://127.0.0.1:") != std::string::npos) << agent_->log();
}

// A real Prometheus scrapes /metrics every second from a running agent; its query API returns
// the outbox depth, and promtool check metrics accepts the scraped text.
TEST_F(Console, PrometheusScrapesMetricsAndItsQueryApiReturnsTheOutboxDepth) {
  if (::access("/usr/bin/prometheus", X_OK) != 0 || ::access("/usr/bin/promtool", X_OK) != 0)
    GTEST_SKIP() << "prometheus or promtool is not installed (Debian package prometheus; "
                    "scripts/bootstrap installs it)";
  start();
  const auto code = good_code();
  ASSERT_TRUE(tcp_scans(scan_port_, {code, code}));
  ASSERT_TRUE(wait_for([&] { return movements() == 2; }, 10s)) << agent_->log();

  // promtool check metrics on the scraped text.
  test::write_file(dir_.file("scrape.txt"), get(http_port_, "/metrics").body);
  EXPECT_EQ(sh("/usr/bin/promtool check metrics < " + dir_.file("scrape.txt") + " > " +
               dir_.file("promtool.log") + " 2>&1"),
            0)
      << read_file(dir_.file("promtool.log"));

  const int prom_port = free_port();
  test::write_file(dir_.file("prometheus.yml"),
                   "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n  - job_name: depot\n    static_configs:\n"
                   "      - targets: ['127.0.0.1:" +
                       std::to_string(http_port_) + "']\n");
  std::filesystem::create_directories(dir_.file("tsdb"));
  pid_t prom = spawn({"/usr/bin/prometheus", "--config.file=" + dir_.file("prometheus.yml"),
                      "--storage.tsdb.path=" + dir_.file("tsdb"),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                     dir_.file("prometheus.log"));
  ASSERT_GT(prom, 0);
  std::string answer;
  const bool found = wait_for(
      [&] {
        auto r =
            get(prom_port, "/api/v1/query?query=depot_outbox_depth%7Bstream%3D%22movements%22%7D");
        answer = r.body;
        if (r.status != 200) return false;
        auto j = nlohmann::json::parse(answer, nullptr, false);
        return !j.is_discarded() && j["status"] == "success" && !j["data"]["result"].empty() &&
               std::stod(j["data"]["result"][0]["value"][1].get<std::string>()) >= 2;
      },
      40s);
  stop_pid(prom, SIGTERM, 10000ms);
  EXPECT_TRUE(found) << answer << "\n" << read_file(dir_.file("prometheus.log"));
}

// Writes agent.json in `dir`: the console config with an mqtt section for the broker on
// `broker_port` (`mqtt_extra`: more of it, ", \"status_s\": 1"); returns its path.
std::string cloud_console_config(const test::TempDir& dir, int broker_port, int scan_port,
                                 int http_port, const std::string& mqtt_extra) {
  const auto cfg = dir.file("agent.json");
  test::write_file(cfg, console_config(dir.file("depot.db"), scan_port, http_port, "",
                                       R"({"host": "127.0.0.1", "port": )" +
                                           std::to_string(broker_port) + mqtt_extra + "}"));
  return cfg;
}

// The retained status: refreshed every mqtt.status_s with queue depths, link, disk, health,
// version and config hash; a clean stop publishes offline with clean:true and a timestamp.
TEST(ConsoleStatus, RetainedStatusIsRefreshedEveryStatusSAndACleanStopSaysSo) {
  test::TempDir dir;
  Broker broker(dir);
  broker.start();
  Cloud cloud(broker.port());
  const int scan_port = free_port(), http_port = free_port();
  const auto cfg =
      cloud_console_config(dir, broker.port(), scan_port, http_port, R"(, "status_s": 1)");
  Agent agent(dir, cfg);
  agent.start();
  auto online = [&] {
    std::vector<nlohmann::json> out;
    for (auto& m : cloud.on("/status")) {
      auto j = nlohmann::json::parse(m.payload);
      if (j["state"] == "online") out.push_back(j);
    }
    return out;
  };
  ASSERT_TRUE(wait_for([&] { return online().size() >= 3; }, 10s)) << agent.log();
  auto st = online().back();
  EXPECT_TRUE(st["queue"].is_object()) << st;
  EXPECT_EQ(st["link"]["connected"], true) << st;
  EXPECT_EQ(st["link"]["connects"], 1) << st;
  EXPECT_EQ(st["disk"]["budget_bytes"], 256LL * 1024 * 1024) << st;
  EXPECT_GT(st["disk"]["database_bytes"].get<std::int64_t>(), 0) << st;
  EXPECT_EQ(st["status_s"], 1) << st;
  EXPECT_EQ(st["config_sha256"].get<std::string>().size(), 64u) << st;
  EXPECT_FALSE(st["version"].get<std::string>().empty()) << st;
  EXPECT_EQ(st["health"]["ok"], true) << st;
  EXPECT_EQ(st["health"]["scanners"]["pack-tcp"]["ok"], true) << st;
  // The timestamps move: each one is a fresh publish, not the connect-time copy.
  EXPECT_NE(online().front()["ts"], st["ts"]);
  // /metrics sees the same link, and the PUBACKs of scans published through it.
  ASSERT_TRUE(tcp_scans(scan_port, {good_code(), good_code()}));
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        text = get(http_port, "/metrics").body;
        return metric(text, "depot_mqtt_records_acknowledged_total") >= 2;
      },
      10s))
      << text << agent.log();
  EXPECT_EQ(metric(text, "depot_mqtt_connected"), 1) << text;
  EXPECT_EQ(metric(text, "depot_mqtt_connects_total"), 1) << text;
  EXPECT_EQ(metric(text, "depot_mqtt_reconnects_total"), 0) << text;
  EXPECT_GE(metric(text, "depot_mqtt_messages_published_total"), 1) << text;
  EXPECT_GE(metric(text, "depot_mqtt_last_puback_age_seconds"), 0) << text;
  EXPECT_LT(metric(text, "depot_mqtt_last_puback_age_seconds"), 10) << text;
  EXPECT_EQ(metric(text, "depot_outbox_budget_bytes"), 256.0 * 1024 * 1024) << text;
  // /healthz and the status say the same where they overlap.
  auto hz = nlohmann::json::parse(get(http_port, "/healthz").body);
  EXPECT_EQ(hz["store"].size(), st["health"]["store"].size());
  EXPECT_EQ(hz["store"]["failing"], st["health"]["store"]["failing"]);
  EXPECT_EQ(hz["problems"], st["health"]["problems"]);
  EXPECT_EQ(hz["scanners"]["pack-tcp"]["ok"], st["health"]["scanners"]["pack-tcp"]["ok"]);
  EXPECT_EQ(hz["link"]["connected"], st["link"]["connected"]);

  agent.stop(SIGTERM);
  ASSERT_TRUE(wait_for(
      [&] {
        auto s = cloud.on("/status");
        return !s.empty() && nlohmann::json::parse(s.back().payload)["state"] == "offline";
      },
      5s));
  auto off = nlohmann::json::parse(cloud.on("/status").back().payload);
  EXPECT_EQ(off["clean"], true) << off;
  EXPECT_TRUE(off["ts"].is_string()) << off;
  // Every status against docs/schemas/status.schema.json.
  {
    std::ofstream out(dir.file("messages.jsonl"));
    for (auto& m : cloud.on("/status"))
      out << nlohmann::json{{"topic", m.topic}, {"payload", nlohmann::json::parse(m.payload)}}
                 .dump()
          << "\n";
  }
  EXPECT_EQ(sh("python3 " DEPOT_SOURCE_DIR
               "/tests/integration/validate_messages.py " DEPOT_SOURCE_DIR "/docs/schemas " +
               dir.file("messages.jsonl") + " > " + dir.file("validate.log") + " 2>&1"),
            0)
      << read_file(dir.file("validate.log"));
  // A subscriber that comes later sees the same, retained.
  Cloud late(broker.port(), "cloud-late");
  ASSERT_TRUE(wait_for([&] { return !late.on("/status").empty(); }, 5s));
  auto retained = late.on("/status").back();
  EXPECT_TRUE(retained.retained);
  EXPECT_EQ(nlohmann::json::parse(retained.payload)["clean"], true);
}

// A reload reads the config off the loop: a config given as a FIFO whose writer is slow held
// the loop for up to 10 s (no scan committed, no request answered); now a scan sent while the
// writer dawdles is committed, and the reload is applied when the writer finishes.
TEST(ConsoleReload, ASlowConfigPipeOnSighupDoesNotHoldTheLoop) {
  test::TempDir dir;
  const int scan_port = free_port(), http_port = free_port();
  const auto cfg = dir.file("agent.json");
  const auto config = console_config(dir.file("depot.db"), scan_port, http_port);
  test::write_file(cfg, config);
  Agent agent(dir, cfg);
  agent.start();
  // (SIGHUP is handled from the ready: line on; before it, it would end the process)
  ASSERT_TRUE(wait_for([&] { return agent.log().find("ready:") != std::string::npos; }, 10s))
      << agent.log();
  // The config becomes a FIFO, held open here for writing (O_RDWR never blocks on Linux): the
  // reload finds a writer, reads the first half, and waits for the rest.
  ASSERT_EQ(::unlink(cfg.c_str()), 0);
  ASSERT_EQ(::mkfifo(cfg.c_str(), 0600), 0);
  const int fd = ::open(cfg.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const auto half = config.size() / 2;
  ASSERT_EQ(::write(fd, config.data(), half), static_cast<ssize_t>(half));
  ::kill(agent.pid(), SIGHUP);
  std::this_thread::sleep_for(500ms);  // the reload is reading
  EXPECT_TRUE(tcp_scans(scan_port, {good_code()}));
  std::string text;
  EXPECT_TRUE(wait_for(
      [&] {
        text = get(http_port, "/metrics").body;
        return metric(text, "depot_scan_movements_total{scanner=\"pack-tcp\"}") == 1;
      },
      5s))
      << "the scan was not committed while the config was being read\n" << text << agent.log();
  EXPECT_EQ(agent.log().find("reloaded " + cfg), std::string::npos) << agent.log();
  EXPECT_EQ(::write(fd, config.data() + half, config.size() - half),
            static_cast<ssize_t>(config.size() - half));
  ::close(fd);
  EXPECT_TRUE(
      wait_for([&] { return agent.log().find("reloaded " + cfg) != std::string::npos; }, 10s))
      << agent.log();
  agent.stop(SIGTERM);
}

// A reload whose catalog cannot be written is refused as a whole: the running config's hash
// (status, config.get, the audit) stays the old one. It moved before the catalog was written.
TEST(ConsoleReload, AReloadWhoseCatalogCannotBeWrittenKeepsTheRunningConfigsHash) {
  test::TempDir dir;
  const int scan_port = free_port(), http_port = free_port();
  const auto cfg = dir.file("agent.json"), db_path = dir.file("depot.db");
  const auto config = console_config(db_path, scan_port, http_port);
  test::write_file(cfg, config);
  Agent agent(dir, cfg);
  agent.start();
  ASSERT_TRUE(wait_for([&] { return agent.log().find("ready:") != std::string::npos; }, 10s))
      << agent.log();
  auto db = store::Database::open(db_path, {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto hash = [&] { return (*db)->meta("config_sha256").value().value_or(""); };
  const auto before = hash();
  ASSERT_EQ(before.size(), 64u);
  // The catalog write fails (as a full disk or an I/O error would).
  ASSERT_TRUE((*db)->exec("CREATE TRIGGER boom BEFORE UPDATE ON skus"
                          " BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
                  .ok());
  auto changed = nlohmann::json::parse(config);
  changed["catalog"][0]["name"] = "Renamed by the reload";
  test::write_file(cfg, changed.dump(2));
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(
      wait_for([&] { return agent.log().find("disk says no") != std::string::npos; }, 10s))
      << agent.log();
  EXPECT_EQ(hash(), before);
  EXPECT_THAT(agent.log(), ::testing::HasSubstr("reload refused: "));
  EXPECT_EQ(agent.log().find("reloaded " + cfg), std::string::npos) << agent.log();
  // Once the database takes it, the same file reloads and the hash moves.
  ASSERT_TRUE((*db)->exec("DROP TRIGGER boom").ok());
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(
      wait_for([&] { return agent.log().find("reloaded " + cfg) != std::string::npos; }, 10s))
      << agent.log();
  EXPECT_NE(hash(), before);
  EXPECT_EQ(hash().size(), 64u);
  agent.stop(SIGTERM);
}

// A reload that changes the replenishment profiles reaches every reader of the running config:
// the console's stock view computes with the new profile (as the engine and the CLI do), and a
// cloud catalog.upsert may name a profile the reload added. Both kept the start's profiles
// until a restart.
TEST(ConsoleReload, AReloadedPolicyIsWhatTheConsoleAndTheCloudDeskUse) {
  test::TempDir dir;
  Broker broker(dir);
  broker.start();
  Cloud cloud(broker.port());
  const int scan_port = free_port(), http_port = free_port();
  const auto cfg = cloud_console_config(dir, broker.port(), scan_port, http_port, "");
  auto config = nlohmann::json::parse(read_file(cfg));
  auto profile = [](int safety_days) {
    return nlohmann::json{{"lead_time_days", 7},
                          {"review_period_days", 7},
                          {"safety_days", safety_days},
                          {"suppliers", {{{"id", "s1"}, {"lead_time_days", 7}, {"unit_price", 2.5}}}}};
  };
  config["policies"] = {{"steady", profile(5)}};
  config["catalog"][0]["policy"] = "steady";
  config["catalog"][0]["daily_demand"] = 10;
  test::write_file(cfg, config.dump(2));
  auto issued = test::run_agent({"tokens", "add", "board", "-c", cfg});
  ASSERT_EQ(issued.code, 0) << issued.err;
  const std::string token = issued.out.substr(0, issued.out.find('\n'));
  Agent agent(dir, cfg);
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 10s)) << agent.log();
  auto console_row = [&] {
    auto r = raw_http(http_port, "GET /api/stock?sku=TINT HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\nAuthorization: Bearer " + token +
                                 "\r\n\r\n");
    auto rows = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
    return rows.at(0);
  };
  auto cli_row = [&] {
    auto r = test::run_agent({"stock", "-c", cfg, "--sku", "TINT", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out).at(0);
  };
  const auto before = console_row();
  EXPECT_EQ(before["safety_stock"], cli_row()["safety_stock"]) << before;
  // Twice the safety days, a second profile with a transfer source, and another time zone.
  auto fast = profile(2);
  fast["suppliers"].push_back(
      {{"id", "central"}, {"kind", "transfer"}, {"lead_time_days", 1}, {"unit_price", 0}});
  config["policies"] = {{"steady", profile(10)}, {"fast", fast}};
  config["site_timezone"] = "Asia/Shanghai";
  config["log_level"] = "debug";
  test::write_file(cfg, config.dump(2));
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(
      wait_for([&] { return agent.log().find("reloaded " + cfg) != std::string::npos; }, 10s))
      << agent.log();
  const auto after = console_row();
  EXPECT_NE(after["safety_stock"], before["safety_stock"]) << after;
  EXPECT_EQ(after["safety_stock"], cli_row()["safety_stock"]) << after;
  EXPECT_EQ(after["reorder_point"], cli_row()["reorder_point"]) << after;
  // The cloud names the profile the reload added.
  const std::string cmd = "depot/v1/test-site/gw-1/cmd/catalog.upsert";
  cloud.publish(cmd, R"({"id":"u-1","args":{"sku":"NEW","barcodes":["96385074"],"policy":"fast"}})");
  ASSERT_TRUE(
      wait_for([&] { return !cloud.on("/cmd/catalog.upsert/reply").empty(); }, 10s))
      << agent.log();
  auto reply = nlohmann::json::parse(cloud.on("/cmd/catalog.upsert/reply")[0].payload);
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  // ...and the transfer source it added.
  cloud.publish("depot/v1/test-site/gw-1/cmd/source.stock",
                R"({"id":"s-1","args":{"source":"central","stock":[{"sku":"TINT","qty":40}]}})");
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/cmd/source.stock/reply").empty(); }, 10s))
      << agent.log();
  reply = nlohmann::json::parse(cloud.on("/cmd/source.stock/reply")[0].payload);
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  // config.get reports the reloaded log level (its summary was the start's).
  cloud.publish("depot/v1/test-site/gw-1/cmd/config.get", R"({"id":"g-1"})");
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/cmd/config.get/reply").empty(); }, 10s))
      << agent.log();
  reply = nlohmann::json::parse(cloud.on("/cmd/config.get/reply")[0].payload);
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["result"]["log_level"], "debug") << reply.dump();
  // The site's days stay in one zone until a restart (the engine's and the cloud's alike).
  EXPECT_THAT(agent.log(), ::testing::HasSubstr("reload: site_timezone changes take effect at "
                                                "the next restart (the site's days stay those "
                                                "of \"UTC\")"));
  agent.stop(SIGTERM);
}

// Cloud commands in /metrics by outcome, and a command larger than 256 KiB refused by its
// size with a reply, over MQTT 3.1.1 (no receive limit there): one of 5 MB used to be copied
// and dropped by the inbound queue's 4 MiB bound without a reply.
TEST(ConsoleStatus, CloudCommandsAreCountedByOutcomeAndAnOversizedOneIsRefusedUnread) {
  test::TempDir dir;
  Broker broker(dir);
  broker.start();
  Cloud cloud(broker.port());
  const int scan_port = free_port(), http_port = free_port();
  const auto cfg =
      cloud_console_config(dir, broker.port(), scan_port, http_port, R"(, "protocol": "3.1.1")");
  Agent agent(dir, cfg);
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 10s)) << agent.log();
  const std::string cmd = "depot/v1/test-site/gw-1/cmd/";
  auto replies = [&] { return cloud.on("/cmd/snapshot.request/reply"); };
  auto command = [&](const std::string& payload) {
    const auto before = replies().size();
    cloud.publish(cmd + "snapshot.request", payload);
    EXPECT_TRUE(wait_for([&] { return replies().size() > before; }, 10s)) << agent.log();
    auto r = replies();
    return r.size() > before ? nlohmann::json::parse(r[before].payload) : nlohmann::json();
  };
  EXPECT_EQ(command(R"({"id":"m-1"})")["ok"], true);
  EXPECT_EQ(command(R"({"id":"m-1"})")["duplicate"], true);
  EXPECT_EQ(command(R"({"id":"m-2","args":{"x":1}})")["ok"], false);
  for (const std::size_t size : {std::size_t{300} * 1024, std::size_t{5} * 1024 * 1024}) {
    auto r = command(R"({"id":"m-big","pad":")" + std::string(size, 'x') + R"("})");
    EXPECT_EQ(r["ok"], false) << r.dump();
    EXPECT_TRUE(r["id"].is_null()) << r.dump();
    EXPECT_THAT(r["error"].get<std::string>(),
                ::testing::HasSubstr("bytes, more than the 262144 a command may have; it was not read"))
        << r.dump();
  }
  EXPECT_EQ(command(R"({"id":"m-3"})")["ok"], true);  // still answering
  const auto text = get(http_port, "/metrics").body;
  EXPECT_EQ(metric(text, "depot_commands_total{outcome=\"applied\"}"), 2) << text;
  EXPECT_EQ(metric(text, "depot_commands_total{outcome=\"duplicate\"}"), 1) << text;
  EXPECT_EQ(metric(text, "depot_commands_total{outcome=\"refused\"}"), 3) << text;
  EXPECT_EQ(metric(text, "depot_commands_dropped_total"), 0) << text;
  EXPECT_EQ(metric(text, "depot_command_replies_lost_total"), 0) << text;
  agent.stop(SIGTERM);
}

}  // namespace
}  // namespace depot::itest
