#include "scanner/line_assembler.hpp"

namespace depot::drivers {

LineAssembler::LineAssembler(Terminator t, std::size_t max_line, Line on_line, Overflow on_overflow)
    : split_(t == Terminator::kCr ? '\r' : '\n'),
      strip_cr_(t != Terminator::kCr),
      max_line_(max_line),
      on_line_(std::move(on_line)),
      on_overflow_(std::move(on_overflow)) {}

void LineAssembler::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == split_) {
      if (strip_cr_ && !buf_.empty() && buf_.back() == '\r') buf_.pop_back();
      // With a CR terminator, a LF that follows it (CRLF sent anyway) is not data.
      if (!overflowed_ && !buf_.empty()) on_line_(std::move(buf_));
      buf_.clear();
      overflowed_ = false;
      continue;
    }
    if (split_ == '\r' && c == '\n' && buf_.empty()) continue;
    if (overflowed_) continue;
    if (buf_.size() >= max_line_) {
      on_overflow_(buf_.substr(0, 64), "line longer than " + std::to_string(max_line_) +
                                           " bytes without a terminator");
      buf_.clear();
      overflowed_ = true;
      continue;
    }
    buf_.push_back(c);
  }
}

void LineAssembler::reject_pending(const std::string& reason) {
  if (!buf_.empty() && !overflowed_) on_overflow_(buf_.substr(0, 64), reason);
  clear();
}

}  // namespace depot::drivers
