#include "core/tz.hpp"

#include <algorithm>
#include <cstring>

#include "core/time.hpp"

namespace depot::tz {
namespace {

constexpr std::int64_t kDayS = 86'400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Reads big-endian integers from a bounded buffer; `ok` turns false past its end.
struct Reader {
  std::string_view b;
  std::size_t pos = 0;
  bool ok = true;
  bool need(std::size_t n) {
    if (!ok || b.size() - pos < n) ok = false;
    return ok;
  }
  std::uint64_t be(std::size_t n) {
    if (!need(n)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[pos + i]);
    pos += n;
    return v;
  }
  void skip(std::size_t n) {
    if (need(n)) pos += n;
  }
};

struct Header {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

bool read_header(Reader& r, Header& h) {
  if (!r.need(44) || std::memcmp(r.b.data() + r.pos, "TZif", 4) != 0) return false;
  h.version = r.b[r.pos + 4];
  r.skip(20);
  h.isutcnt = static_cast<std::uint32_t>(r.be(4));
  h.isstdcnt = static_cast<std::uint32_t>(r.be(4));
  h.leapcnt = static_cast<std::uint32_t>(r.be(4));
  h.timecnt = static_cast<std::uint32_t>(r.be(4));
  h.typecnt = static_cast<std::uint32_t>(r.be(4));
  h.charcnt = static_cast<std::uint32_t>(r.be(4));
  // RFC 8536 bounds: at least one type, at most 256; counts a real file never exceeds.
  return r.ok && h.typecnt >= 1 && h.typecnt <= 256 && h.timecnt <= 100'000 &&
         h.leapcnt <= 10'000 && h.charcnt <= 100'000 &&
         (h.isutcnt == 0 || h.isutcnt == h.typecnt) && (h.isstdcnt == 0 || h.isstdcnt == h.typecnt);
}

// Reads one data block with `tsize`-byte times into `z`.
bool read_block(Reader& r, const Header& h, std::size_t tsize, Zone& z) {
  std::vector<std::int64_t> at(h.timecnt);
  for (auto& t : at) {
    const auto v = r.be(tsize);
    t = tsize == 4 ? static_cast<std::int32_t>(static_cast<std::uint32_t>(v))
                   : static_cast<std::int64_t>(v);
  }
  std::vector<std::uint8_t> idx(h.timecnt);
  for (auto& i : idx) i = static_cast<std::uint8_t>(r.be(1));
  std::vector<std::int32_t> offsets(h.typecnt);
  for (auto& o : offsets) {
    o = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.be(4)));
    r.skip(2);  // isdst, desigidx
  }
  r.skip(h.charcnt);
  r.skip(static_cast<std::size_t>(h.leapcnt) * (tsize + 4));
  r.skip(h.isstdcnt);
  r.skip(h.isutcnt);
  if (!r.ok) return false;
  for (std::size_t i = 0; i < at.size(); ++i) {
    if (idx[i] >= h.typecnt) return false;
    if (i > 0 && at[i] <= at[i - 1]) return false;
  }
  z.at = std::move(at);
  z.offset_after.clear();
  for (auto i : idx) z.offset_after.push_back(offsets[i]);
  z.initial_offset = offsets[0];
  return true;
}

// POSIX TZ parsing (IEEE 1003.1 "TZ"; tzfile(5) "footer").
struct Posix {
  std::string_view s;
  std::size_t i = 0;
  bool name() {
    if (i < s.size() && s[i] == '<') {
      auto close = s.find('>', i);
      if (close == std::string_view::npos) return false;
      i = close + 1;
      return true;
    }
    const auto from = i;
    while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
    return i - from >= 3;
  }
  // [+-]hh[:mm[:ss]] as seconds (the sign as written).
  std::optional<std::int32_t> hms(int max_hours) {
    int sign = 1;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
    std::int32_t total = 0;
    for (int part = 0; part < 3; ++part) {
      if (part > 0) {
        if (i >= s.size() || s[i] != ':') break;
        ++i;
      }
      int v = 0, digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 3) v = v * 10 + (s[i++] - '0'), ++digits;
      if (digits == 0) return std::nullopt;
      if (part == 0 && v > max_hours) return std::nullopt;
      if (part > 0 && v > 59) return std::nullopt;
      total += v * (part == 0 ? 3600 : part == 1 ? 60 : 1);
    }
    return sign * total;
  }
  std::optional<PosixRule::When> when() {
    if (i >= s.size() || s[i] != 'M') return std::nullopt;  // Jn and n: not understood
    ++i;
    int f[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      if (k > 0) {
        if (i >= s.size() || s[i] != '.') return std::nullopt;
        ++i;
      }
      int digits = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 2) f[k] = f[k] * 10 + (s[i++] - '0'), ++digits;
      if (digits == 0) return std::nullopt;
    }
    if (f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 5 || f[2] > 6) return std::nullopt;
    PosixRule::When w{f[0], f[1], f[2], 7200};
    if (i < s.size() && s[i] == '/') {
      ++i;
      auto t = hms(167);  // RFC 8536 extension: -167..167 hours
      if (!t) return std::nullopt;
      w.time_s = *t;
    }
    return w;
  }
};

// The instant (unix s) of `w` in `year`, its time read in the local time of `offset`.
std::int64_t change_at(const PosixRule::When& w, std::int64_t year, std::int32_t offset) {
  const auto y = static_cast<int>(year);
  const auto first = timefmt::days_from_civil(y, static_cast<unsigned>(w.month), 1);
  const int wd_first = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  std::int64_t day = first + ((w.weekday - wd_first + 7) % 7) + 7 * (w.week - 1);
  if (w.week == 5) {
    const auto next_month = w.month == 12
                                ? timefmt::days_from_civil(y + 1, 1, 1)
                                : timefmt::days_from_civil(y, static_cast<unsigned>(w.month + 1), 1);
    while (day >= next_month) day -= 7;
  }
  return day * kDayS + w.time_s - offset;
}

std::int32_t rule_offset(const PosixRule& r, std::int64_t t) {
  if (!r.has_dst) return r.std_offset;
  int y = 0;
  unsigned m = 0, d = 0;
  timefmt::civil_from_days(floor_div(t + r.std_offset, kDayS), y, m, d);
  const auto start = change_at(r.start, y, r.std_offset);
  const auto end = change_at(r.end, y, r.dst_offset);
  const bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? r.dst_offset : r.std_offset;
}

}  // namespace

Zone utc() { return Zone{}; }

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  std::size_t seg = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      const auto part = name.substr(seg, i - seg);
      if (part.empty() || part == "." || part == "..") return false;
      seg = i + 1;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<PosixRule> parse_posix_rule(std::string_view text) {
  Posix p{text};
  PosixRule r;
  if (!p.name()) return std::nullopt;
  auto std_off = p.hms(24);
  if (!std_off) return std::nullopt;
  r.std_offset = -*std_off;  // POSIX offsets are west of UTC
  if (p.i == text.size()) return r;
  if (!p.name()) return std::nullopt;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p.i < text.size() && text[p.i] != ',') {
    auto dst_off = p.hms(24);
    if (!dst_off) return std::nullopt;
    r.dst_offset = -*dst_off;
  }
  if (p.i >= text.size() || text[p.i] != ',') return std::nullopt;
  ++p.i;
  auto start = p.when();
  if (!start || p.i >= text.size() || text[p.i] != ',') return std::nullopt;
  ++p.i;
  auto end = p.when();
  if (!end || p.i != text.size()) return std::nullopt;
  r.start = *start;
  r.end = *end;
  return r;
}

Expected<Zone> parse_tzif(std::string_view name, std::string_view bytes) {
  if (bytes.size() > 1'000'000) return Error{"a zone file is at most 1 MB", ErrorKind::kBadInput};
  Reader r{bytes};
  Header h;
  if (!read_header(r, h)) return Error{"not a TZif file (RFC 8536)", ErrorKind::kBadInput};
  Zone z;
  z.name = std::string(name);
  if (h.version == 0) {
    if (!read_block(r, h, 4, z)) return Error{"truncated or malformed TZif data", ErrorKind::kBadInput};
    return z;
  }
  // Version 2+: skip the 32-bit block, read the 64-bit one and the footer.
  const std::uint64_t v1 = std::uint64_t{h.timecnt} * 5 + std::uint64_t{h.typecnt} * 6 + h.charcnt +
                           std::uint64_t{h.leapcnt} * 8 + h.isstdcnt + h.isutcnt;
  if (v1 > bytes.size()) return Error{"truncated or malformed TZif data", ErrorKind::kBadInput};
  r.skip(static_cast<std::size_t>(v1));
  Header h2;
  if (!r.ok || !read_header(r, h2) || !read_block(r, h2, 8, z))
    return Error{"truncated or malformed TZif data", ErrorKind::kBadInput};
  if (r.pos < bytes.size() && bytes[r.pos] == '\n') {
    const auto end = bytes.find('\n', r.pos + 1);
    if (end != std::string_view::npos)
      z.rule = parse_posix_rule(bytes.substr(r.pos + 1, end - r.pos - 1));
  }
  return z;
}

std::int32_t offset_at(const Zone& z, std::int64_t unix_s) {
  if (z.at.empty()) return z.rule ? rule_offset(*z.rule, unix_s) : z.initial_offset;
  if (unix_s < z.at.front()) return z.initial_offset;
  if (unix_s >= z.at.back() && z.rule) return rule_offset(*z.rule, unix_s);
  const auto it = std::upper_bound(z.at.begin(), z.at.end(), unix_s);
  return z.offset_after[static_cast<std::size_t>(it - z.at.begin()) - 1];
}

std::int64_t local_day(const Zone& z, std::int64_t unix_ms) {
  const auto s = floor_div(unix_ms, 1000);
  return floor_div(s + offset_at(z, s), kDayS);
}

std::int64_t day_start_ms(const Zone& z, std::int64_t day) {
  // The first second whose local day is `day`, searched within 26 h either side of UTC
  // midnight (offsets are within +-26 h), then the first millisecond of it.
  std::int64_t lo = day * kDayS - 26 * 3600, hi = day * kDayS + 26 * 3600;
  while (lo < hi) {
    const auto mid = lo + (hi - lo) / 2;
    if (floor_div(mid + offset_at(z, mid), kDayS) >= day)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo * 1000;
}

}  // namespace depot::tz
