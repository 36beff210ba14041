// Rate limiting of a repeating log line: a scanner unplugged for an hour must not write the
// same error every few seconds. Lines carry a key (what repeats, e.g. "scanner dock-1"); within
// a window that starts at a key's first line, the first `burst` lines pass and the rest are
// only counted. The next line after the window, or `expire` once the window has passed, yields
// one summary with the count of what was suppressed, so nothing disappears without a trace.
// Pure: time is passed in, nothing is written. Thread-safety: none; the caller serialises.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace depot {

class RepeatLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  struct Admission {
    bool emit = true;              // write this line
    std::uint64_t suppressed = 0;  // before it: the count suppressed in the key's last window
  };
  struct Summary {
    std::string key;
    std::uint64_t suppressed = 0;
    int tag = 0;  // what the caller passed with the key's last line (the log level)
  };

  // REQUIRES: window > 0, burst >= 1. At most `max_keys` keys are tracked; lines of further
  // keys pass unlimited (memory stays bounded whatever the keys are).
  RepeatLimiter(std::chrono::nanoseconds window, std::uint32_t burst, std::size_t max_keys = 256);

  Admission admit(std::string_view key, Time now, int tag = 0);
  // Keys whose window ended by `now` with lines suppressed; their windows are forgotten.
  std::vector<Summary> expire(Time now);
  std::size_t tracked() const { return keys_.size(); }

 private:
  struct Window {
    Time start;
    std::uint32_t emitted = 0;
    std::uint64_t suppressed = 0;
    int tag = 0;
  };
  std::chrono::nanoseconds window_;
  std::uint32_t burst_;
  std::size_t max_keys_;
  std::map<std::string, Window, std::less<>> keys_;
};

}  // namespace depot
