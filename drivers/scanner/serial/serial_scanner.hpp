// The serial scanner: RS-232, USB CDC-ACM (/dev/ttyACM*) and USB-serial (/dev/ttyUSB*)
// scanners through Boost.Asio's serial_port, with baud, parity, data and stop bits and a line
// terminator (CR, LF or CRLF). Unplugged, it reports it and reopens the path with exponential
// backoff (prefer a stable /dev/serial/by-id/... path). Config table: serial/README.md.
#pragma once

#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>

#include "scanner/line_assembler.hpp"
#include "scanner/scanner.hpp"

namespace depot::drivers {

class SerialScanner : public Scanner {
 public:
  SerialScanner(boost::asio::io_context& io, std::string id, SerialSettings s, ScanEvents events);
  void start() override;
  void stop() override;
  ScannerHealth health() const override { return reopen_.health(); }

 private:
  void open();
  void read();

  std::string id_;
  SerialSettings settings_;
  ScanEvents events_;
  boost::asio::serial_port port_;
  Reopener reopen_;
  LineAssembler lines_;
  std::array<char, 1024> buf_{};
  bool stopped_ = false;
};

}  // namespace depot::drivers
