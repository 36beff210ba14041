#include "app/log.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "app/clock.hpp"

namespace depot::app::log {
namespace {
Level g_min = Level::kInfo;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

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

}  // namespace depot::app::log
