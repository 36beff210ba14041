#include "base/log.hpp"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "base/clock.hpp"
#include "base/log_limit.hpp"

namespace depot::log {
namespace {
Level g_min = Level::kInfo;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
constexpr auto kRepeatWindow = std::chrono::seconds(60);
std::mutex g_limit_mutex;
RepeatLimiter g_limiter(kRepeatWindow, 3);

std::string suppressed_line(std::string_view key, std::uint64_t n) {
  return std::string(key) + ": " + std::to_string(n) + " similar line" + (n == 1 ? "" : "s") +
         " suppressed in the last " + std::to_string(kRepeatWindow.count()) + " s";
}

const char* name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}
}  // namespace

void set_level(Level min) { g_min = min; }

bool set_level(std::string_view n) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (n == name(l)) {
      g_min = l;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_min)) return;
  std::string line;
  if (g_journal) {
    line.push_back('<');
    line.push_back(static_cast<char>('0' + static_cast<int>(level)));
    line.push_back('>');
  } else {
    line.append(wall_now()).append(" ").append(name(level)).append(" ");
  }
  line += message;
  line += '\n';
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace depot::log

namespace depot::log {

void write_limited(Level level, std::string_view key, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_min)) return;
  RepeatLimiter::Admission a;
  {
    std::lock_guard lock(g_limit_mutex);
    a = g_limiter.admit(key, std::chrono::steady_clock::now(), static_cast<int>(level));
  }
  if (a.suppressed > 0) write(level, suppressed_line(key, a.suppressed));
  if (a.emit) write(level, message);
}

void flush_suppressed() {
  std::vector<RepeatLimiter::Summary> done;
  {
    std::lock_guard lock(g_limit_mutex);
    done = g_limiter.expire(std::chrono::steady_clock::now());
  }
  for (const auto& s : done) write(static_cast<Level>(s.tag), suppressed_line(s.key, s.suppressed));
}

}  // namespace depot::log
