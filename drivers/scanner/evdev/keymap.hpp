// Turning Linux input key events from a USB HID "keyboard wedge" scanner into the characters
// it meant: key codes with shift state through a layout table (US, German), ENTER ending a
// scan, and Ctrl+] or the keypad's Alt+029 giving the GS1 group separator (0x1D). Pure: fed
// (type, code, value) triples, calls back with finished scans.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace depot::drivers {

class KeyDecoder {
 public:
  using Scan = std::function<void(std::string)>;
  using Reject = std::function<void(std::string head, std::string reason)>;

  // REQUIRES: layout is "us" or "de" (validated by the config).
  KeyDecoder(std::string_view layout, std::size_t max_line, Scan on_scan, Reject on_reject);

  // One input_event: type (EV_KEY = 1), code (KEY_*), value (0 release, 1 press, 2 repeat).
  // Autorepeat (2) is ignored: a scanner presses and releases every key, so a repeat can only
  // come from a stuck key, and typing it would corrupt the scan.
  // SYN_DROPPED (the kernel's buffer overflowed, keys were lost): the rest of that packet is
  // ignored and whatever is typed up to the next ENTER is rejected, never a shortened scan.
  void feed(std::uint16_t type, std::uint16_t code, std::int32_t value);

 private:
  char translate(std::uint16_t code) const;
  bool de_;
  std::size_t max_line_;
  Scan on_scan_;
  Reject on_reject_;
  std::string buf_;
  bool shift_l_ = false, shift_r_ = false, ctrl_ = false, alt_ = false, caps_ = false;
  bool overflowed_ = false;
  bool dropped_ = false;      // SYN_DROPPED since the last ENTER
  bool skip_packet_ = false;  // ...and its SYN_REPORT has not come yet
  std::string alt_digits_;  // Alt + keypad digits: a character by its decimal code
};

}  // namespace depot::drivers
