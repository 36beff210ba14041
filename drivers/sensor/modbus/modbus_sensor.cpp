#include "sensor/modbus/modbus_sensor.hpp"

#include <modbus.h>

#include <algorithm>
#include <cerrno>

namespace depot::drivers {

double modbus_celsius(const coldchain::ModbusSource& s, std::array<std::uint16_t, 2> regs) {
  using coldchain::ModbusType;
  double count = 0;
  const std::uint32_t hi = s.word_order == coldchain::WordOrder::kBig ? regs[0] : regs[1];
  const std::uint32_t lo = s.word_order == coldchain::WordOrder::kBig ? regs[1] : regs[0];
  const std::uint32_t wide = (hi << 16) | lo;
  switch (s.type) {
    case ModbusType::kInt16:
      count = static_cast<std::int16_t>(regs[0]);
      break;
    case ModbusType::kUint16:
      count = regs[0];
      break;
    case ModbusType::kInt32:
      count = static_cast<std::int32_t>(wide);
      break;
    case ModbusType::kUint32:
      count = wide;
      break;
  }
  return count * s.scale + s.offset_c;
}

std::string modbus_describe(const coldchain::ModbusSource& s) {
  std::string where = s.host.empty() ? s.device + "@" + std::to_string(s.baud)
                                     : s.host + ":" + std::to_string(s.port);
  const char* table = s.table == coldchain::ModbusTable::kInput      ? " input register "
                      : s.table == coldchain::ModbusTable::kDiscrete ? " discrete input "
                      : s.table == coldchain::ModbusTable::kCoil     ? " coil "
                                                                     : " holding register ";
  return where + " unit " + std::to_string(s.unit) + table + std::to_string(s.register_address);
}

// The libmodbus context and its reconnect state. Used only on the worker thread (jobs of one
// BlockingReads run one at a time, in order).
class ModbusLink {
 public:
  explicit ModbusLink(coldchain::ModbusSource s) : s_(std::move(s)) {}
  ~ModbusLink() { close(); }

  // One read attempt: a value or a rejection naming the failure.
  coldchain::SensorValue read() {
    const auto now = std::chrono::steady_clock::now();
    if (!ctx_ && now < next_attempt_) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
      return fail("Modbus not connected to " + where() + " (" + last_error_ + "); retrying in " +
                  std::to_string(wait.count()) + " ms");
    }
    if (!ctx_ && !connect()) return fail(last_error_);
    const bool wide =
        s_.type == coldchain::ModbusType::kInt32 || s_.type == coldchain::ModbusType::kUint32;
    const int n = wide ? 2 : 1;
    std::array<std::uint16_t, 2> regs{};
    const int addr = static_cast<int>(s_.register_address);
    if (s_.table == coldchain::ModbusTable::kDiscrete || s_.table == coldchain::ModbusTable::kCoil) {
      std::uint8_t bit = 0;
      const int b = s_.table == coldchain::ModbusTable::kDiscrete
                        ? modbus_read_input_bits(ctx_, addr, 1, &bit)
                        : modbus_read_bits(ctx_, addr, 1, &bit);
      if (b == 1) {
        backoff_ms_ = kFirstBackoffMs;
        return coldchain::SensorValue::good(bit ? 1.0 : 0.0);
      }
      return failed(b, 1, "bits");
    }
    int rc = s_.table == coldchain::ModbusTable::kInput
                 ? modbus_read_input_registers(ctx_, addr, n, regs.data())
                 : modbus_read_registers(ctx_, addr, n, regs.data());
    if (rc == n) {
      backoff_ms_ = kFirstBackoffMs;
      return coldchain::SensorValue::good(modbus_celsius(s_, regs));
    }
    return failed(rc, n, "registers");
  }

 private:
  // A read that returned `rc` (not `n`): the rejection, and the link reset when in doubt.
  coldchain::SensorValue failed(int rc, int n, const char* what) {
    const int err = errno;
    std::string why;
    if (rc >= 0) {
      why = "Modbus reply from " + where() + " had " + std::to_string(rc) + " " + what + ", not " +
            std::to_string(n);
    } else if (err >= EMBXILFUN && err <= EMBXGTAR) {
      // The device answered with an exception (wrong register, unit...): keep the link.
      return fail(std::string("Modbus exception from ") + where() + ": " + modbus_strerror(err));
    } else if (err == ETIMEDOUT) {
      why = "Modbus timeout after " + std::to_string(s_.timeout_ms) + " ms from " + where();
    } else {
      why = "Modbus read from " + where() + " failed: " + modbus_strerror(err);
    }
    // The link is in doubt (half a frame may still arrive): start over with a new connection.
    close();
    schedule_retry(why);
    return fail(why);
  }

  static constexpr long kFirstBackoffMs = 100, kMaxBackoffMs = 30000;

  std::string where() const {
    return s_.host.empty() ? s_.device : s_.host + ":" + std::to_string(s_.port);
  }

  bool connect() {
    ctx_ = s_.host.empty() ? modbus_new_rtu(s_.device.c_str(), static_cast<int>(s_.baud), 'N', 8, 1)
                           : modbus_new_tcp_pi(s_.host.c_str(), std::to_string(s_.port).c_str());
    if (!ctx_) {
      schedule_retry("Modbus setup for " + where() + " failed: " + modbus_strerror(errno));
      return false;
    }
    modbus_set_slave(ctx_, static_cast<int>(s_.unit));
    const auto ms = static_cast<std::uint32_t>(s_.timeout_ms);
    modbus_set_response_timeout(ctx_, ms / 1000, (ms % 1000) * 1000);
    // No byte timeout: the response timeout then bounds the whole reply (libmodbus 3.1), where
    // the default 500 ms per byte let a reply dripped a byte at a time hold the read 104 s.
    modbus_set_byte_timeout(ctx_, 0, 0);
    if (modbus_connect(ctx_) != 0) {
      const int err = errno;
      std::string why = "Modbus connect to " + where() + " failed: " + modbus_strerror(err);
      close();
      schedule_retry(why);
      return false;
    }
    return true;
  }

  void schedule_retry(std::string why) {
    last_error_ = std::move(why);
    next_attempt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms_);
    backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
  }

  void close() {
    if (!ctx_) return;
    modbus_close(ctx_);
    modbus_free(ctx_);
    ctx_ = nullptr;
  }

  static coldchain::SensorValue fail(std::string why) {
    return coldchain::SensorValue::rejected(coldchain::Quality::kNoData, std::move(why));
  }

  coldchain::ModbusSource s_;
  modbus_t* ctx_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  long backoff_ms_ = kFirstBackoffMs;
  std::string last_error_;
};

ModbusSensor::ModbusSensor(boost::asio::io_context& io, SensorOptions options,
                           coldchain::ModbusSource source, SensorEvents events)
    : io_(io),
      options_(std::move(options)),
      source_(std::move(source)),
      events_(std::move(events)),
      timer_(io, options_.interval),
      link_(std::make_shared<ModbusLink>(source_)) {}

ModbusSensor::~ModbusSensor() { stop(); }

void ModbusSensor::start() {
  if (running_) return;
  running_ = true;
  if (!worker_) worker_ = BlockingReads::shared("modbus", 1, /*replace=*/false);
  if (events_.status)
    events_.status(false,
                   "probe " + options_.probe + ": reading Modbus " + modbus_describe(source_));
  timer_.start([this] { read(); });
}

void ModbusSensor::stop() {
  running_ = false;
  timer_.stop();
}

void ModbusSensor::read() {
  if (in_flight_) return;
  in_flight_ = true;
  // A read is bounded by timeout_ms (connect, then the reply): three of them, or the driver
  // deadline if longer, before it has hung.
  const auto deadline =
      std::max(options_.read_deadline, std::chrono::milliseconds(3 * source_.timeout_ms));
  worker_->run(
      io_, deadline, [link = link_] { return link->read(); },
      [this, alive = std::weak_ptr<int>(alive_)](coldchain::SensorValue v) {
        if (alive.expired()) return;
        in_flight_ = false;
        if (running_) report_value(options_, health_, events_, v);
      },
      [this, alive = std::weak_ptr<int>(alive_), deadline] {
        if (alive.expired() || !running_) return;
        report_value(options_, health_, events_,
                     coldchain::SensorValue::rejected(
                         coldchain::Quality::kNoData,
                         hung_reason("Modbus read of " + modbus_describe(source_), deadline)));
      });
}

}  // namespace depot::drivers
