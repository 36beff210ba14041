// The console in a real browser: Debian's headless Chromium, driven through the DevTools
// protocol (a Boost.Beast WebSocket client, nothing from npm), loads the console from a real
// http::Server over a real SQLite file, signs in through the page's form (an injected
// verify_password), and finds the real stock figures and zone reading in the DOM; a zone event
// pushed by the live-update hub then shows without a reload. ctest label `chromium`; skipped
// (with the reason) where chromium is not installed. Chromium runs in its own process group,
// killed after 90 s at most.
#include <fcntl.h>
#include <signal.h>
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
    const int id = ++id_;
    json msg{{"id", id},
             {"method", "Runtime.evaluate"},
             {"params", {{"expression", expr}, {"returnByValue", true}, {"awaitPromise", true}}}};
    boost::system::error_code ec;
    ws_.write(boost::asio::buffer(msg.dump()), ec);
    if (ec) return json();
    for (;;) {
      boost::beast::flat_buffer buf;
      ws_.read(buf, ec);
      if (ec) return json();
      auto j = json::parse(boost::beast::buffers_to_string(buf.data()), nullptr, false);
      if (j.is_discarded() || j.value("id", 0) != id) continue;
      if (!j.contains("result") || !j["result"].contains("result")) return json();
      return j["result"]["result"].value("value", json());
    }
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
  pid_t chromium_ = -1;
  std::atomic<bool> done_{false};
  std::thread watchdog_;
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

TEST_F(ConsoleBrowser, SignsInThroughThePageAndShowsRealFiguresWithLiveUpdates) {
  if (chromium_path().empty())
    GTEST_SKIP() << "chromium is not installed (scripts/bootstrap installs it): the console is "
                    "not checked in a browser here";
  auto browser = start_chromium();
  ASSERT_FALSE(browser.empty()) << "chromium printed no DevTools address:\n"
                                << slurp(dir_.file("chromium.err"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(browser, m, std::regex("ws://127\\.0\\.0\\.1:(\\d+)/")));
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
  ASSERT_FALSE(page_ws.empty());
  DevTools dt;
  ASSERT_TRUE(dt.connect("127.0.0.1", dport, page_ws.substr(page_ws.find("/devtools/"))));

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

}  // namespace
}  // namespace depot::app
