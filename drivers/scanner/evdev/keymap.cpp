#include "scanner/evdev/keymap.hpp"

#include <linux/input-event-codes.h>

#include <array>

namespace depot::drivers {
namespace {

struct Keys {
  char plain, shifted;
};

// US layout by key code (linux/input-event-codes.h). 0 = not a character key.
std::array<Keys, 128> us_table() {
  std::array<Keys, 128> t{};
  auto row = [&](int first, std::string_view plain, std::string_view shifted) {
    for (std::size_t i = 0; i < plain.size(); ++i)
      t[static_cast<std::size_t>(first) + i] = {plain[i], shifted[i]};
  };
  row(KEY_1, "1234567890-=", "!@#$%^&*()_+");
  row(KEY_Q, "qwertyuiop[]", "QWERTYUIOP{}");
  row(KEY_A, "asdfghjkl;'`", "ASDFGHJKL:\"~");
  row(KEY_BACKSLASH, "\\zxcvbnm,./", "|ZXCVBNM<>?");
  t[KEY_SPACE] = {' ', ' '};
  t[KEY_KP1] = {'1', '1'}, t[KEY_KP2] = {'2', '2'}, t[KEY_KP3] = {'3', '3'};
  t[KEY_KP4] = {'4', '4'}, t[KEY_KP5] = {'5', '5'}, t[KEY_KP6] = {'6', '6'};
  t[KEY_KP7] = {'7', '7'}, t[KEY_KP8] = {'8', '8'}, t[KEY_KP9] = {'9', '9'};
  t[KEY_KP0] = {'0', '0'}, t[KEY_KPMINUS] = {'-', '-'}, t[KEY_KPPLUS] = {'+', '+'};
  t[KEY_KPDOT] = {'.', '.'}, t[KEY_KPSLASH] = {'/', '/'}, t[KEY_KPASTERISK] = {'*', '*'};
  return t;
}

// German (QWERTZ) differs from US on these keys (ASCII characters only; umlauts and ß are
// not in barcode data and map to nothing).
std::array<Keys, 128> de_table() {
  auto t = us_table();
  t[KEY_Y] = {'z', 'Z'};
  t[KEY_Z] = {'y', 'Y'};
  t[KEY_1] = {'1', '!'}, t[KEY_2] = {'2', '"'}, t[KEY_3] = {'3', 0}, t[KEY_4] = {'4', '$'};
  t[KEY_5] = {'5', '%'}, t[KEY_6] = {'6', '&'}, t[KEY_7] = {'7', '/'}, t[KEY_8] = {'8', '('};
  t[KEY_9] = {'9', ')'}, t[KEY_0] = {'0', '='}, t[KEY_MINUS] = {0, '?'}, t[KEY_EQUAL] = {0, '`'};
  t[KEY_LEFTBRACE] = {0, 0}, t[KEY_RIGHTBRACE] = {'+', '*'};
  t[KEY_SEMICOLON] = {0, 0}, t[KEY_APOSTROPHE] = {0, 0}, t[KEY_GRAVE] = {'^', 0};
  t[KEY_BACKSLASH] = {'#', '\''}, t[KEY_102ND] = {'<', '>'};
  t[KEY_COMMA] = {',', ';'}, t[KEY_DOT] = {'.', ':'}, t[KEY_SLASH] = {'-', '_'};
  return t;
}

const std::array<Keys, 128> kUs = us_table();
const std::array<Keys, 128> kDe = de_table();

int keypad_digit(std::uint16_t code) {
  switch (code) {
    case KEY_KP0: return 0;
    case KEY_KP1: return 1;
    case KEY_KP2: return 2;
    case KEY_KP3: return 3;
    case KEY_KP4: return 4;
    case KEY_KP5: return 5;
    case KEY_KP6: return 6;
    case KEY_KP7: return 7;
    case KEY_KP8: return 8;
    case KEY_KP9: return 9;
    default: return -1;
  }
}

}  // namespace

KeyDecoder::KeyDecoder(std::string_view layout, std::size_t max_line, Scan on_scan, Reject on_reject)
    : de_(layout == "de"), max_line_(max_line), on_scan_(std::move(on_scan)), on_reject_(std::move(on_reject)) {}

char KeyDecoder::translate(std::uint16_t code) const {
  if (code >= 128) return 0;
  const auto& k = (de_ ? kDe : kUs)[code];
  bool shift = shift_l_ || shift_r_;
  bool letter = k.plain >= 'a' && k.plain <= 'z';
  if (letter && caps_) shift = !shift;
  return shift ? k.shifted : k.plain;
}

void KeyDecoder::feed(std::uint16_t type, std::uint16_t code, std::int32_t value) {
  if (type == EV_SYN) {
    // The reader fell behind and the kernel dropped queued events: the scan being typed has
    // lost keys (maybe its ENTER too). The rest of this packet is not trusted; everything up
    // to the next ENTER becomes one reject.
    if (code == SYN_DROPPED) dropped_ = skip_packet_ = true;
    if (code == SYN_REPORT) skip_packet_ = false;
    return;
  }
  if (type != EV_KEY || value == 2 || skip_packet_) return;
  const bool down = value == 1;
  switch (code) {
    case KEY_LEFTSHIFT: shift_l_ = down; return;
    case KEY_RIGHTSHIFT: shift_r_ = down; return;
    case KEY_LEFTCTRL:
    case KEY_RIGHTCTRL: ctrl_ = down; return;
    case KEY_LEFTALT:
    case KEY_RIGHTALT:
      alt_ = down;
      if (!down && !alt_digits_.empty()) {
        int ch = std::stoi(alt_digits_);
        alt_digits_.clear();
        if (ch > 0 && ch < 128) buf_.push_back(static_cast<char>(ch));
      }
      return;
    default: break;
  }
  if (!down) return;
  if (code == KEY_CAPSLOCK) {
    caps_ = !caps_;
    return;
  }
  if (code == KEY_ENTER || code == KEY_KPENTER) {
    if (dropped_) {
      on_reject_(buf_.substr(0, 64),
                 "key events lost (the kernel dropped input events, SYN_DROPPED: the agent "
                 "read too slowly); the scan is incomplete: scan it again");
      dropped_ = false;
      // A modifier's release may have been lost: a scanner holds none at ENTER.
      shift_l_ = shift_r_ = ctrl_ = alt_ = false;
      alt_digits_.clear();
    } else if (!overflowed_ && !buf_.empty()) {
      on_scan_(std::move(buf_));
    }
    buf_.clear();
    overflowed_ = false;
    return;
  }
  if (alt_ && keypad_digit(code) >= 0) {
    if (alt_digits_.size() < 4) alt_digits_.push_back(static_cast<char>('0' + keypad_digit(code)));
    return;
  }
  char c = 0;
  if (ctrl_ && code == KEY_RIGHTBRACE && !de_) {
    c = 0x1D;  // Ctrl+] = GS, how HID scanners type FNC1 in GS1 data
  } else if (ctrl_ && code == KEY_RIGHTBRACE && de_) {
    c = 0x1D;
  } else {
    c = translate(code);
  }
  if (c == 0) return;
  if (overflowed_) return;
  if (buf_.size() >= max_line_) {
    on_reject_(buf_.substr(0, 64), "scan longer than " + std::to_string(max_line_) + " characters without ENTER");
    buf_.clear();
    overflowed_ = true;
    return;
  }
  buf_.push_back(c);
}

}  // namespace depot::drivers
