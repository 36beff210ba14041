#include "core/replenish/backtest.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/json_fields.hpp"
#include "core/json_parse.hpp"
#include "core/replenish/proposal.hpp"
#include "core/time.hpp"

namespace depot::replenish {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// Quoted for a message: bytes that are not UTF-8 text are shown as \xNN.
std::string quoted(std::string_view s) { return "\"" + printable(s, 60) + "\""; }

}  // namespace

DemandHistoryText parse_demand_csv(std::string_view text) {
  DemandHistoryText out;
  bool first_content = true;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto newline = text.find('\n', pos);
    const std::string_view line =
        trim(text.substr(pos, newline == std::string_view::npos ? newline : newline - pos));
    pos = newline == std::string_view::npos ? text.size() : newline + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto fields = split_fields(line);
    // A header names the columns in any case; the quantity may be "qty".
    auto lower = [](std::string_view f) {
      std::string l(f);
      for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return l;
    };
    const bool header = first_content && fields.size() == 3 && lower(fields[0]) == "date" &&
                        lower(fields[1]) == "sku" &&
                        (lower(fields[2]) == "quantity" || lower(fields[2]) == "qty");
    first_content = false;
    if (header) continue;
    auto problem = [&](const std::string& why) {
      out.problems.push_back("line " + std::to_string(line_no) + ": " + why);
    };
    if (fields.size() != 3) {
      problem("expected 3 fields (date,sku,quantity), found " + std::to_string(fields.size()));
      continue;
    }
    const auto ms = fields[0].size() == 10 ? timefmt::parse_rfc3339_ms(fields[0]) : std::nullopt;
    if (!ms) {
      problem("date " + quoted(fields[0]) + " is not a calendar date (YYYY-MM-DD)");
      continue;
    }
    if (!is_identifier(fields[1])) {
      problem("sku " + quoted(fields[1]) +
              " must be 1-64 characters of letters, digits, '_', '-' or '.'");
      continue;
    }
    const auto& q = fields[2];
    if (q.empty() || q.size() > 9 ||
        !std::all_of(q.begin(), q.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      problem("quantity " + quoted(q) + " must be a whole number of units from 0 to 999999999");
      continue;
    }
    std::int64_t quantity = 0;
    for (char c : q) quantity = quantity * 10 + (c - '0');
    out.rows.push_back({*ms / kDayMs, std::string(fields[1]), quantity});
  }
  return out;
}

BacktestReport backtest(std::span<const DemandRow> rows, const CatalogItem& item,
                        const Policy& policy, const BacktestOptions& options) {
  BacktestReport r;
  if (rows.empty()) return r;
  const auto [lo, hi] = std::minmax_element(
      rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.day < b.day; });
  const std::int64_t first_day = lo->day;
  r.days = hi->day - first_day + 1;
  std::vector<std::int64_t> demand(static_cast<std::size_t>(r.days), 0);
  for (const auto& row : rows)
    if (row.sku == item.sku) demand[static_cast<std::size_t>(row.day - first_day)] += row.quantity;

  DemandTracker tracker;
  std::vector<Proposal> open;         // acknowledged orders not yet delivered
  std::vector<std::int64_t> arrives;  // the day each of `open` arrives
  std::int64_t on_hand = options.initial_on_hand;
  double on_hand_days = 0;
  for (std::int64_t i = 0; i < r.days; ++i) {
    const std::int64_t day = first_day + i;
    for (std::size_t k = 0; k < open.size();) {
      if (arrives[k] != day) {
        ++k;
        continue;
      }
      on_hand += open[k].order.outstanding();
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(k));
      arrives.erase(arrives.begin() + static_cast<std::ptrdiff_t>(k));
    }

    const std::int64_t wanted = demand[static_cast<std::size_t>(i)];
    const std::int64_t filled = std::min(wanted, std::max<std::int64_t>(on_hand, 0));
    on_hand -= filled;
    r.demand_units += wanted;
    r.filled_units += filled;
    if (filled < wanted) ++r.stockout_days;
    tracker.add_day(options.demand, static_cast<double>(filled));

    const std::int64_t now_ms = (day + 1) * kDayMs;
    SkuInputs in;
    in.stock = StockLine{on_hand, 0};
    in.demand = tracker.estimate(options.demand, item);
    in.campaigns = options.campaigns;
    in.proposals = open;
    const Decision d = evaluate(in, &policy, now_ms);
    if (d.proposes() && d.quantity > 0) {
      const double supplier_lead =
          d.supplier ? policy.lead_time_of(*d.supplier) : policy.lead_time_days;
      const auto promised = static_cast<std::int64_t>(std::ceil(supplier_lead));
      std::int64_t late = 0;
      if (!options.extra_delay_days.empty())
        late = options.extra_delay_days[static_cast<std::size_t>(r.orders_placed) %
                                        options.extra_delay_days.size()];
      const auto n = std::to_string(r.orders_placed + 1);
      auto ack = acknowledge(make_proposal(d, "backtest-" + n, item.sku, now_ms), "BT-" + n,
                             now_ms + promised * kDayMs, d.quantity, now_ms);
      if (ack) {
        open.push_back(std::move(*ack));
        arrives.push_back(day + 1 + promised + std::max<std::int64_t>(late, 0));
        ++r.orders_placed;
        r.units_ordered += d.quantity;
        if (d.urgent) ++r.urgent_orders;
      }
    }
    on_hand_days += static_cast<double>(on_hand);
  }
  r.lost_units = r.demand_units - r.filled_units;
  r.fill_rate = r.demand_units > 0
                    ? static_cast<double>(r.filled_units) / static_cast<double>(r.demand_units)
                    : 1.0;
  r.average_on_hand = on_hand_days / static_cast<double>(r.days);
  r.ending_on_hand = on_hand;
  return r;
}

}  // namespace depot::replenish
