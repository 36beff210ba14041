// Splits a byte stream into scans at a terminator (CR, LF or CRLF). A line longer than
// `max_line` is reported once as a rejection (its first bytes kept) and skipped to the next
// terminator. Empty lines are ignored. Pure: fed bytes, calls back with lines.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/scanner_config.hpp"

namespace depot::drivers {

class LineAssembler {
 public:
  using Line = std::function<void(std::string)>;
  using Overflow = std::function<void(std::string head, std::string reason)>;

  LineAssembler(Terminator terminator, std::size_t max_line, Line on_line, Overflow on_overflow);
  void feed(std::string_view bytes);
  // Bytes held of an unterminated line.
  std::size_t pending() const { return buf_.size(); }
  // True between the first byte of a line and its terminator (also while skipping an
  // overlong one).
  bool mid_line() const { return !buf_.empty() || overflowed_; }
  void clear() { buf_.clear(), overflowed_ = false; }
  // Gives up the unterminated line: reported through `on_overflow` with `reason` (its first
  // bytes kept; an overlong one was reported already), and the next byte starts a new line.
  void reject_pending(const std::string& reason);

 private:
  char split_;
  bool strip_cr_;
  std::size_t max_line_;
  Line on_line_;
  Overflow on_overflow_;
  std::string buf_;
  bool overflowed_ = false;
};

}  // namespace depot::drivers
