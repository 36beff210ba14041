// The Modbus driver against a real Modbus TCP server run by the test with libmodbus (and an
// RTU server on a PTY): register decoding, holding vs input tables, 32-bit word orders, scale
// and offset, a server that goes away and comes back, a mute server (timeout) and an
// exception reply. Every wait is bounded.
#include "sensor/modbus/modbus_sensor.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "sensor_test_support.hpp"

namespace depot::drivers {
namespace {

using coldchain::ModbusSource;
using coldchain::ModbusTable;
using coldchain::ModbusType;
using coldchain::Quality;
using coldchain::Reading;
using coldchain::WordOrder;
using test::SensorRig;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A Modbus server in a thread: 100 holding and 100 input registers. TCP on 127.0.0.1:port, or
// RTU on a PTY (the driver opens the PTY's slave end, `rtu_device()`).
class ModbusServer {
 public:
  ModbusServer(const ModbusServer&) = delete;
  explicit ModbusServer(int port) : port_(port) { mapping_ = modbus_mapping_new(16, 16, 100, 100); }
  ModbusServer() : port_(0) { mapping_ = modbus_mapping_new(16, 16, 100, 100); }
  ~ModbusServer() {
    stop();
    modbus_mapping_free(mapping_);
    if (pty_master_ >= 0) ::close(pty_master_);
    if (pty_slave_ >= 0) ::close(pty_slave_);
  }

  void start_tcp() {
    ctx_ = modbus_new_tcp("127.0.0.1", port_);
    ASSERT_NE(ctx_, nullptr);
    listen_fd_ = modbus_tcp_listen(ctx_, 1);
    ASSERT_GE(listen_fd_, 0) << modbus_strerror(errno);
    stop_ = false;
    thread_ = std::thread([this] { serve_tcp(); });
  }

  // RTU unit `unit` on a new PTY; the driver opens rtu_device().
  void start_rtu(int unit) {
    char name[128];
    ASSERT_EQ(::openpty(&pty_master_, &pty_slave_, name, nullptr, nullptr), 0);
    termios t{};
    ::tcgetattr(pty_master_, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(pty_master_, TCSANOW, &t);
    rtu_device_ = name;
    ctx_ = modbus_new_rtu(rtu_device_.c_str(), 9600, 'N', 8, 1);
    ASSERT_NE(ctx_, nullptr);
    modbus_set_slave(ctx_, unit);
    modbus_set_socket(ctx_, pty_master_);  // the server speaks on the master end
    stop_ = false;
    thread_ = std::thread([this] { serve_rtu(); });
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_), listen_fd_ = -1;
    if (ctx_) {
      if (port_) modbus_close(ctx_);
      modbus_free(ctx_);
      ctx_ = nullptr;
    }
  }

  void holding(int addr, std::uint16_t v) {
    std::lock_guard<std::mutex> l(mu_);
    mapping_->tab_registers[addr] = v;
  }
  void input(int addr, std::uint16_t v) {
    std::lock_guard<std::mutex> l(mu_);
    mapping_->tab_input_registers[addr] = v;
  }
  void discrete(int addr, bool v) {
    std::lock_guard<std::mutex> l(mu_);
    mapping_->tab_input_bits[addr] = v;
  }
  void coil(int addr, bool v) {
    std::lock_guard<std::mutex> l(mu_);
    mapping_->tab_bits[addr] = v;
  }
  void mute(bool m) { mute_ = m; }
  const std::string& rtu_device() const { return rtu_device_; }
  int requests() const { return requests_; }

 private:
  void reply(const std::uint8_t* q, int len) {
    ++requests_;
    if (mute_) return;
    std::lock_guard<std::mutex> l(mu_);
    modbus_reply(ctx_, q, len, mapping_);
  }

  void serve_tcp() {
    int client = -1;
    while (!stop_) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {client, POLLIN, 0}};
      if (::poll(fds, client >= 0 ? 2 : 1, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        if (client >= 0) ::close(client);
        client = modbus_tcp_accept(ctx_, &listen_fd_);
        continue;
      }
      if (client >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        std::uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
        int rc = modbus_receive(ctx_, q);
        if (rc > 0) {
          reply(q, rc);
        } else if (rc < 0) {
          ::close(client);
          client = -1;
        }
      }
    }
    if (client >= 0) ::close(client);
  }

  void serve_rtu() {
    while (!stop_) {
      pollfd fd{pty_master_, POLLIN, 0};
      if (::poll(&fd, 1, 20) <= 0) continue;
      std::uint8_t q[MODBUS_RTU_MAX_ADU_LENGTH];
      int rc = modbus_receive(ctx_, q);
      if (rc > 0) reply(q, rc);
    }
  }

  int port_;
  modbus_t* ctx_ = nullptr;
  modbus_mapping_t* mapping_ = nullptr;
  int listen_fd_ = -1;
  int pty_master_ = -1, pty_slave_ = -1;
  std::string rtu_device_;
  std::thread thread_;
  std::mutex mu_;
  std::atomic<bool> stop_{false}, mute_{false};
  std::atomic<int> requests_{0};
};

ModbusSource tcp_source(int port, int reg) {
  ModbusSource s;
  s.host = "127.0.0.1";
  s.port = port;
  s.register_address = reg;
  s.timeout_ms = 1000;
  return s;
}

// A new driver's first good reading on `src` (its first reading when `good` is false, or the
// last one seen when no good one came within the bound: the assertions then show its reason).
Reading read_once(const ModbusSource& src, bool good = true) {
  SensorRig rig;
  ModbusSensor s(rig.io, rig.options("mb", 50ms), src, rig.events());
  s.start();
  if (good) {
    auto i = rig.wait_reading(
        0, [](const Reading& r) { return r.quality == Quality::kGood; }, 10s);
    if (i >= 0) return rig.readings[static_cast<std::size_t>(i)];
  } else {
    EXPECT_TRUE(rig.run_until([&] { return !rig.readings.empty(); }));
  }
  return rig.readings.empty() ? Reading{} : rig.readings.back();
}

TEST(ModbusDecodeTest, TypesWordOrdersScaleAndOffset) {
  ModbusSource s;
  EXPECT_DOUBLE_EQ(modbus_celsius(s, {0xFF38, 0}), -20.0);  // int16 -200 x 0.1
  s.type = ModbusType::kUint16;
  s.scale = 0.01;
  EXPECT_DOUBLE_EQ(modbus_celsius(s, {0xFF38, 0}), 653.36);  // 65336 x 0.01
  s.type = ModbusType::kInt32;
  EXPECT_DOUBLE_EQ(modbus_celsius(s, {0xFFFF, 0xF830}), -20.0);  // big: -2000 x 0.01
  s.word_order = WordOrder::kLittle;
  EXPECT_DOUBLE_EQ(modbus_celsius(s, {0xF830, 0xFFFF}), -20.0);
  s.type = ModbusType::kUint32;
  s.word_order = WordOrder::kBig;
  s.scale = 1;
  EXPECT_DOUBLE_EQ(modbus_celsius(s, {0x0001, 0x0000}), 65536.0);
  s.type = ModbusType::kUint16;
  s.scale = 0.1;
  s.offset_c = -273.1;  // a transmitter reporting decikelvin
  EXPECT_NEAR(modbus_celsius(s, {2731, 0}), 0.0, 1e-9);
}

TEST(ModbusSensorTest, Int16NegativeFromAHoldingRegister) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  server.holding(4, static_cast<std::uint16_t>(-185));
  auto r = read_once(tcp_source(port, 4));
  EXPECT_EQ(r.quality, Quality::kGood) << r.reason;
  EXPECT_DOUBLE_EQ(r.celsius, -18.5);
  EXPECT_EQ(r.probe, "mb");
}

TEST(ModbusSensorTest, Int32InBothWordOrders) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  // -123456 = 0xFFFE1DC0
  server.holding(10, 0xFFFE);
  server.holding(11, 0x1DC0);
  server.holding(20, 0x1DC0);
  server.holding(21, 0xFFFE);
  auto big = tcp_source(port, 10);
  big.type = ModbusType::kInt32;
  big.scale = 0.0001;
  auto little = big;
  little.register_address = 20;
  little.word_order = WordOrder::kLittle;
  auto a = read_once(big), b = read_once(little);
  EXPECT_EQ(a.quality, Quality::kGood) << a.reason;
  EXPECT_NEAR(a.celsius, -12.3456, 1e-9);
  EXPECT_EQ(b.quality, Quality::kGood) << b.reason;
  EXPECT_NEAR(b.celsius, -12.3456, 1e-9);
  // The same registers read in the wrong order give another number: the order matters.
  auto wrong = big;
  wrong.register_address = 20;
  auto w = read_once(wrong);
  EXPECT_EQ(w.quality, Quality::kGood) << w.reason;
  EXPECT_GT(std::abs(w.celsius + 12.3456), 1.0);
}

TEST(ModbusSensorTest, InputAndHoldingTablesAreDistinct) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  server.holding(4, static_cast<std::uint16_t>(-40));
  server.input(4, 40);
  auto holding = tcp_source(port, 4);
  auto input = holding;
  input.table = ModbusTable::kInput;
  EXPECT_DOUBLE_EQ(read_once(holding).celsius, -4.0);
  EXPECT_DOUBLE_EQ(read_once(input).celsius, 4.0);
}

// Door contacts: a discrete input (function 2) or a coil (function 1) reads one bit as 0/1,
// whatever the register settings say; a bit past the mapping is an exception, named.
TEST(ModbusSensorTest, ADoorContactOnADiscreteInputOrACoilReadsOneBit) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  server.discrete(3, true);
  server.coil(3, false);
  server.holding(3, 1234);
  auto di = tcp_source(port, 3);
  di.table = ModbusTable::kDiscrete;
  di.scale = 0.1;  // ignored for bits
  auto co = di;
  co.table = ModbusTable::kCoil;
  auto a = read_once(di);
  EXPECT_EQ(a.quality, Quality::kGood) << a.reason;
  EXPECT_EQ(a.celsius, 1.0);
  EXPECT_EQ(read_once(co).celsius, 0.0);
  server.discrete(3, false);
  EXPECT_EQ(read_once(di).celsius, 0.0);
  auto past = di;
  past.register_address = 40;
  auto x = read_once(past, false);
  EXPECT_EQ(x.quality, Quality::kNoData);
  EXPECT_THAT(x.reason, HasSubstr("Modbus exception"));
}

TEST(ModbusSensorTest, ScaleThenOffset) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  server.input(7, 2546);  // decikelvin: 254.6 K
  auto src = tcp_source(port, 7);
  src.table = ModbusTable::kInput;
  src.type = ModbusType::kUint16;
  src.scale = 0.1;
  src.offset_c = -273.15;
  auto r = read_once(src);
  EXPECT_EQ(r.quality, Quality::kGood) << r.reason;
  EXPECT_NEAR(r.celsius, -18.55, 1e-9);
}

TEST(ModbusSensorTest, ServerDownGivesRejectedReadingsAndServerBackGivesGoodOnes) {
  const int port = free_port();
  auto server = std::make_unique<ModbusServer>(port);
  server->start_tcp();
  server->holding(0, 35);
  SensorRig rig;
  ModbusSensor s(rig.io, rig.options("tx-1", 50ms), tcp_source(port, 0), rig.events());
  s.start();
  ASSERT_GE(rig.wait_reading(0, [](const Reading& r) { return r.quality == Quality::kGood; }), 0);
  server.reset();  // the transmitter loses power
  const auto mark = rig.readings.size();
  auto refused = rig.wait_reading(mark, [](const Reading& r) {
    return r.reason.find("Connection refused") != std::string::npos;
  });
  ASSERT_GE(refused, 0);
  const auto& bad = rig.readings[static_cast<std::size_t>(refused)];
  EXPECT_EQ(bad.quality, Quality::kNoData);
  EXPECT_THAT(bad.reason, HasSubstr("127.0.0.1:" + std::to_string(port)));
  // Several rejected readings while it is down (reconnects back off, readings keep coming).
  // A reply already on its way when the server went may still land after the mark as a good
  // 3.5; from the first refusal on, every reading was tried against the dead server.
  ASSERT_TRUE(rig.run_until([&] { return rig.readings.size() >= mark + 6; }));
  for (auto i = static_cast<std::size_t>(refused); i < rig.readings.size(); ++i)
    EXPECT_NE(rig.readings[i].quality, Quality::kGood) << i;
  EXPECT_EQ(rig.errors(), 1u);
  server = std::make_unique<ModbusServer>(port);  // power back
  server->start_tcp();
  server->holding(0, 36);
  auto back = rig.wait_reading(
      static_cast<std::size_t>(refused), [](const Reading& r) { return r.quality == Quality::kGood; },
      10s);
  ASSERT_GE(back, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(back)].celsius, 3.6);
  EXPECT_THAT(rig.statuses.back().second, HasSubstr("reading again"));
}

TEST(ModbusSensorTest, AMuteServerIsATimeoutAndAnExceptionIsNamed) {
  const int port = free_port();
  ModbusServer server(port);
  server.start_tcp();
  server.mute(true);
  auto src = tcp_source(port, 3);
  src.timeout_ms = 200;
  auto r = read_once(src, false);
  EXPECT_EQ(r.quality, Quality::kNoData);
  EXPECT_EQ(r.reason, "Modbus timeout after 200 ms from 127.0.0.1:" + std::to_string(port));
  server.mute(false);
  auto beyond = tcp_source(port, 150);  // the server has 100 registers
  auto e = read_once(beyond, false);
  EXPECT_EQ(e.quality, Quality::kNoData);
  EXPECT_THAT(e.reason, HasSubstr("Modbus exception from 127.0.0.1:"));
  EXPECT_THAT(e.reason, HasSubstr("Illegal data address"));
}

// timeout_ms bounds the whole reply, not each byte: a server that sends a valid reply one byte
// every 100 ms (1.1 s for 11 bytes) is a timeout at 300 ms. Before, each byte had libmodbus's
// default 500 ms, and a reply dripped by an attack session took 104 s, the probe's worker
// stalled all along.
TEST(ModbusSensorTest, AReplyDrippedByteByByteIsATimeoutAtTimeoutMs) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  ASSERT_EQ(::listen(listener, 4), 0);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    while (!stop) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept(listener, nullptr, nullptr);
      std::uint8_t q[12];
      std::size_t got = 0;
      while (got < sizeof q && !stop) {
        pollfd cp{c, POLLIN, 0};
        if (::poll(&cp, 1, 20) <= 0) continue;
        const auto n = ::read(c, q + got, sizeof q - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      if (got == sizeof q) {
        // MBAP (the request's transaction id, protocol 0, length 5, its unit), then function 3,
        // 2 bytes, register value 36: a valid reply, 100 ms between bytes.
        const std::uint8_t r[] = {q[0], q[1], 0, 0, 0, 5, q[6], 3, 2, 0, 36};
        for (auto byte : r) {
          if (stop) break;
          (void)::write(c, &byte, 1);
          std::this_thread::sleep_for(100ms);
        }
      }
      ::close(c);
    }
  });
  auto src = tcp_source(ntohs(a.sin_port), 0);
  src.timeout_ms = 300;
  auto r = read_once(src, false);
  stop = true;
  server.join();
  ::close(listener);
  EXPECT_EQ(r.quality, Quality::kNoData);
  EXPECT_THAT(r.reason, HasSubstr("Modbus timeout after 300 ms from 127.0.0.1:"));
}

TEST(ModbusSensorTest, RtuOverAPty) {
  ModbusServer server;
  server.start_rtu(3);
  server.holding(2, static_cast<std::uint16_t>(-215));
  ModbusSource src;
  src.device = server.rtu_device();
  src.baud = 19200;
  src.unit = 3;
  src.register_address = 2;
  src.timeout_ms = 500;
  auto r = read_once(src);
  EXPECT_EQ(r.quality, Quality::kGood) << r.reason;
  EXPECT_DOUBLE_EQ(r.celsius, -21.5);
  EXPECT_GE(server.requests(), 1);
}

}  // namespace
}  // namespace depot::drivers
