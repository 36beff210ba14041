// End to end: the real daemon with all four scanner drivers configured at once — a named pipe
// (stdin driver), a TCP socket, a PTY (serial) and input_event records through a FIFO
// (evdev). Scans through each become committed movements with the right SKU, quantity, lot
// and expiry; control codes steer a station; a bad scan lands in the rejects table.
#include <fcntl.h>
#include <linux/input.h>
#include <pty.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using namespace std::chrono_literals;

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string key_events(const std::string& digits) {
  std::string out;
  auto ev = [&](std::uint16_t type, std::uint16_t code, std::int32_t value) {
    input_event e{};
    e.type = type, e.code = code, e.value = value;
    out.append(reinterpret_cast<const char*>(&e), sizeof e);
  };
  for (char c : digits) {
    auto code = static_cast<std::uint16_t>(c == '0' ? KEY_0 : KEY_1 + (c - '1'));
    ev(EV_KEY, code, 1), ev(EV_SYN, 0, 0), ev(EV_KEY, code, 0), ev(EV_SYN, 0, 0);
  }
  ev(EV_KEY, KEY_ENTER, 1), ev(EV_KEY, KEY_ENTER, 0);
  return out;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    auto n = ::write(fd, s.data() + off, s.size() - off);
    ASSERT_GT(n, 0) << std::strerror(errno);
    off += static_cast<std::size_t>(n);
  }
}

TEST(ScanEndToEnd, EveryDriverBecomesCommittedMovements) {
  test::TempDir dir;
  int master = -1, slave = -1;
  char pts[256];
  ASSERT_EQ(openpty(&master, &slave, pts, nullptr, nullptr), 0);
  ::close(slave);
  ASSERT_EQ(mkfifo(dir.file("hid").c_str(), 0600), 0);
  const auto port = free_port();
  const auto cfg = dir.file("agent.json");
  test::write_file(cfg, R"({
    "site": "e2e", "gateway": "gw-1", "database": "depot.db",
    "catalog": [
      {"sku": "TINT", "barcodes": ["4006381333931"], "cases": [{"barcode": "14006381333938", "qty": 12}]},
      {"sku": "MATCHA", "barcodes": ["5012345678900", "INT-MATCHA"]}
    ],
    "scanners": [
      {"id": "dock-pipe", "driver": "stdin", "role": "receive", "path": ")" + dir.file("scans") + R"("},
      {"id": "pack-tcp", "driver": "tcp", "role": "pick", "port": )" + std::to_string(port) + R"(},
      {"id": "returns-serial", "driver": "serial", "role": "return", "path": ")" + std::string(pts) + R"(",
       "baud": 9600, "terminator": "cr"},
      {"id": "pack-hid", "driver": "evdev", "role": "pick", "path": ")" + dir.file("hid") + R"("}
    ]})");
  test::AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("ready:", 10s)) << agent.log();

  // Dock: a GS1-128 case label with lot and expiry, through the named pipe.
  int pipe_fd = ::open(dir.file("scans").c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(pipe_fd, 0);
  write_all(pipe_fd, "]C10114006381333938\x1d" "10LT42\x1d" "17270331\n");
  ::close(pipe_fd);
  // Pack station over TCP: one unit, then QTY 3 and the unit again, then a misread.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(sock, boost::asio::buffer(std::string(
                               "4006381333931\nDA:QTY:3\n4006381333931\n4006381333932\n")));
  // Returns desk over serial: one tub of matcha by its internal code.
  write_all(master, "INT-MATCHA\r");
  // HID scanner: a matcha picked. (The FIFO stands in for the event node; opened read-write so
  // the open never waits for the driver, which reads whatever is in it.)
  int hid = ::open(dir.file("hid").c_str(), O_RDWR);
  ASSERT_GE(hid, 0);
  write_all(hid, key_events("5012345678900"));

  // Poll the ledger (bounded) until all five movements are committed.
  nlohmann::json ms;
  for (int i = 0; i < 250; ++i) {
    auto r = test::run_agent({"movements", "-c", cfg, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    ms = nlohmann::json::parse(r.out);
    if (ms.size() >= 5) break;
    std::this_thread::sleep_for(40ms);
  }
  ASSERT_EQ(ms.size(), 5u) << ms.dump(1) << "\n" << agent.log();
  std::map<std::string, std::vector<nlohmann::json>> by_source;
  for (const auto& m : ms) by_source[m["source"]].push_back(m);

  ASSERT_EQ(by_source["dock-pipe"].size(), 1u);
  const auto& dock = by_source["dock-pipe"][0];
  EXPECT_EQ(dock["sku"], "TINT");
  EXPECT_EQ(dock["kind"], "receive");
  EXPECT_EQ(dock["qty"], 12);
  EXPECT_EQ(dock["lot"], "LT42");
  EXPECT_EQ(dock["expiry"], "2027-03-31");

  ASSERT_EQ(by_source["pack-tcp"].size(), 2u);
  EXPECT_EQ(by_source["pack-tcp"][0]["qty"], -1);
  EXPECT_EQ(by_source["pack-tcp"][1]["qty"], -3);

  ASSERT_EQ(by_source["returns-serial"].size(), 1u);
  EXPECT_EQ(by_source["returns-serial"][0]["kind"], "return");
  EXPECT_EQ(by_source["returns-serial"][0]["sku"], "MATCHA");
  EXPECT_EQ(by_source["returns-serial"][0]["qty"], 1);

  ASSERT_EQ(by_source["pack-hid"].size(), 1u);
  EXPECT_EQ(by_source["pack-hid"][0]["kind"], "pick");
  EXPECT_EQ(by_source["pack-hid"][0]["sku"], "MATCHA");

  auto stock = nlohmann::json::parse(test::run_agent({"stock", "-c", cfg, "--json"}).out);
  EXPECT_EQ(stock[0]["sku"], "MATCHA");
  EXPECT_EQ(stock[0]["on_hand"], 0);   // +1 returned, -1 picked
  EXPECT_EQ(stock[1]["on_hand"], 8);   // 12 received, 4 picked

  auto rejects = nlohmann::json::parse(test::run_agent({"rejects", "-c", cfg, "--json"}).out);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0]["source"], "pack-tcp");
  EXPECT_EQ(rejects[0]["raw"], "4006381333932");
  EXPECT_EQ(rejects[0]["reason"], "barcode \"4006381333932\" fails the GTIN-13 check digit (expected 1)");

  ::close(hid);
  ::close(master);
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

TEST(ScanEndToEnd, UndoPostsACompensatingMovement) {
  test::TempDir dir;
  const auto cfg = dir.file("agent.json");
  test::write_file(cfg, R"({"site": "e2e", "gateway": "gw-1", "database": "depot.db",
    "catalog": [{"sku": "TINT", "barcodes": ["4006381333931"]}],
    "scanners": [{"id": "pipe", "driver": "stdin", "role": "pick", "double_read_ms": 0,
                  "path": ")" + dir.file("scans") + R"("}]})");
  test::AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("ready:", 10s)) << agent.log();
  int fd = ::open(dir.file("scans").c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  write_all(fd, "DA:QTY:4\n4006381333931\nDA:UNDO\nDA:UNDO\n");
  ::close(fd);
  ASSERT_TRUE(agent.wait_for_log("nothing to undo", 10s)) << agent.log();
  auto ms = nlohmann::json::parse(test::run_agent({"movements", "-c", cfg, "--json"}).out);
  ASSERT_EQ(ms.size(), 2u) << ms.dump(1);
  EXPECT_EQ(ms[0]["qty"], -4);
  EXPECT_EQ(ms[1]["kind"], "adjust");
  EXPECT_EQ(ms[1]["qty"], 4);
  EXPECT_EQ(ms[1]["reverses"], ms[0]["id"]);
  auto stock = nlohmann::json::parse(test::run_agent({"stock", "-c", cfg, "--json"}).out);
  EXPECT_EQ(stock[0]["on_hand"], 0);
  EXPECT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace depot
