// Logging to stderr. Under systemd (JOURNAL_STREAM set) lines carry sd-daemon `<N>` priority
// prefixes and no timestamp (journald adds its own); otherwise each line starts with an
// RFC 3339 UTC time and the level. A line that keeps repeating (same key) is rate limited:
// see `write_limited`. Thread-safety: each line is one write(2); the limiter has a lock.
#pragma once

#include <string_view>

namespace depot::log {

enum class Level { kDebug = 7, kInfo = 6, kWarning = 4, kError = 3 };

void set_level(Level min);
bool set_level(std::string_view name);  // "debug", "info", "warning", "error"
void write(Level level, std::string_view message);
// Like `write`, for a line that can repeat (a device that stays unplugged, a peer that stays
// away): within 60 s of a key's first line at most 3 lines of that key pass; the rest are
// counted, and the key's next line after the window (or `flush_suppressed`) says
// "<key>: N similar lines suppressed in the last 60 s".
void write_limited(Level level, std::string_view key, std::string_view message);
// Writes the summaries of windows that have ended. The daemon calls it from a timer.
void flush_suppressed();

inline void debug(std::string_view m) { write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warning(std::string_view m) { write(Level::kWarning, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

}  // namespace depot::log
