// The figures of a zone's audit report (`depot-agent report`, docs/coldchain.md "Report for
// an auditor"), built from plain values the CLI read from the store and the config: per probe
// a chart series (downsampled, split at gaps), per probe and site-local day (the config's
// site_timezone) min/max/mean and MKT,
// the alarms with their acknowledgements, the holds with their outcome, calibration status
// and the audit chain's head. The HTML is made from this model by `render_report_html`
// (report_html.hpp). Pure: no I/O, no clock; all times are unix milliseconds, UTC.
//
// Rules (the same as the live monitor where it has one):
//  * min/max/mean use good readings only; the mean is the arithmetic mean of the readings
//    (as the per-minute summaries).
//  * MKT (mkt.hpp) weights each good reading by the time it stands: until the probe's next
//    good reading, at most `max_hold_ms` (the probe's offline_after_s), and never past the
//    end of the period. A reading standing across local midnight counts on each day for the
//    part that falls in it; it counts on the day its own time falls in for min/max/mean.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/coldchain/config.hpp"
#include "core/coldchain/zone.hpp"
#include "core/tz.hpp"

namespace depot::coldchain {

struct ReportPoint {
  std::int64_t wall_ms = 0;
  double celsius = 0.0;
};

// One probe of the zone, with its good readings in the period in time order.
struct ReportProbeInput {
  std::string id;
  std::int64_t max_hold_ms = 30'000;  // the probe's offline_after_s
  std::optional<Calibration> calibration;
  std::vector<ReportPoint> good;  // time order
  std::int64_t rejected = 0;      // readings in the period that were not good
};

struct ReportAck {
  std::string who, comment, root_cause;
  std::optional<std::int64_t> at_ms;
  bool late = false;  // given after the alarm had ended
};

// An alarm record (excursion or probe_failure), open or closed.
struct ReportAlarm {
  std::string id;
  std::string type = "temperature";  // temperature | probe_failure | humidity | door_open
  std::string side;                  // high | low ("" for probe_failure and door_open)
  std::string probe;                 // peak probe, or the failed probe, or the door
  std::optional<double> limit_c, peak_c;
  double degree_minutes = 0.0;
  std::int64_t start_ms = 0;
  std::optional<std::int64_t> end_ms;  // unset while open
  bool alarmed = false;
  std::optional<std::int64_t> alarm_ms;
  std::string cause;  // continuous | cumulative | probe_failure | ""
  std::string ended;  // closed | restart | "" (open)
  std::optional<ReportAck> ack;
};

struct ReportHold {
  std::int64_t id = 0;
  std::string sku, excursion, created_at;
  std::int64_t qty = 0, released = 0, written_off = 0;
  std::optional<std::string> closed_at;
};

struct ReportAuditHead {
  std::int64_t entries = 0;  // 0: the trail is empty
  std::int64_t seq = 0;
  std::string hash;  // of entry `seq`
  std::string at;
  bool verified = false;  // the chain was checked from its first entry
  bool intact = false;
  std::string problem;  // when not intact
};

struct ReportInput {
  Zone zone;
  std::int64_t from_ms = 0, to_ms = 0;  // the period [from, to)
  std::int64_t generated_ms = 0;
  std::string site, gateway;
  std::vector<ReportProbeInput> probes;  // config order
  std::vector<ReportAlarm> alarms;       // all that overlap the period (excursions too)
  std::vector<ReportHold> holds;
  ReportAuditHead audit;
  std::int64_t unsynchronized = 0;  // readings stamped while the clock was not synchronised
  tz::Zone site_zone;               // the daily figures are its calendar days (site_timezone)
};

struct DayStats {
  std::int64_t day_ms = 0;  // the first instant of the site-local day
  std::string date;         // that day, YYYY-MM-DD (site-local; empty for a period total)
  std::string probe;
  std::int64_t readings = 0;  // good readings whose time falls in the day
  std::optional<double> min_c, max_c, mean_c, mkt_c;
  double covered_s = 0.0;  // the time the MKT weights add up to
};

struct ChartSeries {
  std::string probe;
  std::vector<std::vector<ReportPoint>> segments;  // split where the probe had no data
};

struct CalibrationStatus {
  std::string probe;
  std::optional<Calibration> calibration;
  bool overdue = false;  // at the report's generation time
};

struct ReportModel {
  ReportInput in;
  bool has_readings = false;
  std::vector<DayStats> days;    // per day, probes in config order within a day
  std::vector<DayStats> totals;  // one per probe over the whole period (day_ms = from_ms)
  std::vector<ChartSeries> charts;
  double y_min_c = 0.0, y_max_c = 1.0;  // the charts' scale (data and limits, padded)
  std::vector<CalibrationStatus> calibrations;
};

// How many points (per probe) a chart keeps at most, about: one min and one max per column.
inline constexpr int kChartColumns = 600;

// Builds the model from the readings in `in.probes[k].good`. REQUIRES: in.from_ms < in.to_ms.
ReportModel build_report(ReportInput in);

// The same, fed one reading at a time, so a month of readings is never held in memory: what
// `depot-agent report` uses. `in.probes[k].good` are fed first; then `add` more.
class ReportBuilder {
 public:
  explicit ReportBuilder(ReportInput in);  // REQUIRES: in.from_ms < in.to_ms
  ~ReportBuilder();
  ReportBuilder(const ReportBuilder&) = delete;
  ReportBuilder& operator=(const ReportBuilder&) = delete;

  // A good reading of probe `k` (index into in.probes). Readings outside the period are
  // ignored. REQUIRES: per probe, times do not decrease.
  void add(std::size_t k, ReportPoint p);
  // A probe not in the config (readings of a probe since removed); returns its index.
  std::size_t add_probe(ReportProbeInput p);
  // Counts a reading that was not good, or was stamped with an unsynchronised clock.
  void count_rejected(std::size_t k);
  void count_unsynchronized();
  ReportModel finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The outcome of a hold for a report: "open", "released", "written off", or "released 4,
// written off 6" (closed partly each way); "open (released 4)" while some remains.
std::string hold_outcome(const ReportHold& h);

}  // namespace depot::coldchain
