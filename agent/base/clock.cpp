#include "base/clock.hpp"

#include <chrono>
#include <ctime>
#include <sys/timex.h>
#include <random>

namespace depot {
namespace {
std::string format_utc(const char* fmt, bool millis) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  std::string s(buf);
  if (millis) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
    s += frac;
  }
  return s;
}
}  // namespace

std::string wall_now() { return format_utc("%Y-%m-%dT%H:%M:%S", true); }
std::string compact_now() { return format_utc("%Y%m%dT%H%M%SZ", false); }

int current_year() {
  auto secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm.tm_year + 1900;
}

std::int64_t mono_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool clock_unsynchronized() {
  timex tx{};  // modes 0: read only
  const int state = ::adjtimex(&tx);
  return state < 0 || state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0;
}

coldchain::Instant instant_now() {
  coldchain::Instant at;
  at.mono_ns = mono_now_ns();
  at.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  at.clock_unsynchronized = clock_unsynchronized();
  return at;
}

std::string new_id() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::uint64_t r1 = rng(), r2 = rng();
  std::string id(26, '0');
  // 10 chars of time (50 bits, top 2 zero), 16 chars of randomness (80 bits).
  for (int i = 9; i >= 0; --i, ms >>= 5) id[static_cast<std::size_t>(i)] = kAlphabet[ms & 31];
  for (int i = 0; i < 16; ++i) {
    std::uint64_t& src = i < 12 ? r1 : r2;
    id[static_cast<std::size_t>(10 + i)] = kAlphabet[src & 31];
    src >>= 5;
  }
  return id;
}

}  // namespace depot
