// The scanner drivers against real kernel objects: a named pipe and a pipe on stdin for the
// stdin driver, real TCP sockets on loopback, a real PTY pair for the serial driver (behind a
// symlink, as /dev/serial/by-id is), and real `struct input_event` records through a FIFO
// for the evdev driver. Unplug is the far end closing; replug is a new far end.
#include <fcntl.h>
#include <linux/input.h>
#include <pty.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>

#include "scanner/scanner.hpp"
#include "scanner/tcp/tcp_scanner.hpp"
#include "test_support.hpp"

namespace depot::drivers {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct Recorder {
  std::vector<std::string> scans, rejects, status;
  ScanEvents events() {
    return {[this](std::string s) { scans.push_back(s); },
            [this](std::string h, std::string r) { rejects.push_back(h + "|" + r); },
            [this](bool err, std::string m) { status.push_back((err ? "E " : "I ") + m); }};
  }
  bool status_has(const std::string& needle) const {
    for (const auto& s : status)
      if (s.find(needle) != std::string::npos) return true;
    return false;
  }
};

// Runs the loop until `done` holds or `limit` passes; returns whether it held.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    io.restart();
    io.run_for(10ms);
  }
  return true;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    auto n = ::write(fd, s.data(), s.size());
    ASSERT_GT(n, 0) << std::strerror(errno);
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

TEST(StdinDriver, ANamedPipeOutlivesItsWriters) {
  test::TempDir dir;
  boost::asio::io_context io;
  Recorder rec;
  ScannerConfig cfg{.id = "fifo", .driver = StdinSettings{.path = dir.file("scans")}};
  auto s = make_scanner(io, cfg, rec.events());
  s->start();
  ASSERT_TRUE(std::filesystem::is_fifo(dir.file("scans"))) << "the driver creates the pipe";
  for (const char* batch : {"4006381333931\nINT-VC-001\n", "5012345678900\n"}) {
    int w = ::open(dir.file("scans").c_str(), O_WRONLY | O_NONBLOCK);
    ASSERT_GE(w, 0);
    write_all(w, batch);
    ::close(w);  // a writer going away is not the end of the pipe
    run_until(io, [&] { return rec.scans.size() >= 2; });
  }
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 3; }));
  EXPECT_EQ(rec.scans, (std::vector<std::string>{"4006381333931", "INT-VC-001", "5012345678900"}));
  s->stop();
}

TEST(StdinDriver, StandardInputThroughAPipe) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  int saved = dup(STDIN_FILENO);
  dup2(p[0], STDIN_FILENO);
  close(p[0]);
  boost::asio::io_context io;
  Recorder rec;
  auto s = make_scanner(io, {.id = "stdin", .driver = StdinSettings{}}, rec.events());
  s->start();
  dup2(saved, STDIN_FILENO);  // the driver holds its own duplicate
  close(saved);
  write_all(p[1], "A1\nB2");  // the last line has no newline
  close(p[1]);
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("closed"); }));
  EXPECT_EQ(rec.scans, (std::vector<std::string>{"A1", "B2"}));
  s->stop();
}

TEST(TcpDriver, SeveralClientsAtOnceEachLineIsAScan) {
  boost::asio::io_context io;
  Recorder rec;
  TcpScanner s(io, "tcp", TcpSettings{.port = 0, .max_clients = 2, .max_line = 32}, rec.events());
  s.start();
  ASSERT_NE(s.port(), 0);
  using boost::asio::ip::tcp;
  tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), s.port());
  tcp::socket a(io), b(io), c(io);
  a.connect(ep);
  b.connect(ep);
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("connected") && rec.status.size() >= 3; }));
  boost::asio::write(a, boost::asio::buffer(std::string("4006381333931\r\nINT-")));
  boost::asio::write(b, boost::asio::buffer(std::string("5012345678900\n")));
  boost::asio::write(a, boost::asio::buffer(std::string("VC-001\n")));
  boost::asio::write(b, boost::asio::buffer(std::string(40, '9') + "\nOK\n"));
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 4; }));
  EXPECT_THAT(rec.scans, ::testing::UnorderedElementsAre("4006381333931", "INT-VC-001",
                                                         "5012345678900", "OK"));
  ASSERT_EQ(rec.rejects.size(), 1u);
  EXPECT_THAT(rec.rejects[0], HasSubstr("line longer than 32 bytes"));
  // A third client is over max_clients and is refused with a logged reason.
  c.connect(ep);
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("max_clients"); }));
  s.stop();
}

TEST(TcpDriver, AnIdleClientIsDisconnected) {
  boost::asio::io_context io;
  Recorder rec;
  TcpScanner s(io, "tcp", TcpSettings{.port = 0, .idle_timeout_s = 1}, rec.events());
  s.start();
  boost::asio::ip::tcp::socket a(io);
  a.connect({boost::asio::ip::make_address("127.0.0.1"), s.port()});
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("idle for 1 s"); }, 4s));
  // The far end sees the close.
  char byte;
  boost::system::error_code ec;
  a.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
  s.stop();
}

TEST(TcpDriver, ListensOnLoopbackByDefault) {
  EXPECT_EQ(TcpSettings{}.listen, "127.0.0.1");
}

struct Pty {
  int master = -1;
  std::string slave;
  Pty() {
    int s = -1;
    char name[256];
    if (openpty(&master, &s, name, nullptr, nullptr) != 0) std::abort();
    slave = name;
    ::close(s);  // the driver opens the slave by path
  }
  ~Pty() {
    if (master >= 0) ::close(master);
  }
  void unplug() {
    ::close(master);
    master = -1;
  }
};

TEST(SerialDriver, ScansOverARealPtyAndSurvivesUnplug) {
  test::TempDir dir;
  auto link = dir.file("by-id-scanner");
  auto pty = std::make_unique<Pty>();
  std::filesystem::create_symlink(pty->slave, link);
  boost::asio::io_context io;
  Recorder rec;
  ScannerConfig cfg{.id = "ser", .driver = SerialSettings{.path = link, .baud = 115200,
                                                           .terminator = Terminator::kCr,
                                                           .reopen_max_s = 1}};
  auto s = make_scanner(io, cfg, rec.events());
  s->start();
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("opened"); }));
  write_all(pty->master, "4006381333931\r0104006381333931\x1d" "10LOT7\r");
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 2; }));
  EXPECT_EQ(rec.scans[1], "0104006381333931\x1d" "10LOT7");

  // Unplug: the device goes away; the driver says so and keeps trying.
  pty->unplug();
  std::filesystem::remove(link);
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("unplugged"); }));
  run_until(io, [] { return false; }, 300ms);
  // Replug: a new device appears at the same stable path.
  auto pty2 = std::make_unique<Pty>();
  std::filesystem::create_symlink(pty2->slave, link);
  const auto opened_before = std::count_if(rec.status.begin(), rec.status.end(),
                                           [](auto& m) { return m.find("opened") != std::string::npos; });
  ASSERT_TRUE(run_until(io, [&] {
    return std::count_if(rec.status.begin(), rec.status.end(),
                         [](auto& m) { return m.find("opened") != std::string::npos; }) > opened_before;
  }, 5s));
  write_all(pty2->master, "INT-VC-001\r");
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 3; }));
  EXPECT_EQ(rec.scans[2], "INT-VC-001");
  s->stop();
}

// Real input_event records, as the kernel delivers them from a HID keyboard-wedge scanner.
std::string key_events(const std::string& text) {
  std::string out;
  auto ev = [&](std::uint16_t type, std::uint16_t code, std::int32_t value) {
    input_event e{};
    e.type = type;
    e.code = code;
    e.value = value;
    out.append(reinterpret_cast<const char*>(&e), sizeof e);
  };
  auto key = [&](std::uint16_t code, bool shift) {
    if (shift) ev(EV_KEY, KEY_LEFTSHIFT, 1);
    ev(EV_MSC, MSC_SCAN, 0x70000);
    ev(EV_KEY, code, 1);
    ev(EV_SYN, SYN_REPORT, 0);
    ev(EV_KEY, code, 0);
    ev(EV_SYN, SYN_REPORT, 0);
    if (shift) ev(EV_KEY, KEY_LEFTSHIFT, 0);
  };
  static const std::string digits = "1234567890";
  for (char c : text) {
    if (c >= '1' && c <= '9') key(static_cast<std::uint16_t>(KEY_1 + (c - '1')), false);
    else if (c == '0') key(KEY_0, false);
    else if (c == '-') key(KEY_MINUS, false);
    else if (c == 'I') key(KEY_I, true);
    else if (c == 'N') key(KEY_N, true);
    else if (c == 'T') key(KEY_T, true);
    else if (c == 'V') key(KEY_V, true);
    else if (c == 'C') key(KEY_C, true);
  }
  ev(EV_KEY, KEY_ENTER, 1);
  ev(EV_KEY, KEY_ENTER, 2);  // an autorepeat: must not add anything
  ev(EV_KEY, KEY_ENTER, 0);
  return out;
}

TEST(EvdevDriver, InputEventsBecomeScansAndUnplugIsSurvived) {
  test::TempDir dir;
  auto path = dir.file("event-kbd");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  boost::asio::io_context io;
  Recorder rec;
  ScannerConfig cfg{.id = "hid", .driver = EvdevSettings{.path = path, .reopen_max_s = 1}};
  auto s = make_scanner(io, cfg, rec.events());
  s->start();
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("opened"); }));
  EXPECT_TRUE(rec.status_has("cannot grab")) << "a FIFO cannot be grabbed: said, not fatal";
  int w = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(w, 0);
  auto bytes = key_events("4006381333931") + key_events("INT-VC-001");
  // Deliver in odd-sized pieces: a record split across reads must still decode.
  for (std::size_t off = 0; off < bytes.size(); off += 37)
    write_all(w, std::string_view(bytes).substr(off, 37));
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 2; }));
  EXPECT_EQ(rec.scans, (std::vector<std::string>{"4006381333931", "INT-VC-001"}));
  ::close(w);  // unplug
  ASSERT_TRUE(run_until(io, [&] { return rec.status_has("unplugged"); }));
  // Replug: the node is back and a writer appears; the driver reopens on its own.
  int w2 = -1;
  for (int i = 0; i < 100 && w2 < 0; ++i) {
    w2 = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // succeeds once the driver reopened
    if (w2 < 0) run_until(io, [] { return false; }, 50ms);
  }
  ASSERT_GE(w2, 0);
  write_all(w2, key_events("5012345678900"));
  ASSERT_TRUE(run_until(io, [&] { return rec.scans.size() == 3; }));
  EXPECT_EQ(rec.scans[2], "5012345678900");
  ::close(w2);
  s->stop();
}

}  // namespace
}  // namespace depot::drivers
