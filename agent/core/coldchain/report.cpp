#include "core/coldchain/report.hpp"

#include <cstdio>

#include "core/time.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "core/coldchain/mkt.hpp"

namespace depot::coldchain {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// The first instant of the site-local day holding `ms`, and of the day after it.
std::int64_t day_of(const tz::Zone& z, std::int64_t ms) {
  return tz::day_start_ms(z, tz::local_day(z, ms));
}
std::int64_t next_day(const tz::Zone& z, std::int64_t day_ms) {
  return tz::day_start_ms(z, tz::local_day(z, day_ms) + 1);
}

struct Acc {
  std::int64_t n = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;
  MktSum mkt;

  void add_reading(double c) {
    ++n;
    min = std::min(min, c);
    max = std::max(max, c);
    sum += c;
  }
  DayStats stats(std::int64_t day_ms, const std::string& probe) const {
    DayStats d;
    d.day_ms = day_ms;
    d.probe = probe;
    d.readings = n;
    if (n > 0) {
      d.min_c = min;
      d.max_c = max;
      d.mean_c = sum / static_cast<double>(n);
    }
    d.mkt_c = mkt.celsius();
    d.covered_s = mkt.weight();
    return d;
  }
};

// Chart points for one probe: per column its first, lowest, highest and last reading (in time
// order), so that the line keeps every peak while its size stays bounded.
struct ChartState {
  std::vector<std::vector<ReportPoint>> segments;
  std::vector<ReportPoint> seg;
  std::int64_t col = -1;
  ReportPoint first, lo, hi, last;
  std::optional<std::int64_t> prev;

  void flush() {
    if (col < 0) return;
    std::vector<ReportPoint> pts{first, lo, hi, last};
    std::sort(pts.begin(), pts.end(),
              [](const ReportPoint& a, const ReportPoint& b) { return a.wall_ms < b.wall_ms; });
    for (const auto& q : pts)
      if (seg.empty() || seg.back().wall_ms != q.wall_ms) seg.push_back(q);
    col = -1;
  }
  void end_segment() {
    flush();
    if (!seg.empty()) segments.push_back(std::move(seg));
    seg.clear();
  }
  void add(ReportPoint q, std::int64_t from_ms, std::int64_t to_ms, std::int64_t max_hold_ms) {
    if (prev && q.wall_ms - *prev > max_hold_ms) end_segment();
    prev = q.wall_ms;
    const std::int64_t c = (q.wall_ms - from_ms) * kChartColumns / (to_ms - from_ms);
    if (c != col) {
      flush();
      col = c;
      first = lo = hi = last = q;
      return;
    }
    if (q.celsius < lo.celsius) lo = q;
    if (q.celsius > hi.celsius) hi = q;
    last = q;
  }
};

struct ReportProbeAcc {
  std::map<std::int64_t, Acc> days;
  Acc whole;
  ChartState chart;
  std::optional<ReportPoint> pending;  // the last reading: how long it stands is not known yet
};

}  // namespace

struct ReportBuilder::State {
  ReportInput in;
  std::vector<ReportProbeAcc> probes;
  bool any = false;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;

  // The time reading `p` of probe `k` stands, until `next_ms` at most, split at UTC midnights.
  void stand(std::size_t k, ReportPoint p, std::int64_t next_ms) {
    const std::int64_t end = std::min(
        {p.wall_ms + std::max<std::int64_t>(in.probes[k].max_hold_ms, 0), next_ms, in.to_ms});
    for (std::int64_t t = p.wall_ms; t < end;) {
      const std::int64_t d = day_of(in.site_zone, t);
      const std::int64_t e = std::min(end, next_day(in.site_zone, d));
      const double w = static_cast<double>(e - t) / 1000.0;
      probes[k].days[d].mkt.add(p.celsius, w);
      probes[k].whole.mkt.add(p.celsius, w);
      t = e;
    }
  }
};

ReportBuilder::ReportBuilder(ReportInput in) : s_(std::make_unique<State>()) {
  std::vector<std::vector<ReportPoint>> given;
  for (auto& p : in.probes) given.push_back(std::move(p.good)), p.good.clear();
  s_->in = std::move(in);
  s_->probes.resize(s_->in.probes.size());
  for (std::size_t k = 0; k < given.size(); ++k)
    for (const auto& q : given[k]) add(k, q);
}

ReportBuilder::~ReportBuilder() = default;

std::size_t ReportBuilder::add_probe(ReportProbeInput p) {
  p.good.clear();
  s_->in.probes.push_back(std::move(p));
  s_->probes.emplace_back();
  return s_->probes.size() - 1;
}

void ReportBuilder::count_rejected(std::size_t k) { ++s_->in.probes[k].rejected; }
void ReportBuilder::count_unsynchronized() { ++s_->in.unsynchronized; }

void ReportBuilder::add(std::size_t k, ReportPoint q) {
  auto& st = *s_;
  if (q.wall_ms < st.in.from_ms || q.wall_ms >= st.in.to_ms) return;
  auto& ps = st.probes[k];
  if (ps.pending) st.stand(k, *ps.pending, q.wall_ms);
  ps.pending = q;
  st.any = true;
  st.lo = std::min(st.lo, q.celsius);
  st.hi = std::max(st.hi, q.celsius);
  ps.days[day_of(s_->in.site_zone, q.wall_ms)].add_reading(q.celsius);
  ps.whole.add_reading(q.celsius);
  ps.chart.add(q, st.in.from_ms, st.in.to_ms, st.in.probes[k].max_hold_ms);
}

ReportModel ReportBuilder::finish() {
  auto& st = *s_;
  ReportModel m;
  const auto& in = st.in;
  m.has_readings = st.any;
  for (std::size_t k = 0; k < st.probes.size(); ++k) {
    auto& ps = st.probes[k];
    const auto& p = in.probes[k];
    if (ps.pending) st.stand(k, *ps.pending, in.to_ms);
    ps.pending.reset();
    ps.chart.end_segment();
    m.charts.push_back({p.id, std::move(ps.chart.segments)});
    m.totals.push_back(ps.whole.stats(in.from_ms, p.id));
    m.calibrations.push_back(
        {p.id, p.calibration,
         p.calibration ? calibration_overdue(*p.calibration, in.generated_ms) : false});
  }
  for (std::int64_t d = day_of(in.site_zone, in.from_ms); d < in.to_ms;
       d = next_day(in.site_zone, d))
    for (std::size_t k = 0; k < st.probes.size(); ++k) {
      const auto& days = st.probes[k].days;
      auto it = days.find(d);
      m.days.push_back(it == days.end() ? Acc{}.stats(d, in.probes[k].id)
                                        : it->second.stats(d, in.probes[k].id));
      m.days.back().date = timefmt::iso_date(tz::local_day(in.site_zone, d));
    }
  double lo = st.lo, hi = st.hi;
  for (auto limit : {in.zone.min_c, in.zone.max_c})
    if (limit) {
      lo = std::min(lo, *limit);
      hi = std::max(hi, *limit);
    }
  if (lo > hi) lo = 0.0, hi = 10.0;  // no data, no limits
  const double pad = std::max(0.5, (hi - lo) * 0.08);
  m.y_min_c = lo - pad;
  m.y_max_c = hi + pad;
  m.in = std::move(st.in);
  return m;
}

ReportModel build_report(ReportInput in) { return ReportBuilder(std::move(in)).finish(); }

std::string hold_outcome(const ReportHold& h) {
  const auto remaining = h.qty - h.released - h.written_off;
  std::string parts;
  if (h.released > 0) parts = "released " + std::to_string(h.released);
  if (h.written_off > 0)
    parts +=
        (parts.empty() ? "" : ", ") + std::string("written off ") + std::to_string(h.written_off);
  if (remaining > 0 || !h.closed_at)
    return parts.empty() ? "open"
                         : "open (" + parts + "; " + std::to_string(remaining) + " on hold)";
  if (h.written_off == 0) return "released";
  if (h.released == 0) return "written off";
  return parts;
}

}  // namespace depot::coldchain
