// The evdev scanner: a USB HID scanner that presents itself as a keyboard, read from its
// /dev/input event node (prefer the stable /dev/input/by-id/...-event-kbd path). Reads
// `struct input_event` records, decodes keys with shift state (keymap.hpp), takes an exclusive
// grab (EVIOCGRAB) so the scans do not also type into a console, and reopens with backoff when
// the scanner is unplugged. Config table: evdev/README.md.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <vector>

#include "scanner/evdev/keymap.hpp"
#include "scanner/scanner.hpp"

namespace depot::drivers {

class EvdevScanner : public Scanner {
 public:
  EvdevScanner(boost::asio::io_context& io, std::string id, EvdevSettings s, ScanEvents events);
  void start() override;
  void stop() override;
  ScannerHealth health() const override { return reopen_.health(); }

 private:
  void open();
  void read();

  std::string id_;
  EvdevSettings settings_;
  ScanEvents events_;
  boost::asio::posix::stream_descriptor fd_;
  Reopener reopen_;
  KeyDecoder keys_;
  std::vector<char> buf_;
  std::size_t have_ = 0;  // bytes of a partial input_event carried to the next read
  bool stopped_ = false;
};

}  // namespace depot::drivers
