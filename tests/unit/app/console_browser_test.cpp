// The console in a real browser: Debian's headless Chromium, driven through the DevTools
// protocol (a Boost.Beast WebSocket client, nothing from npm), loads the console from a real
// http::Server over a real SQLite file, signs in through the page's form (an injected
// verify_password), and finds the real stock figures and zone reading in the DOM; a zone event
// pushed by the live-update hub then shows without a reload. ctest label `chromium`; skipped
// (with the reason) where chromium is not installed. Chromium runs in its own process group,
// killed after 90 s at most.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "console_fixture.hpp"
#include "core/coldchain/excursion.hpp"
#include "store/coldchain_store.hpp"

namespace depot::app {
namespace {

using nlohmann::json;
using test_console::ConsoleApi;
using namespace std::chrono_literals;

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One DevTools page session over a WebSocket.
class DevTools {
 public:
  bool connect(const std::string& host, const std::string& port, const std::string& path) {
    boost::asio::ip::tcp::resolver r(io_);
    boost::system::error_code ec;
    auto eps = r.resolve(host, port, ec);
    if (ec) return false;
    boost::asio::connect(ws_.next_layer(), eps, ec);
    if (ec) return false;
    ws_.handshake(host + ":" + port, path, ec);
    return !ec;
  }
  // Runtime.evaluate (promises awaited); the value, or null on any failure.
  json eval(const std::string& expr) {
    auto r = call("Runtime.evaluate",
                  {{"expression", expr}, {"returnByValue", true}, {"awaitPromise", true}});
    if (!r.is_object() || !r.contains("result")) return json();
    return r["result"].value("value", json());
  }
  // Any DevTools method; its "result", or null.
  json call(const std::string& method, const json& params) {
    const int id = ++id_;
    json msg{{"id", id}, {"method", method}, {"params", params}};
    boost::system::error_code ec;
    ws_.write(boost::asio::buffer(msg.dump()), ec);
    if (ec) return json();
    for (;;) {
      boost::beast::flat_buffer buf;
      ws_.read(buf, ec);
      if (ec) return json();
      auto j = json::parse(boost::beast::buffers_to_string(buf.data()), nullptr, false);
      if (j.is_discarded() || j.value("id", 0) != id) continue;
      return j.contains("result") ? j["result"] : json();
    }
  }
  // Saves a PNG of the page as `name`.png in $DEPOT_SCREENSHOTS (default: ./console-screenshots,
  // i.e. build/dev/tests/console-screenshots under ctest): what a reviewer looks at.
  bool screenshot(const std::string& name) {
    auto r = call("Page.captureScreenshot", {{"format", "png"}});
    if (!r.contains("data") || !r["data"].is_string()) return false;
    const char* env = std::getenv("DEPOT_SCREENSHOTS");
    const std::string dir = env && *env ? env : "console-screenshots";
    ::mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/" + name + ".png", std::ios::binary) << base64_decode(r["data"]);
    return true;
  }
  static std::string base64_decode(const std::string& in) {
    std::string out;
    int val = 0, bits = -8;
    for (unsigned char c : in) {
      int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
      if (d < 0) continue;
      val = (val << 6) | d;
      bits += 6;
      if (bits >= 0) {
        out.push_back(static_cast<char>((val >> bits) & 0xff));
        bits -= 8;
      }
    }
    return out;
  }
  // Polls `expr` until it is true (or `limit` passes).
  bool wait_for(const std::string& expr, std::chrono::milliseconds limit = 15000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (eval("!!(" + expr + ")") == json(true)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_{io_};
  int id_ = 0;
};

// A GET on the DevTools HTTP port (the page list).
std::string devtools_get(const std::string& port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto p = out.find("\r\n\r\n");
  return p == std::string::npos ? "" : out.substr(p + 4);
}

class ConsoleBrowser : public ConsoleApi {
 protected:
  void TearDown() override {
    if (chromium_ > 0) {
      kill(-chromium_, SIGKILL);
      int st = 0;
      waitpid(chromium_, &st, 0);
    }
    if (watchdog_.joinable()) watchdog_.join();
    ConsoleApi::TearDown();
  }
  // Starts chromium on the console; the DevTools browser URL from its stderr, or "".
  std::string start_chromium() {
    const std::string err_file = dir_.file("chromium.err");
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int n = ::open("/dev/null", O_WRONLY);
      dup2(n, 1);
      dup2(e, 2);
      std::vector<std::string> all{chromium_path(),
                                   "--headless",
                                   "--disable-gpu",
                                   "--no-sandbox",
                                   "--no-first-run",
                                   "--disable-extensions",
                                   "--disable-dev-shm-usage",
                                   "--window-size=1024,768",
                                   "--remote-debugging-address=127.0.0.1",
                                   "--remote-debugging-port=0",
                                   "--user-data-dir=" + dir_.file("profile"),
                                   "http://127.0.0.1:" + std::to_string(port_) + "/"};
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    setpgid(pid, pid);
    chromium_ = pid;
    watchdog_ = std::thread([pid, this] {
      for (int i = 0; i < 900 && !done_; ++i) std::this_thread::sleep_for(100ms);
      if (!done_) kill(-pid, SIGKILL);
    });
    const std::regex ws_re("DevTools listening on (ws://[^\\s]+)");
    for (int i = 0; i < 300; ++i) {
      std::smatch m;
      auto text = slurp(err_file);
      if (std::regex_search(text, m, ws_re)) return m[1];
      std::this_thread::sleep_for(100ms);
    }
    return "";
  }
  // Chromium on the console and a DevTools session on its page (null with a test failure).
  std::unique_ptr<DevTools> open_page() {
    auto browser = start_chromium();
    EXPECT_FALSE(browser.empty()) << "chromium printed no DevTools address:\n"
                                  << slurp(dir_.file("chromium.err"));
    std::smatch m;
    if (!std::regex_search(browser, m, std::regex("ws://127\\.0\\.0\\.1:(\\d+)/"))) return nullptr;
    const std::string dport = m[1];
    std::string page_ws;
    for (int i = 0; i < 50 && page_ws.empty(); ++i) {
      auto list = json::parse(devtools_get(dport, "/json/list"), nullptr, false);
      if (list.is_array())
        for (const auto& t : list)
          if (t.value("type", "") == "page" &&
              t.value("url", "").find(std::to_string(port_)) != std::string::npos)
            page_ws = t.value("webSocketDebuggerUrl", "");
      if (page_ws.empty()) std::this_thread::sleep_for(100ms);
    }
    EXPECT_FALSE(page_ws.empty());
    if (page_ws.empty()) return nullptr;
    auto dt = std::make_unique<DevTools>();
    if (!dt->connect("127.0.0.1", dport, page_ws.substr(page_ws.find("/devtools/")))) return nullptr;
    return dt;
  }
  pid_t chromium_ = -1;
  std::atomic<bool> done_{false};
  std::thread watchdog_;
};

TEST_F(ConsoleBrowser, SignsInThroughThePageAndShowsRealFiguresWithLiveUpdates) {
  if (chromium_path().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/bootstrap installs it): the console is "
                    "not checked in a browser here";
  auto dt_ptr = open_page();
  ASSERT_TRUE(dt_ptr);
  DevTools& dt = *dt_ptr;

  // Not signed in: the sign-in form, and nothing else.
  ASSERT_TRUE(dt.wait_for("!document.getElementById('login').hidden"))
      << dt.eval("document.body.innerText");
  EXPECT_EQ(dt.eval("document.getElementById('stock').hidden"), json(true));
  // A wrong password is refused on the page.
  dt.eval(R"(document.getElementById('login-user').value = 'ana';
             document.getElementById('login-password').value = 'nope';
             document.getElementById('login-form').requestSubmit(); 1)");
  EXPECT_TRUE(dt.wait_for("document.getElementById('login-error').textContent.includes('wrong')"));
  EXPECT_EQ(dt.eval("document.getElementById('login').hidden"), json(false));
  // The right one.
  dt.eval(R"(document.getElementById('login-password').value = 'correct horse';
             document.getElementById('login-form').requestSubmit(); 1)");
  ASSERT_TRUE(dt.wait_for("!document.getElementById('overview').hidden"))
      << dt.eval("document.body.innerText");
  EXPECT_EQ(dt.eval("document.getElementById('who-name').textContent"), json("ana (quality)"));
  EXPECT_EQ(dt.eval("document.cookie"), json(""));  // HttpOnly: the script cannot read it

  // Stock: VAX received 40, picked 3.
  dt.eval("location.hash = '#stock'; 1");
  ASSERT_TRUE(dt.wait_for("document.querySelector('#stock-table tr[data-sku=\"VAX\"]')"))
      << dt.eval("document.body.innerText");
  auto cells = dt.eval(
      "Array.from(document.querySelector('#stock-table tr[data-sku=\"VAX\"]').cells)"
      ".map(c => c.textContent)");
  ASSERT_TRUE(cells.is_array()) << cells;
  EXPECT_EQ(cells[0], "VAX");
  EXPECT_EQ(cells[1], "Vaccine");
  EXPECT_EQ(cells[2], "37");  // on hand
  EXPECT_EQ(cells[5], "37");  // available

  // Cold chain: the zone's saved reading, its chart with both limits.
  dt.eval("location.hash = '#zones'; 1");
  ASSERT_TRUE(dt.wait_for("document.querySelector('#zone-list .zone[data-zone=\"pharma-1\"]')"));
  auto zone_text = dt.eval("document.querySelector('.zone[data-zone=\"pharma-1\"]').innerText");
  EXPECT_NE(zone_text.get<std::string>().find("p1: 5.4"), std::string::npos) << zone_text;
  EXPECT_EQ(
      dt.eval("document.querySelectorAll('.zone[data-zone=\"pharma-1\"] svg line.limit').length"),
      json(2));
  // A live event: the page shows it without a reload (the same document).
  dt.eval("window.__same_document = true; 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('live').textContent === 'live'"));
  on_loop([this] {
    hub_->publish("zone", {{"zone", "pharma-1"},
                           {"level", "alarm"},
                           {"min_c", 2},
                           {"max_c", 8},
                           {"probes", json::array({{{"id", "p1"},
                                                    {"state", "online"},
                                                    {"celsius", 9.7},
                                                    {"last", {{"wall_ms", 1700000060000}}}}})}});
    return 0;
  });
  EXPECT_TRUE(dt.wait_for(
      "document.querySelector('.zone[data-zone=\"pharma-1\"]').innerText.includes('p1: 9.7')"))
      << dt.eval("document.getElementById('zone-list').innerText");
  EXPECT_EQ(dt.eval("window.__same_document === true"), json(true));
  EXPECT_EQ(
      dt.eval("document.querySelectorAll('.zone[data-zone=\"pharma-1\"] svg circle.over').length"),
      json(1));  // 9.7 is over the 8 C limit
  done_ = true;
}

// Signed actions on the page: ana (quality, a real Argon2id account) signs in; a freezer alarm
// appears without a reload and she acknowledges it with a root cause; she releases part of a
// hold through the signing dialog with her password typed again (a wrong one is refused in the
// dialog); the figures, the notice, the database and the audit page show the signatures. bo
// (buyer) marks a proposal as ordered and may not release the hold. Screenshots of each step
// go to console-screenshots/.
class ConsoleBrowserSigned : public test_console::WithAccounts<ConsoleBrowser> {};

TEST_F(ConsoleBrowserSigned, AlarmAckHoldReleaseAndOrderAreSignedABuyerMayNotRelease) {
  if (chromium_path().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/bootstrap installs it)";
  auto dt_ptr = open_page();
  ASSERT_TRUE(dt_ptr);
  DevTools& dt = *dt_ptr;
  auto sign_in = [&](const char* user, const char* pass) {
    EXPECT_TRUE(dt.wait_for("!document.getElementById('login').hidden"));
    dt.eval(std::string("document.getElementById('login-user').value = '") + user +
            "'; document.getElementById('login-password').value = '" + pass +
            "'; document.getElementById('login-form').requestSubmit(); 1");
    return dt.wait_for(std::string("document.getElementById('who-name').textContent.startsWith('") +
                       user + " (')");
  };
  ASSERT_TRUE(sign_in("ana", "correct horse")) << dt.eval("document.body.innerText");
  dt.eval("location.hash = '#zones'; 1");
  ASSERT_TRUE(dt.wait_for("document.querySelector('#holds-table tbody tr')"));
  // Each zone links its audit report; the link, followed with the session, is the report.
  ASSERT_TRUE(dt.wait_for(
      "document.querySelector('.zone[data-zone=\"pharma-1\"] .report-links a')"));
  EXPECT_EQ(dt.eval("document.querySelector('.zone[data-zone=\"pharma-1\"] .report-links')"
                    ".innerText.trim()"),
            json("audit report: last 24 h 7 days 30 days"));
  auto report = dt.eval(
      "fetch(document.querySelectorAll('.zone[data-zone=\"pharma-1\"] .report-links a')[2].href)"
      ".then(async (r) => r.status + ' ' + r.headers.get('content-type') + ' ' +"
      " (await r.text()).includes('<h2>Quality holds'))");
  EXPECT_EQ(report, json("200 text/html; charset=utf-8 true"));
  dt.eval("window.__same_document = true; 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('live').textContent === 'live'"));

  // A freezer alarm appears without a reload: an excursion that ended unacknowledged is
  // recorded, and the agent's `alarm` event makes the page fetch the alarms again.
  on_loop([this] {
    coldchain::Excursion x;
    x.seq = 1;
    x.zone = "pharma-1";
    x.side = coldchain::Side::kHigh;
    x.limit_c = 8.0;
    x.start = {600'000'000'000, test_console::kNow - 3'600'000, false};
    x.end = coldchain::Instant{3'000'000'000'000, test_console::kNow - 1'200'000, false};
    x.peak_c = 10.0;
    x.peak_probe = "p1";
    x.degree_minutes = 57.5;
    x.out_of_range_ns = 2'100'000'000'000;
    x.alarmed = true;
    x.alarm_at = coldchain::Instant{2'400'000'000'000, test_console::kNow - 1'800'000, false};
    x.cause = coldchain::AlarmCause::kContinuous;
    auto rec = store::excursion_json(x, "pharma-1/high/run/1", 3'000'000'000'000);
    auto st = db_->transaction(
        [&] { return store::insert_excursion(*db_, rec, "closed", "2025-12-05T01:40:00.000Z"); });
    EXPECT_TRUE(st.ok()) << st.error().message;
    hub_->publish("alarm", {{"zone", "pharma-1"}, {"kind", "alarm"}});
    return 0;
  });
  const std::string ack =
      "document.querySelector('#alarms-table button[data-action=\"alarm-ack\"][data-id=\"pharma-1\"]')";
  ASSERT_TRUE(dt.wait_for(ack)) << dt.eval("document.getElementById('alarms-table').innerText");
  EXPECT_EQ(dt.eval("window.__same_document === true"), json(true));
  dt.screenshot("alarm-to-acknowledge");
  dt.eval(ack + ".click(); 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('sign').open"));
  EXPECT_EQ(dt.eval("document.getElementById('sign-meaning').textContent"), json("acknowledged"));
  dt.eval(R"(document.getElementById('sign-comment').value = 'door left ajar; product core 6.8 C, kept';
             document.getElementById('sign-root_cause').value = 'door closer broken; repaired';
             document.getElementById('sign-password').value = 'correct horse';
             document.getElementById('sign-form').requestSubmit(); 1)");
  ASSERT_TRUE(dt.wait_for("!document.getElementById('sign').open"))
      << dt.eval("document.getElementById('sign-error').textContent");
  EXPECT_TRUE(dt.wait_for("document.getElementById('notice').textContent.includes('acknowledged by ana')"))
      << dt.eval("document.getElementById('notice').textContent");
  // In the database: acknowledged late, by the account, with the root cause.
  bool acked = false;
  for (const auto& x : json::parse(cli({"alarms"})))
    if (x.value("id", "") == "pharma-1/high/run/1" && x["acknowledged"].is_object()) {
      acked = true;
      EXPECT_EQ(x["acknowledged"]["who"], "ana");
      EXPECT_EQ(x["acknowledged"]["root_cause"], "door closer broken; repaired");
    }
  EXPECT_TRUE(acked) << cli({"alarms"});
  EXPECT_TRUE(dt.wait_for("!" + ack)) << dt.eval("document.getElementById('alarms-table').innerText");
  const std::string release =
      "document.querySelector('#holds-table button[data-action=\"hold-release\"][data-id=\"" +
      std::to_string(hold_) + "\"]')";
  ASSERT_TRUE(dt.wait_for(release)) << dt.eval("document.getElementById('zones').innerText");
  dt.eval(release + ".click(); 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('sign').open"));
  EXPECT_EQ(dt.eval("document.getElementById('sign-meaning').textContent"), json("released"));
  EXPECT_EQ(dt.eval("document.getElementById('sign-signer').textContent"), json("ana"));
  // A wrong password: refused in the dialog, nothing released.
  dt.eval(R"(document.getElementById('sign-why').value = 'probe check: core 4.1 C';
             document.getElementById('sign-qty').value = '30';
             document.getElementById('sign-password').value = 'not her password';
             document.getElementById('sign-form').requestSubmit(); 1)");
  ASSERT_TRUE(dt.wait_for("document.getElementById('sign-error').textContent.includes('wrong')"))
      << dt.eval("document.getElementById('sign').innerText");
  dt.screenshot("sign-refused");
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 37);
  EXPECT_EQ(dt.eval("document.getElementById('sign-password').value"), json(""));
  // The right one.
  dt.eval(R"(document.getElementById('sign-password').value = 'correct horse';
             document.getElementById('sign-form').requestSubmit(); 1)");
  ASSERT_TRUE(dt.wait_for("!document.getElementById('sign').open"))
      << dt.eval("document.getElementById('sign-error').textContent");
  EXPECT_TRUE(dt.wait_for("document.getElementById('notice').textContent.includes('released by ana')"))
      << dt.eval("document.getElementById('notice').textContent");
  auto stock = json::parse(cli({"stock", "--sku", "VAX"}))[0];
  EXPECT_EQ(stock["held"], 7);
  EXPECT_EQ(stock["available"], 30);
  // The hold row shows 7 remaining.
  EXPECT_TRUE(dt.wait_for("Array.from(document.querySelectorAll('#holds-table tbody tr'))"
                          ".some(r => r.cells[4].textContent === '7')"))
      << dt.eval("document.getElementById('holds-table').innerText");
  dt.screenshot("hold-released");
  // The audit page names the account.
  dt.eval("location.hash = '#audit'; 1");
  EXPECT_TRUE(dt.wait_for("Array.from(document.querySelectorAll('#audit-table tbody tr'))"
                          ".some(r => r.cells[2].textContent === 'ana' && "
                          "r.cells[3].textContent === 'hold.release')"))
      << dt.eval("document.getElementById('audit-table').innerText");
  dt.screenshot("audit");

  // bo, a buyer, orders the proposal.
  dt.eval("document.getElementById('logout').click(); 1");
  ASSERT_TRUE(sign_in("bo", "buyer-pass-1"));
  dt.eval("location.hash = '#proposals'; 1");
  const std::string ordered =
      "document.querySelector('#proposals-table button[data-action=\"proposal-ack\"][data-id=\"P-tea-1\"]')";
  ASSERT_TRUE(dt.wait_for(ordered)) << dt.eval("document.getElementById('proposals').innerText");
  dt.eval(ordered + ".click(); 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('sign').open"));
  dt.eval(R"(document.getElementById('sign-order_number').value = 'PO-7731';
             document.getElementById('sign-password').value = 'buyer-pass-1';
             document.getElementById('sign-form').requestSubmit(); 1)");
  EXPECT_TRUE(dt.wait_for("document.getElementById('notice').textContent.includes('ordered by bo')"))
      << dt.eval("document.getElementById('sign-error').textContent");
  EXPECT_TRUE(dt.wait_for("Array.from(document.querySelectorAll('#proposals-table tbody tr'))"
                          ".some(r => r.cells[0].textContent === 'P-tea-1' && "
                          "r.cells[2].textContent.startsWith('acknowledged'))"))
      << dt.eval("document.getElementById('proposals-table').innerText");
  dt.screenshot("proposal-ordered");
  // A buyer may not release a hold: refused in the dialog, nothing changes.
  dt.eval("location.hash = '#zones'; 1");
  ASSERT_TRUE(dt.wait_for(release)) << dt.eval("document.getElementById('zones').innerText");
  dt.eval(release + ".click(); 1");
  ASSERT_TRUE(dt.wait_for("document.getElementById('sign').open"));
  dt.eval(R"(document.getElementById('sign-why').value = 'looks fine to me';
             document.getElementById('sign-password').value = 'buyer-pass-1';
             document.getElementById('sign-form').requestSubmit(); 1)");
  EXPECT_TRUE(dt.wait_for(
      "document.getElementById('sign-error').textContent.includes('may not sign hold.release')"))
      << dt.eval("document.getElementById('sign-error').textContent");
  dt.screenshot("buyer-refused");
  EXPECT_EQ(json::parse(cli({"stock", "--sku", "VAX"}))[0]["held"], 7);
  bool ordered_by_bo = false, acked_by_ana = false;
  for (const auto& e : audit()) {
    ordered_by_bo |= e["what"] == "reorder.ack" && e["who"] == "bo";
    acked_by_ana |= e["what"] == "alarm.ack" && e["who"] == "ana";
  }
  EXPECT_TRUE(ordered_by_bo);
  EXPECT_TRUE(acked_by_ana);
  done_ = true;
}

}  // namespace
}  // namespace depot::app
