// A Modbus RTU (serial) or Modbus TCP temperature transmitter through libmodbus: every
// interval, on the shared "modbus" BlockingReads worker, one read of `register` (two
// registers for 32-bit types) from the holding or input table, decoded by `modbus_celsius`.
// The connection is kept open between reads; a failed connect or a transport error closes it
// and the next attempts reconnect with exponential backoff (100 ms doubling to 30 s). While
// no connection is possible, every read yields a kNoData reading that says why
// ("Modbus timeout after 500 ms", "Modbus connect to 10.0.0.5:502 failed: Connection
// refused", "Modbus exception: Illegal data address"...). A Modbus exception reply keeps the
// connection (the transmitter answered; the register map is wrong).
#pragma once

#include <array>
#include <cstdint>

#include "sensor/sensor.hpp"

namespace depot::drivers {

// The temperature in `regs` (regs[0] is `register`, regs[1] `register + 1` for 32-bit types)
// per `type`, `word_order`, `scale` and `offset_c`. Pure.
double modbus_celsius(const coldchain::ModbusSource& s, std::array<std::uint16_t, 2> regs);

// "10.0.0.5:502 unit 1 holding register 4" / "/dev/ttyUSB0@9600 unit 3 input register 0".
std::string modbus_describe(const coldchain::ModbusSource& s);

class ModbusLink;  // the libmodbus context; used on the worker thread only

class ModbusSensor : public Sensor {
 public:
  ModbusSensor(boost::asio::io_context& io, SensorOptions options, coldchain::ModbusSource source,
               SensorEvents events);
  ~ModbusSensor() override;
  void start() override;
  void stop() override;

 private:
  void read();

  boost::asio::io_context& io_;
  SensorOptions options_;
  coldchain::ModbusSource source_;
  SensorEvents events_;
  ReadTimer timer_;
  std::shared_ptr<BlockingReads> worker_;
  std::shared_ptr<ModbusLink> link_;
  ProbeHealth health_;
  bool in_flight_ = false;
  bool running_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace depot::drivers
