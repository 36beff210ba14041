#include "core/coldchain/report.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "core/coldchain/mkt.hpp"

namespace depot::coldchain {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t day_of(std::int64_t ms) {
  std::int64_t d = ms / kDayMs;
  if (ms % kDayMs < 0) --d;  // floor for times before 1970
  return d * kDayMs;
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
ChartSeries chart_of(const ReportProbeInput& p, std::int64_t from_ms, std::int64_t to_ms) {
  ChartSeries s;
  s.probe = p.id;
  const std::int64_t span = to_ms - from_ms;
  std::vector<ReportPoint> seg;
  std::int64_t col = -1;
  ReportPoint first, lo, hi, last;
  auto flush = [&] {
    if (col < 0) return;
    std::vector<ReportPoint> pts{first, lo, hi, last};
    std::sort(pts.begin(), pts.end(),
              [](const ReportPoint& a, const ReportPoint& b) { return a.wall_ms < b.wall_ms; });
    for (const auto& q : pts)
      if (seg.empty() || seg.back().wall_ms != q.wall_ms) seg.push_back(q);
    col = -1;
  };
  std::optional<std::int64_t> prev;
  for (const auto& q : p.good) {
    if (q.wall_ms < from_ms || q.wall_ms >= to_ms) continue;
    if (prev && q.wall_ms - *prev > p.max_hold_ms) {
      flush();
      if (!seg.empty()) s.segments.push_back(std::move(seg));
      seg.clear();
    }
    prev = q.wall_ms;
    const std::int64_t c = (q.wall_ms - from_ms) * kChartColumns / span;
    if (c != col) {
      flush();
      col = c;
      first = lo = hi = last = q;
      continue;
    }
    if (q.celsius < lo.celsius) lo = q;
    if (q.celsius > hi.celsius) hi = q;
    last = q;
  }
  flush();
  if (!seg.empty()) s.segments.push_back(std::move(seg));
  return s;
}

}  // namespace

ReportModel build_report(ReportInput in) {
  ReportModel m;
  const std::int64_t from = in.from_ms, to = in.to_ms;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::vector<std::map<std::int64_t, Acc>> per_day(in.probes.size());
  std::vector<Acc> whole(in.probes.size());
  for (std::size_t k = 0; k < in.probes.size(); ++k) {
    const auto& p = in.probes[k];
    const auto& g = p.good;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const auto t = g[i].wall_ms;
      if (t < from || t >= to) continue;
      const double c = g[i].celsius;
      m.has_readings = true;
      lo = std::min(lo, c);
      hi = std::max(hi, c);
      per_day[k][day_of(t)].add_reading(c);
      whole[k].add_reading(c);
      // The time this reading stands for, split at UTC midnights.
      std::int64_t end = std::min(t + std::max<std::int64_t>(p.max_hold_ms, 0), to);
      if (i + 1 < g.size()) end = std::min(end, g[i + 1].wall_ms);
      for (std::int64_t s = t; s < end;) {
        const std::int64_t d = day_of(s);
        const std::int64_t e = std::min(end, d + kDayMs);
        const double w = static_cast<double>(e - s) / 1000.0;
        per_day[k][d].mkt.add(c, w);
        whole[k].mkt.add(c, w);
        s = e;
      }
    }
    m.charts.push_back(chart_of(p, from, to));
    m.totals.push_back(whole[k].stats(from, p.id));
    m.calibrations.push_back(
        {p.id, p.calibration,
         p.calibration ? calibration_overdue(*p.calibration, in.generated_ms) : false});
  }
  for (std::int64_t d = day_of(from); d < to; d += kDayMs)
    for (std::size_t k = 0; k < in.probes.size(); ++k) {
      auto it = per_day[k].find(d);
      m.days.push_back(it == per_day[k].end() ? Acc{}.stats(d, in.probes[k].id)
                                              : it->second.stats(d, in.probes[k].id));
    }
  for (auto limit : {in.zone.min_c, in.zone.max_c})
    if (limit) {
      lo = std::min(lo, *limit);
      hi = std::max(hi, *limit);
    }
  if (lo > hi) lo = 0.0, hi = 10.0;  // no data, no limits
  const double pad = std::max(0.5, (hi - lo) * 0.08);
  m.y_min_c = lo - pad;
  m.y_max_c = hi + pad;
  m.in = std::move(in);
  return m;
}

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
