// Logging to stderr. Under systemd (JOURNAL_STREAM set) lines carry sd-daemon `<N>` priority
// prefixes and no timestamp (journald adds its own); otherwise each line starts with an
// RFC 3339 UTC time and the level. Thread-safety: each line is one write(2).
#pragma once

#include <string_view>

namespace depot::app::log {

enum class Level { kDebug = 7, kInfo = 6, kWarning = 4, kError = 3 };

void set_level(Level min);
bool set_level(std::string_view name);  // "debug", "info", "warning", "error"
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warning(std::string_view m) { write(Level::kWarning, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

}  // namespace depot::app::log
