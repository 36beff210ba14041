#include "core/coldchain/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/time.hpp"

namespace depot::coldchain {
namespace {

std::string iso(std::int64_t ms) { return timefmt::rfc3339_from_unix_ms(ms); }
std::string iso(const std::optional<std::int64_t>& ms) { return ms ? iso(*ms) : "-"; }
std::string day_text(std::int64_t ms) { return iso(ms).substr(0, 10); }  // a UTC date

std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // "-0.00"
  return s;
}

std::string e(std::string_view s) { return html_escape(s); }

const char* kStyle = R"css(
body { font: 14px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111;
       margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px;
     border-bottom: 1px solid #999; } h3 { font-size: 14px; margin: 12px 0 4px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; } td.n { overflow-wrap: normal; white-space: nowrap; }
#alarm-table { font-size: 11px; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #444; font-size: 12px; } .bad { color: #b00; font-weight: bold; }
.ok { color: #070; } .empty { font-style: italic; color: #555; }
code.hash { font-size: 12px; word-break: break-all; }
figure { margin: 8px 0 16px; } svg { width: 100%; height: auto; }
svg text { font: 11px "DejaVu Sans", Arial, sans-serif; fill: #333; }
.series { fill: none; stroke: #1f5fbf; stroke-width: 1.2; }
.limit { stroke: #c00; stroke-width: 1; stroke-dasharray: 6 3; }
.grid { stroke: #ddd; stroke-width: 0.6; } .frame { fill: none; stroke: #888; }
.shade-alarm { fill: #e33; fill-opacity: 0.22; } .shade-excursion { fill: #f90; fill-opacity: 0.18; }
.shade-failure { fill: #777; fill-opacity: 0.25; }
.shade-door { fill: #7a3fbf; fill-opacity: 0.16; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.sw { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .shade-alarm, .shade-excursion, .shade-failure, .shade-door, th, .sw { -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
}
)css";

// Round tick steps (1, 2, 5 x 10^k) giving about `want` ticks over [lo, hi].
double tick_step(double lo, double hi, int want) {
  const double raw = (hi - lo) / want;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 5.0, 10.0})
    if (raw <= f * p) return f * p;
  return 10.0 * p;
}

struct Frame {
  double w = 960, h = 260, ml = 56, mr = 12, mt = 12, mb = 34;
  std::int64_t from = 0, to = 1;
  double ymin = 0, ymax = 1;
  double x(std::int64_t t) const {
    t = std::clamp(t, from, to);
    return ml + (w - ml - mr) * static_cast<double>(t - from) / static_cast<double>(to - from);
  }
  double y(double c) const { return mt + (h - mt - mb) * (ymax - c) / (ymax - ymin); }
};

void chart(std::ostream& o, const ReportModel& m, const ChartSeries& s) {
  Frame f;
  f.from = m.in.from_ms;
  f.to = m.in.to_ms;
  f.ymin = m.y_min_c;
  f.ymax = m.y_max_c;
  o << "<figure class=\"chart\" data-probe=\"" << e(s.probe)
    << "\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << num(f.w, 0) << " "
    << num(f.h, 0) << "\" role=\"img\" aria-label=\"temperature of probe " << e(s.probe) << "\">\n";
  // Alarms and excursions first, under the line.
  // Door openings of the zone are shaded on every probe's chart: the usual cause of a warm
  // excursion, shown beside it. Humidity excursions are not (not this chart's quantity).
  for (const auto& a : m.in.alarms) {
    const bool failure = a.type == "probe_failure", door = a.type == "door_open";
    if (failure && a.probe != s.probe) continue;
    if (a.type == "humidity") continue;
    const double x0 = f.x(std::max(a.start_ms, f.from)), x1 = f.x(a.end_ms.value_or(f.to));
    o << "<rect class=\""
      << (failure     ? "shade-failure"
          : door      ? "shade-door"
          : a.alarmed ? "shade-alarm"
                      : "shade-excursion")
      << "\" x=\"" << num(x0, 1) << "\" y=\"" << num(f.mt, 1) << "\" width=\""
      << num(std::max(x1 - x0, 1.0), 1) << "\" height=\"" << num(f.h - f.mt - f.mb, 1)
      << "\"><title>" << e(a.id) << "</title></rect>\n";
  }
  const double step = tick_step(f.ymin, f.ymax, 6);
  for (double v = std::ceil(f.ymin / step) * step; v <= f.ymax + 1e-9; v += step) {
    o << "<line class=\"grid\" x1=\"" << num(f.ml, 1) << "\" x2=\"" << num(f.w - f.mr, 1)
      << "\" y1=\"" << num(f.y(v), 1) << "\" y2=\"" << num(f.y(v), 1) << "\"/>"
      << "<text x=\"" << num(f.ml - 4, 1) << "\" y=\"" << num(f.y(v) + 4, 1)
      << "\" text-anchor=\"end\">" << num(v, step < 1 ? 1 : 0) << "</text>\n";
  }
  const int xticks = 6;
  const bool short_period = f.to - f.from < 2 * 3'600'000;  // ticks need seconds
  for (int i = 0; i <= xticks; ++i) {
    const std::int64_t t = f.from + (f.to - f.from) * i / xticks;
    const std::string label = iso(t);
    o << "<line class=\"grid\" x1=\"" << num(f.x(t), 1) << "\" x2=\"" << num(f.x(t), 1)
      << "\" y1=\"" << num(f.mt, 1) << "\" y2=\"" << num(f.h - f.mb, 1) << "\"/>"
      << "<text x=\"" << num(f.x(t), 1) << "\" y=\"" << num(f.h - f.mb + 14, 1)
      << "\" text-anchor=\""
      << (i == 0        ? "start"
          : i == xticks ? "end"
                        : "middle")
      << "\">" << label.substr(0, 10) << "</text><text x=\"" << num(f.x(t), 1) << "\" y=\""
      << num(f.h - f.mb + 27, 1) << "\" text-anchor=\""
      << (i == 0        ? "start"
          : i == xticks ? "end"
                        : "middle")
      << "\">" << label.substr(11, short_period ? 8 : 5) << "Z</text>\n";
  }
  for (auto [limit, name] : {std::pair{m.in.zone.max_c, "max"}, std::pair{m.in.zone.min_c, "min"}})
    if (limit)
      o << "<line class=\"limit\" x1=\"" << num(f.ml, 1) << "\" x2=\"" << num(f.w - f.mr, 1)
        << "\" y1=\"" << num(f.y(*limit), 1) << "\" y2=\"" << num(f.y(*limit), 1)
        << "\"/><text x=\"" << num(f.w - f.mr - 4, 1) << "\" y=\""
        << num(f.y(*limit) + (std::string_view(name) == "max" ? -4 : 12), 1)
        << "\" text-anchor=\"end\" fill=\"#c00\">" << name << " " << report_celsius(*limit)
        << " \u00B0C</text>\n";
  for (const auto& seg : s.segments) {
    o << "<polyline class=\"series\" points=\"";
    for (const auto& p : seg) o << num(f.x(p.wall_ms), 1) << "," << num(f.y(p.celsius), 1) << " ";
    o << "\"/>\n";
  }
  o << "<rect class=\"frame\" x=\"" << num(f.ml, 1) << "\" y=\"" << num(f.mt, 1) << "\" width=\""
    << num(f.w - f.ml - f.mr, 1) << "\" height=\"" << num(f.h - f.mt - f.mb, 1) << "\"/>\n"
    << "<text x=\"12\" y=\"" << num(f.mt + (f.h - f.mt - f.mb) / 2, 1)
    << "\" transform=\"rotate(-90 12 " << num(f.mt + (f.h - f.mt - f.mb) / 2, 1)
    << ")\" text-anchor=\"middle\">\u00B0C</text>\n";
  o << "</svg>\n<figcaption>Probe <b>" << e(s.probe) << "</b>"
    << (s.segments.empty() ? ": no good reading in this period" : "")
    << "</figcaption>\n</figure>\n";
}

void stats_row(std::ostream& o, const DayStats& d, const std::string& first_cell) {
  o << "<tr data-probe=\"" << e(d.probe) << "\" data-day=\"" << first_cell << "\"><td>"
    << first_cell << "</td><td>" << e(d.probe) << "</td><td class=\"n\">" << d.readings << "</td>";
  if (d.readings == 0 && !d.mkt_c) {
    o << "<td colspan=\"5\" class=\"empty\">no readings</td></tr>\n";
    return;
  }
  o << "<td class=\"n min\">" << report_celsius(d.min_c) << "</td><td class=\"n max\">"
    << report_celsius(d.max_c) << "</td><td class=\"n mean\">" << report_celsius(d.mean_c)
    << "</td><td class=\"n mkt\">" << report_celsius(d.mkt_c) << "</td><td class=\"n\">"
    << num(d.covered_s / 3600.0, 2) << "</td></tr>\n";
}

std::string duration_text(double s) {
  if (s < 120) return num(s, 0) + " s";
  if (s < 7200) return num(s / 60, 1) + " min";
  return num(s / 3600, 2) + " h";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  return out;
}

std::string report_celsius(const std::optional<double>& c) { return c ? num(*c, 2) : "-"; }

std::string render_report_html(const ReportModel& m, std::string_view generator) {
  const auto& in = m.in;
  const auto& z = in.zone;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<title>Cold-chain report: zone " << e(z.id) << ", " << iso(in.from_ms) << " to "
    << iso(in.to_ms) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n";
  o << "<header>\n<h1>Cold-chain report: zone <span id=\"zone\">" << e(z.id) << "</span></h1>\n"
    << "<p>Period <time id=\"from\">" << iso(in.from_ms) << "</time> to <time id=\"to\">"
    << iso(in.to_ms) << "</time> (end excluded). Site " << e(in.site) << ", gateway "
    << e(in.gateway) << ". Generated <time id=\"generated\">" << iso(in.generated_ms)
    << "</time>.</p>\n<p class=\"note\" id=\"utc\">All times in this report are UTC, written in "
       "ISO 8601 (YYYY-MM-DDThh:mm:ss.sssZ). Temperatures are in \u00B0C.</p>\n";
  if (in.unsynchronized > 0)
    o << "<p class=\"bad\" id=\"unsynchronized\">" << in.unsynchronized
      << " reading(s) in this period were stamped while the gateway's clock was not "
         "NTP-synchronised: their times may be off.</p>\n";
  o << "</header>\n";

  // Zone rules.
  o << "<section id=\"rules\">\n<h2>Zone rules</h2>\n<table><tbody>\n"
    << "<tr><th>Lower limit</th><td>" << (z.min_c ? report_celsius(*z.min_c) + " \u00B0C" : "none")
    << "</td><th>Upper limit</th><td>" << (z.max_c ? report_celsius(*z.max_c) + " \u00B0C" : "none")
    << "</td></tr>\n<tr><th>Alarm delay</th><td>" << z.alarm_delay_s
    << " s out of range, continuously</td><th>Hysteresis</th><td>" << report_celsius(z.hysteresis_c)
    << " \u00B0C (for clearing)</td></tr>\n<tr><th>Warning band</th><td>"
    << report_celsius(z.warning_band_c) << " \u00B0C</td><th>Cumulative budget</th><td>"
    << (z.cumulative ? std::to_string(z.cumulative->limit_s) + " s within " +
                           std::to_string(z.cumulative->window_s) + " s"
                     : std::string("none"))
    << "</td></tr>\n</tbody></table>\n</section>\n";

  // Charts.
  o << "<section id=\"charts\">\n<h2>Temperature per probe</h2>\n";
  if (!m.has_readings) {
    o << "<p class=\"empty\" id=\"no-readings\">No readings in this period.</p>\n";
  } else {
    o << "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#1f5fbf\"></i>probe "
         "temperature</span><span><i class=\"sw\" style=\"background:#c00\"></i>zone limits</span>"
         "<span><i class=\"sw shade-alarm\" style=\"background:#e33;opacity:.4\"></i>alarmed "
         "excursion</span><span><i class=\"sw\" style=\"background:#f90;opacity:.4\"></i>excursion "
         "(no alarm)</span><span><i class=\"sw\" style=\"background:#777;opacity:.5\"></i>probe "
         "failure</span><span><i class=\"sw\" style=\"background:#7a3fbf;opacity:.4\"></i>door "
         "open</span></p>\n";
    for (const auto& s : m.charts) chart(o, m, s);
  }
  o << "</section>\n";

  // Daily statistics.
  o << "<section id=\"daily\">\n<h2>Daily figures (site days, " << e(m.in.site_zone.name) << ")</h2>\n";
  if (!m.has_readings) {
    o << "<p class=\"empty\">No readings in this period.</p>\n";
  } else {
    o << "<p class=\"note\">Good readings only. Mean: arithmetic mean of the readings. MKT: mean "
         "kinetic temperature (\u0394H/R = 10,000 K), each reading weighted by the time it stands "
         "until the probe's next reading (at most the probe's offline time, or "
         "retention.raw_every_s plus its read interval when that is longer).</p>\n"
      << "<table id=\"daily-table\"><thead><tr><th>Day</th><th>Probe</th><th>Readings</th>"
         "<th>Min \u00B0C</th><th>Max \u00B0C</th><th>Mean \u00B0C</th><th>MKT \u00B0C</th>"
         "<th>MKT covers (h)</th></tr></thead>\n<tbody>\n";
    for (const auto& d : m.days) stats_row(o, d, d.date);
    o << "</tbody>\n<tbody class=\"totals\">\n";
    for (const auto& d : m.totals) stats_row(o, d, "period");
    o << "</tbody></table>\n";
  }
  o << "</section>\n";

  // Alarms.
  o << "<section id=\"alarms\">\n<h2>Alarms</h2>\n";
  std::size_t alarmed = 0;
  for (const auto& a : m.in.alarms) alarmed += a.alarmed ? 1 : 0;
  if (alarmed == 0) {
    o << "<p class=\"empty\">No alarm in this period.</p>\n";
  } else {
    o << "<table id=\"alarm-table\"><thead><tr><th>Alarm</th><th>What</th><th>From</th><th>To</th>"
         "<th>Alarm at</th><th>Peak \u00B0C</th><th>\u00B0C\u00B7min</th><th>Acknowledged by</th>"
         "<th>At</th><th>Comment</th><th>Root cause / corrective "
         "action</th></tr></thead>\n<tbody>\n";
    for (const auto& a : m.in.alarms) {
      if (!a.alarmed) continue;
      const bool door = a.type == "door_open", rh = a.type == "humidity";
      const bool failure = a.type == "probe_failure" || door;
      o << "<tr class=\"alarm\" data-id=\"" << e(a.id) << "\" data-type=\"" << e(a.type)
        << "\"><td>" << e(a.id) << "</td><td>"
        << (door      ? "door open: " + e(a.probe)
            : failure ? "probe failure: " + e(a.probe)
            : rh      ? "humidity " + e(a.side) + " (limit " + report_celsius(a.limit_c) + " %RH)"
                      : e(a.side) + " (limit " + report_celsius(a.limit_c) + " \u00B0C)")
        << (a.cause.empty() ? "" : ", cause " + e(a.cause)) << "</td><td>" << iso(a.start_ms)
        << "</td><td>"
        << (a.end_ms ? iso(*a.end_ms) + (a.ended == "restart" ? " (agent restart)" : "")
                     : std::string("<b>open</b>"))
        << "</td><td>" << iso(a.alarm_ms) << "</td><td class=\"n\">"
        << (failure ? "-" : report_celsius(a.peak_c) + (rh ? " %RH" : "")) << "</td><td class=\"n\">"
        << (failure || rh ? "-" : num(a.degree_minutes, 1)) << "</td>";
      if (a.ack) {
        o << "<td class=\"who\">" << e(a.ack->who) << "</td><td>" << iso(a.ack->at_ms)
          << (a.ack->late ? " (after the alarm ended)" : "") << "</td><td class=\"comment\">"
          << e(a.ack->comment) << "</td><td class=\"root-cause\">" << e(a.ack->root_cause)
          << "</td>";
      } else {
        o << "<td colspan=\"4\" class=\"bad\">NOT ACKNOWLEDGED</td>";
      }
      o << "</tr>\n";
    }
    o << "</tbody></table>\n";
  }
  const auto quiet = static_cast<std::size_t>(std::count_if(
      m.in.alarms.begin(), m.in.alarms.end(),
      [](const ReportAlarm& a) { return !a.alarmed && a.type != "door_open"; }));
  if (quiet > 0) {
    o << "<h3>Excursions that did not alarm</h3>\n<table id=\"excursion-table\"><thead><tr>"
         "<th>Excursion</th><th>Side</th><th>From</th><th>To</th><th>Peak \u00B0C</th>"
         "<th>\u00B0C\u00B7min</th></tr></thead>\n<tbody>\n";
    for (const auto& a : m.in.alarms)
      if (!a.alarmed && a.type != "door_open")
        o << "<tr><td>" << e(a.id) << "</td><td>"
          << (a.type == "probe_failure" ? "probe failure: " + e(a.probe)
              : a.type == "humidity"    ? "humidity " + e(a.side) + " (%RH)"
                                        : e(a.side))
          << "</td><td>"
          << iso(a.start_ms) << "</td><td>" << (a.end_ms ? iso(*a.end_ms) : std::string("open"))
          << "</td><td class=\"n\">" << report_celsius(a.peak_c) << "</td><td class=\"n\">"
          << num(a.degree_minutes, 1) << "</td></tr>\n";
    o << "</tbody></table>\n";
  }
  o << "</section>\n";

  // Door openings, each beside the temperature excursions it may explain: one that overlaps
  // it or ended at most 30 minutes before it started.
  std::vector<const ReportAlarm*> doors;
  for (const auto& a : m.in.alarms)
    if (a.type == "door_open") doors.push_back(&a);
  if (!doors.empty()) {
    constexpr std::int64_t kBeforeMs = 30 * 60'000;
    std::int64_t open_ms = 0;
    for (const auto* d : doors)
      open_ms += std::min(d->end_ms.value_or(m.in.to_ms), m.in.to_ms) -
                 std::max(d->start_ms, m.in.from_ms);
    o << "<section id=\"doors\">\n<h2>Door openings</h2>\n<p>" << doors.size()
      << " opening(s), open " << num(static_cast<double>(open_ms) / 60'000.0, 1)
      << " min in all.</p>\n<table id=\"door-table\"><thead><tr><th>Door</th><th>Opened</th>"
         "<th>Closed</th><th>Minutes</th><th>door_open alarm</th><th>Temperature excursion "
         "beside it</th></tr></thead>\n<tbody>\n";
    for (const auto* d : doors) {
      const std::int64_t end = d->end_ms.value_or(m.in.to_ms);
      std::string beside;
      for (const auto& x : m.in.alarms) {
        if (x.type != "temperature") continue;
        const std::int64_t x_end = x.end_ms.value_or(m.in.to_ms);
        if (d->start_ms <= x_end && end + kBeforeMs >= x.start_ms)
          beside += (beside.empty() ? "" : ", ") + e(x.id) + (x.alarmed ? " (alarm)" : "");
      }
      o << "<tr class=\"door\" data-door=\"" << e(d->probe) << "\"><td>" << e(d->probe)
        << "</td><td>" << iso(d->start_ms) << "</td><td>"
        << (d->end_ms ? iso(*d->end_ms) + (d->ended == "restart" ? " (agent restart)" : "")
                      : std::string("<b>open</b>"))
        << "</td><td class=\"n\">" << num(static_cast<double>(end - d->start_ms) / 60'000.0, 1)
        << "</td><td>" << (d->alarmed ? "yes, at " + iso(d->alarm_ms) : std::string("no"))
        << "</td><td class=\"beside\">" << (beside.empty() ? "-" : beside) << "</td></tr>\n";
    }
    o << "</tbody></table>\n</section>\n";
  }

  // Holds.
  o << "<section id=\"holds\">\n<h2>Quality holds</h2>\n";
  if (in.holds.empty()) {
    o << "<p class=\"empty\">No hold in this period.</p>\n";
  } else {
    o << "<table "
         "id=\"hold-table\"><thead><tr><th>Hold</th><th>SKU</th><th>Qty</th><th>Released</th>"
         "<th>Written off</th><th>Outcome</th><th>Placed</th><th>Closed</th><th>Excursion</th>"
         "</tr></thead>\n<tbody>\n";
    for (const auto& h : in.holds)
      o << "<tr><td class=\"n\">" << h.id << "</td><td>" << e(h.sku) << "</td><td class=\"n\">"
        << h.qty << "</td><td class=\"n\">" << h.released << "</td><td class=\"n\">"
        << h.written_off << "</td><td class=\"outcome\">" << e(hold_outcome(h)) << "</td><td>"
        << e(h.created_at) << "</td><td>" << e(h.closed_at.value_or("-")) << "</td><td>"
        << e(h.excursion) << "</td></tr>\n";
    o << "</tbody></table>\n";
  }
  o << "</section>\n";

  // Calibration.
  o << "<section id=\"calibration\">\n<h2>Probe calibration</h2>\n<table><thead><tr>"
       "<th>Probe</th><th>Certificate</th><th>Calibrated</th><th>Due</th><th>Status at "
       "generation</th><th>Readings rejected in the period</th></tr></thead>\n<tbody>\n";
  for (std::size_t k = 0; k < m.calibrations.size(); ++k) {
    const auto& c = m.calibrations[k];
    o << "<tr data-probe=\"" << e(c.probe) << "\"><td>" << e(c.probe) << "</td>";
    if (c.calibration)
      o << "<td>" << e(c.calibration->certificate) << "</td><td>"
        << day_text(c.calibration->date_ms) << "</td><td>" << day_text(c.calibration->due_ms)
        << "</td><td class=\"" << (c.overdue ? "bad\">OVERDUE" : "ok\">in date") << "</td>";
    else
      o << "<td colspan=\"3\">no calibration record</td><td class=\"bad\">UNKNOWN</td>";
    o << "<td class=\"n\">" << (k < in.probes.size() ? in.probes[k].rejected : 0) << "</td></tr>\n";
  }
  if (m.calibrations.empty())
    o << "<tr><td colspan=\"6\" class=\"empty\">no probe configured for this zone</td></tr>\n";
  o << "</tbody></table>\n</section>\n";

  // Audit.
  const auto& a = in.audit;
  o << "<section id=\"audit\">\n<h2>Audit trail</h2>\n";
  if (a.entries == 0) {
    o << "<p class=\"empty\">The audit trail is empty.</p>\n";
  } else {
    o << "<p>Head of the hash chain at generation: entry <span id=\"audit-seq\">" << a.seq
      << "</span> (" << e(a.at) << "), hash <code class=\"hash\" id=\"audit-head\">" << e(a.hash)
      << "</code>.</p>\n<p>";
    if (!a.verified)
      o << "<span class=\"bad\">The chain could not be verified"
        << (a.problem.empty() ? std::string() : ": " + e(a.problem)) << ".</span>";
    else if (a.intact)
      o << "<span class=\"ok\">Chain verified: " << a.entries << " entries, intact.</span>";
    else
      o << "<span class=\"bad\">CHAIN BROKEN: " << e(a.problem) << "</span>";
    o << " Check with <code>depot-agent audit verify</code>; the head hash above must appear in "
         "the "
         "trail at the same entry.</p>\n";
  }
  o << "</section>\n<footer class=\"note\"><p>Made by " << e(generator) << "; the period is "
    << duration_text(static_cast<double>(in.to_ms - in.from_ms) / 1000.0)
    << " long.</p></footer>\n</body>\n</html>\n";
  return o.str();
}

}  // namespace depot::coldchain
