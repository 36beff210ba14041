// The stdin scanner: one scan per line from the agent's standard input, or from a named pipe
// (FIFO) so other software can feed scans. A FIFO is opened read-write, so writers may come
// and go without the driver ever seeing end-of-file. Config table: stdin/README.md.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>

#include "scanner/line_assembler.hpp"
#include "scanner/scanner.hpp"

namespace depot::drivers {

class StdinScanner : public Scanner {
 public:
  StdinScanner(boost::asio::io_context& io, std::string id, StdinSettings s, ScanEvents events);
  void start() override;
  void stop() override;

 private:
  void read();
  void watch_line();  // after each read: line_timeout_s from the first byte of a line
  std::string id_;
  StdinSettings settings_;
  ScanEvents events_;
  boost::asio::posix::stream_descriptor fd_;
  LineAssembler lines_;
  boost::asio::steady_timer line_timer_;
  bool line_armed_ = false;
  std::uint64_t line_gen_ = 0;  // a wait that fell due as the timer was re-armed is stale
  bool line_ended_ = false;  // a line (or an overlong one) ended during the last read
  std::array<char, 4096> buf_{};
  bool stopped_ = false;
};

}  // namespace depot::drivers
