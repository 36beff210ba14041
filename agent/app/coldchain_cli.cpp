#include "app/coldchain_cli.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/actions.hpp"
#include "app/args.hpp"
#include "base/clock.hpp"
#include "app/config_file.hpp"
#include "app/store_access.hpp"
#include "app/views.hpp"
#include "app/users_cli.hpp"
#include "core/json_parse.hpp"
#include "core/coldchain/logger_csv.hpp"
#include "core/coldchain/mkt.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/output_store.hpp"
#include "store/ledger.hpp"

namespace depot::app {

const char* const kColdChainUsage = R"(  zones      [-c FILE] [--json]           each zone's state, last reading per probe, open
                                       excursions, MKT 24 h / 30 d (as the agent last saved)
  alarms     [-c FILE] [--open] [--json]
                                       alarms: open ones, then recorded ones, newest first
  alarms ack ZONE SIGNER --comment TEXT [--root-cause TEXT] [-c FILE] [--wait-s N]
                                       acknowledge ZONE's alarms, open (applied by the running
                                       agent) and those that ended unacknowledged
  holds      [-c FILE] [--open] [--json]
                                       quality holds placed when a zone alarmed
  holds release|writeoff HOLD_ID SIGNER --why TEXT [--qty N] [-c FILE] [--json]
                                       end a hold: stock is fine (release) or destroyed
  audit      [-c FILE] [--since T] [--json]
                                       the audit trail, oldest first
  audit verify [-c FILE]               check the audit trail's hash chain
  coldchain  --zone Z --csv FILE [-c FILE] [--max-gap-s N] [--json]
                                       judge a data-logger export by zone Z's rules
)";

namespace {

using nlohmann::json;
namespace cc = coldchain;

using Ctx = CliContext;

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<LoadedConfig> load(const Args& a, Ctx& c) { return cli_load_config(a, c); }

std::unique_ptr<store::Database> open_db(const LoadedConfig& cfg, bool write, Ctx& c) {
  return cli_open_database(cfg, write, c);
}

std::string fmt_c(const json& v) {
  return v.is_number() ? cc::format_celsius(v.get<double>()) + " C" : "-";
}

std::string fmt_rh(const json& v) {
  return v.is_number() ? cc::format_celsius(v.get<double>()) + " %RH" : "-";
}

std::string age_text(std::int64_t ms) {
  if (ms < 0) ms = 0;
  auto s = ms / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// --- zones ---

// An alarm record about a probe that stopped giving good readings (no side, limit or peak).
bool is_probe_failure(const json& x) { return x.value("alarm_type", "temperature") == "probe_failure"; }

int cmd_zones(const Args& a, Ctx& c) {
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_db(*cfg, false, c);
  if (!db) return kFailure;
  if (a.has("--json")) {
    auto st = views::write_zones(c.out, *db, cfg->config, now_ms());
    if (!st) c.err << "depot-agent zones: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto zl = views::zones_json(*db, cfg->config, now_ms());
  if (!zl) {
    c.err << "depot-agent zones: " << zl.error().message << "\n";
    return kFailure;
  }
  json list = std::move(*zl);
  if (list.empty()) {
    c.out << "no zones configured\n";
    return kOk;
  }
  for (const auto& z : list) {
    c.out << "zone " << z["zone"].get<std::string>() << ": ";
    if (z["level"].is_null()) {
      c.out << "no state yet (the agent has not run with this zone)\n";
      continue;
    }
    c.out << z["level"].get<std::string>();
    if (z.value("no_data", false)) c.out << " (NO DATA: every probe is offline)";
    // An MKT over less than its window says so ("MKT 24h" over 11 s misled the trial).
    const double covered = z.value("mkt_24h_covered_s", 86400.0);
    if (covered + 1 < 86400.0)
      c.out << "   MKT " << fmt_c(z["mkt_24h_c"]) << " over the last "
            << age_text(static_cast<std::int64_t>(covered * 1000)) << " (24 h not yet covered)";
    else
      c.out << "   MKT 24h " << fmt_c(z["mkt_24h_c"]) << ", 30d " << fmt_c(z["mkt_30d_c"]);
    c.out << "   (as of " << z["updated_at"].get<std::string>();
    if (z.value("clock_unsynchronized", false)) c.out << ", CLOCK NOT SYNCHRONISED";
    if (z.value("state_age_s", 0) > 30)
      c.out << ", " << age_text(z.value("state_age_s", std::int64_t{0}) * 1000)
            << " ago: is the agent running?";
    c.out << ")\n";
    if (z.contains("humidity") && z["humidity"].is_object()) {
      const auto& h = z["humidity"];
      const auto rh = fmt_rh;
      c.out << "  humidity " << h.value("level", "?") << ": " << rh(h["high_rh"]);
      if (h["low_rh"] != h["high_rh"]) c.out << " (lowest " << rh(h["low_rh"]) << ")";
      c.out << ", limits " << rh(h["min_rh"]) << " to " << rh(h["max_rh"]) << "\n";
    }
    if (z.contains("doors") && z["doors"].is_object()) {
      const auto& d = z["doors"];
      c.out << "  doors " << d.value("level", "?") << ": ";
      if (d["open"].empty()) {
        c.out << "closed";
      } else {
        c.out << "OPEN";
        for (const auto& id : d["open"]) c.out << " " << id.get<std::string>();
        if (d["open_since"].is_string()) c.out << " since " << d["open_since"].get<std::string>();
      }
      c.out << " (door_open alarm after " << d.value("door_open_alarm_s", 0) << " s)\n";
    }
    for (const auto& p : z["probes"]) {
      const std::string measures = p.value("measures", "temperature");
      c.out << "  probe " << std::left << std::setw(16) << p["id"].get<std::string>() << std::setw(9)
            << p["state"].get<std::string>();
      if (p["last"].is_object()) {
        const auto& l = p["last"];
        const auto value = measures == "door"       ? (!l["celsius"].is_number() ? std::string("-")
                                                       : l["celsius"].get<double>() > 0.5 ? "open"
                                                                                          : "closed")
                           : measures == "humidity" ? fmt_rh(l["celsius"])
                                                    : fmt_c(l["celsius"]);
        c.out << " last " << value << " " << l["quality"].get<std::string>() << " "
              << age_text(l.value("age_s", std::int64_t{0}) * 1000) << " ago";
        if (!l.value("reason", "").empty()) c.out << " (" << l["reason"].get<std::string>() << ")";
      } else {
        c.out << " no reading yet";
      }
      if (p.contains("calibration") && p["calibration"].is_object() &&
          p["calibration"].value("overdue", false))
        c.out << "  CALIBRATION OVERDUE since " << p["calibration"].value("due", "?") << " ("
              << p["calibration"].value("certificate", "?") << ")";
      c.out << "\n";
    }
    for (const auto& f : z.value("output_failures", json::array()))
      c.out << "  OUTPUT FAILURE " << f.value("output", "?") << " since " << f.value("since", "?")
            << ": " << f.value("reason", "") << " (" << f.value("failures", std::int64_t{0})
            << " failure(s) in a row)\n";
    for (const auto& x : z["open_excursions"]) {
      // One line per open record: what, since when, the peak where there is one, its state.
      const std::string type = x.value("alarm_type", "temperature");
      const std::string state =
          std::string(x.value("alarmed", false) || is_probe_failure(x) ? ", ALARM" : "") +
          (x["acknowledged"].is_object()
               ? " (acknowledged by " + x["acknowledged"].value("who", "?") + ")"
               : "");
      if (is_probe_failure(x))
        c.out << "  PROBE FAILURE " << x.value("probe", "?") << " since " << x.value("start", "?")
              << ": no good reading";
      else if (type == "door_open")
        c.out << "  DOOR OPEN " << x.value("probe", "?") << " since " << x.value("start", "?");
      else if (type == "humidity")
        c.out << "  OPEN HUMIDITY EXCURSION " << x.value("side", "?") << " since "
              << x.value("start", "?") << ": peak " << fmt_rh(x["peak_c"]);
      else
        c.out << "  OPEN EXCURSION " << x.value("side", "?") << " since " << x.value("start", "?")
              << ": peak " << fmt_c(x["peak_c"]) << ", "
              << x.value("degree_minutes", json(0.0)).get<double>() << " C*min";
      c.out << state << "\n";
    }
  }
  return kOk;
}

// --- alarms ---


bool agent_running(const LoadedConfig& cfg) {
  const auto lock_path = cfg.database_path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  if (!held) ::flock(fd, LOCK_UN);
  ::close(fd);
  return held;
}

int cmd_alarms_ack(const Args& a, Ctx& c, const std::string& zone) {
  auto comment = a.get("--comment");
  if (!a.has("--who") && !a.has("--user")) {
    c.err << "depot-agent alarms ack: --user ID: required (the account acknowledging; before "
             "any account exists, --who NAME)\n";
    return kBadInput;
  }
  if (!comment || comment->empty()) {
    c.err << "depot-agent alarms ack: --comment: required (what was found or done)\n";
    return kBadInput;
  }
  const std::string root_cause = a.get("--root-cause").value_or("");
  for (const auto& bad : {text_problem("--comment", *comment, kMaxCommentBytes),
                          text_problem("--root-cause", root_cause, kMaxCommentBytes)})
    if (!bad.empty()) {
      c.err << "depot-agent alarms ack: " << bad << "\n";
      return kBadInput;
    }
  std::int64_t wait_s = 5;
  if (auto w = a.get("--wait-s")) {
    auto n = to_int(*w);
    if (!n || *n < 0 || *n > 600) {
      c.err << "depot-agent alarms ack: --wait-s: \"" << *w << "\" must be 0 to 600\n";
      return kBadInput;
    }
    wait_s = *n;
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  if (!cc::find_zone(cfg->config.zones, zone)) {
    c.err << "depot-agent alarms ack: ZONE: " << cc::unknown_zone(zone, cfg->config.zones) << "\n";
    return kBadInput;
  }
  auto db = open_db(*cfg, true, c);
  if (!db) return kFailure;
  auto signer = cli_signer(*db, signer_options(a), accounts::Action::kAlarmAck, *comment);
  if (!signer) {
    c.err << "depot-agent alarms ack: " << signer.error().message << "\n";
    return signer.error().is_bad_input() ? kBadInput : kFailure;
  }
  const actions::Signer signer_s{signer->who, signer->signed_by_account, "cli"};
  const bool running = agent_running(*cfg);
  auto done = actions::ack_alarm(*db, {zone, *comment, root_cause}, signer_s, running,
                                 std::chrono::seconds(wait_s));
  if (!done) {
    c.err << "depot-agent alarms ack: " << done.error().message;
    if (done.error().kind == ErrorKind::kNotFound) c.err << "; see 'depot-agent alarms'";
    c.err << "\n";
    return kFailure;
  }
  if (done->next_start) {  // no agent running: the alarm open when it stopped
    c.out << done->message << " (by " << signer->who << ")\n";
    return kOk;
  }
  if (!done->applied) {
    c.err << "depot-agent alarms ack: " << done->message << "; the agent did not apply it within "
          << wait_s << " s. Check with 'depot-agent alarms'.\n";
    return kFailure;
  }
  if (done->request)
    c.out << done->message << " (request " << done->request << ", by " << signer->who << ")\n";
  else
    c.out << "acknowledged " << done->ended << " alarm(s) of zone " << zone << " (" << done->ended
          << " already ended; by " << signer->who << ")\n";
  return kOk;
}

int cmd_alarms(const Args& a, Ctx& c) {
  const auto& pos = a.positional();
  if (!pos.empty()) {
    if (pos[0] != "ack") {
      c.err << "depot-agent alarms: unexpected argument \"" << pos[0] << "\" (did you mean 'alarms ack ZONE'?)\n";
      return kBadInput;
    }
    if (pos.size() != 2) {
      c.err << "depot-agent alarms ack: expects one ZONE\n";
      return kBadInput;
    }
    return cmd_alarms_ack(a, c, pos[1]);
  }
  if (a.has("--who") || a.has("--user") || a.has("--password-file") || a.has("--comment") ||
      a.has("--wait-s") || a.has("--root-cause")) {
    c.err << "depot-agent alarms: --who/--comment/--root-cause/--wait-s go with 'alarms ack ZONE'\n";
    return kBadInput;
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_db(*cfg, false, c);
  if (!db) return kFailure;
  if (a.has("--json")) {
    auto st = views::write_alarms(c.out, *db, {.open = a.has("--open")});
    if (!st) c.err << "depot-agent alarms: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto al = views::alarms_json(*db, {.open = a.has("--open")});
  if (!al) {
    c.err << "depot-agent alarms: " << al.error().message << "\n";
    return kFailure;
  }
  json list = std::move(*al);
  if (list.empty()) {
    c.out << (a.has("--open") ? "no open alarms\n" : "no alarms recorded\n");
    return kOk;
  }
  for (const auto& x : list) {
    if (x.value("alarm_type", "") == "output_failure") {
      c.out << (x["open"].get<bool>() ? "OPEN    " : "ended   ") << "output " << x.value("output", "?")
            << " FAILING from " << x.value("start", "?");
      if (!x["end"].is_null())
        c.out << " to " << x["end"].get<std::string>() << " (" << x.value("cleared_why", "") << ")";
      c.out << "  " << x.value("failures", std::int64_t{0}) << " failure(s), last: "
            << x.value("last_reason", "") << "\n";
      continue;
    }
    const bool failure = is_probe_failure(x);
    const std::string type = x.value("alarm_type", "temperature");
    const bool door = type == "door_open", rh = type == "humidity";
    c.out << (x["open"].get<bool>() ? "OPEN    " : "ended   ") << std::left << std::setw(12)
          << x["zone"].get<std::string>() << std::setw(5)
          << (failure ? "probe failure " + x.value("probe", "?")
              : door  ? "door open " + x.value("probe", "?")
              : rh    ? "humidity " + x["side"].get<std::string>()
                      : x["side"].get<std::string>())
          << " from " << x["start"].get<std::string>();
    if (!x["end"].is_null()) c.out << " to " << x["end"].get<std::string>();
    if (rh)
      c.out << "  peak " << fmt_rh(x["peak_c"]) << "  cause "
            << x.value("cause", json("-")).get<std::string>();
    else if (!failure && !door)
      c.out << "  peak " << fmt_c(x["peak_c"]) << "  " << x["degree_minutes"].get<double>()
            << " C*min  cause " << x.value("cause", json("-")).get<std::string>();
    if (x.contains("ended") && x["ended"] == "restart") c.out << "  [closed at agent restart]";
    if (x["acknowledged"].is_object()) {
      const auto& k = x["acknowledged"];
      c.out << "  acked by " << k.value("who", "?") << (k.value("late", false) ? " after it ended" : "")
            << ": " << k.value("comment", "");
      if (!k.value("root_cause", "").empty()) c.out << " (root cause: " << k.value("root_cause", "") << ")";
    } else {
      c.out << "  NOT ACKNOWLEDGED";
    }
    c.out << "\n";
    if (x.contains("outputs") && x["outputs"].is_array() && !x["outputs"].empty()) {
      c.out << "        outputs:";
      for (const auto& f : x["outputs"]) {
        const auto attempts = f.value("attempts", std::int64_t{0}), ok = f.value("ok", std::int64_t{0});
        c.out << " L" << f.value("level", 0) << " " << f.value("output", "?") << " "
              << f.value("event", "?") << " " << [&] {  // hh:mm:ss of the last attempt
                const auto t = f.value("last_at", std::string("?"));
                return t.size() >= 19 ? t.substr(11, 8) : t;
              }()
              << (ok == attempts ? " ok"
                  : ok > 0       ? " ok after " + std::to_string(attempts - ok) + " failure(s)"
                                 : " FAILED x" + std::to_string(attempts) + " (" +
                                 f.value("last_reason", "") + ")")
              << ";";
      }
      c.out << "\n";
    }
  }
  return kOk;
}

// --- holds ---

int cmd_holds_end(const Args& a, Ctx& c, store::HoldEnd how, const std::string& id_s) {
  const char* verb = how == store::HoldEnd::kRelease ? "release" : "writeoff";
  auto id = to_int(id_s);
  if (!id || *id <= 0) {
    c.err << "depot-agent holds " << verb << ": HOLD_ID: \"" << id_s
          << "\" must be a hold id (a positive integer; see 'depot-agent holds --open')\n";
    return kBadInput;
  }
  auto why = a.get("--why");
  if (!a.has("--who") && !a.has("--user")) {
    c.err << "depot-agent holds " << verb << ": --user ID: required (the account deciding; "
             "before any account exists, --who NAME)\n";
    return kBadInput;
  }
  if (!why || why->empty()) {
    c.err << "depot-agent holds " << verb << ": --why: required (the reason, for the audit trail)\n";
    return kBadInput;
  }
  for (const auto& bad : {text_problem("--why", *why, kMaxCommentBytes)})
    if (!bad.empty()) {
      c.err << "depot-agent holds " << verb << ": " << bad << "\n";
      return kBadInput;
    }
  std::optional<std::int64_t> qty;
  if (auto q = a.get("--qty")) {
    qty = to_int(*q);
    if (!qty || *qty <= 0) {
      c.err << "depot-agent holds " << verb << ": --qty: \"" << *q << "\" must be a positive integer\n";
      return kBadInput;
    }
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_db(*cfg, true, c);
  if (!db) return kFailure;
  auto signer =
      cli_signer(*db, signer_options(a),
                 how == store::HoldEnd::kRelease ? accounts::Action::kHoldRelease
                                                 : accounts::Action::kHoldWriteOff,
                 *why);
  if (!signer) {
    c.err << "depot-agent holds " << verb << ": " << signer.error().message << "\n";
    return signer.error().is_bad_input() ? kBadInput : kFailure;
  }
  auto done = actions::end_hold(*db, {*id, how, qty, *why},
                                {signer->who, signer->signed_by_account, "cli"});
  if (!done) {
    c.err << "depot-agent holds " << verb << ": " << done.error().message << "\n";
    return kBadInput;
  }
  const auto* r = &done->hold;
  if (a.has("--json")) {
    c.out << done->to_json().dump(2) << "\n";
    return kOk;
  }
  c.out << "hold " << r->id << " (" << r->sku << "): "
        << (how == store::HoldEnd::kRelease ? "released " : "written off ")
        << (qty ? std::to_string(*qty) : std::string("all remaining")) << "; remaining on hold "
        << r->remaining() << (r->closed_at ? " (closed)" : "") << "\n";
  if (done->stock)
    c.out << r->sku << ": on hand " << done->stock->on_hand << ", held " << done->stock->held
          << ", available " << done->stock->available() << "\n";
  return kOk;
}

int cmd_holds(const Args& a, Ctx& c) {
  const auto& pos = a.positional();
  if (!pos.empty()) {
    if (pos[0] != "release" && pos[0] != "writeoff") {
      c.err << "depot-agent holds: unexpected argument \"" << pos[0]
            << "\" (expected 'release' or 'writeoff')\n";
      return kBadInput;
    }
    if (pos.size() != 2) {
      c.err << "depot-agent holds " << pos[0] << ": expects one HOLD_ID\n";
      return kBadInput;
    }
    return cmd_holds_end(a, c, pos[0] == "release" ? store::HoldEnd::kRelease : store::HoldEnd::kWriteoff,
                         pos[1]);
  }
  if (a.has("--who") || a.has("--user") || a.has("--password-file") || a.has("--why") ||
      a.has("--qty")) {
    c.err << "depot-agent holds: --who/--why/--qty go with 'holds release|writeoff HOLD_ID'\n";
    return kBadInput;
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_db(*cfg, false, c);
  if (!db) return kFailure;
  if (a.has("--json")) {
    auto st = views::write_holds(c.out, *db, {.open = a.has("--open")});
    if (!st) c.err << "depot-agent holds: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto holds = store::list_holds(*db, a.has("--open"));
  if (!holds) {
    c.err << "depot-agent holds: " << holds.error().message << "\n";
    return kFailure;
  }
  if (holds->empty()) {
    c.out << (a.has("--open") ? "no open holds\n" : "no holds\n");
    return kOk;
  }
  TextTable table({{"ID"}, {"SKU"}, {"ZONE"}, {"QTY", true}, {"RELEASED", true},
                   {"WRITEOFF", true}, {"REMAINING", true}, {"SINCE"}});
  for (const auto& h : *holds)
    table.add({std::to_string(h.id), h.sku, h.zone, std::to_string(h.qty),
               std::to_string(h.released), std::to_string(h.written_off),
               std::to_string(h.remaining()),
               h.created_at + (h.closed_at ? "  closed " + *h.closed_at : "")});
  table.print(c.out);
  return kOk;
}

// --- audit ---

int cmd_audit(const Args& a, Ctx& c) {
  const auto& pos = a.positional();
  if (!pos.empty() && pos[0] != "verify") {
    c.err << "depot-agent audit: unexpected argument \"" << pos[0] << "\" (expected 'verify')\n";
    return kBadInput;
  }
  if (pos.size() > 1) {
    c.err << "depot-agent audit: unexpected argument \"" << pos[1] << "\"\n";
    return kBadInput;
  }
  std::optional<std::string> since;
  if (auto s = a.get("--since")) {
    since = views::parse_since(*s, now_ms());
    if (!since) {
      c.err << "depot-agent audit: --since: \"" << *s << "\" " << views::kSinceRule << "\n";
      return kBadInput;
    }
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  auto db = open_db(*cfg, false, c);
  if (!db) return kFailure;
  if (!pos.empty()) {
    auto v = store::audit_verify(*db);
    if (!v) {
      c.err << "depot-agent audit verify: " << v.error().message << "\n";
      return kFailure;
    }
    if (a.has("--json")) {
      c.out << json{{"ok", v->ok}, {"entries", v->entries},
                    {"broken_seq", v->ok ? json() : json(v->broken_seq)},
                    {"problem", v->ok ? json() : json(v->problem)}}.dump(2)
            << "\n";
      return v->ok ? kOk : kFailure;
    }
    if (v->ok) {
      c.out << "audit trail ok: " << v->entries << " entries, chain intact\n";
      return kOk;
    }
    c.out << "AUDIT TRAIL BROKEN at entry " << v->broken_seq << ": " << v->problem << "\n";
    return kFailure;
  }
  if (a.has("--json")) {
    auto st = views::write_audit(c.out, *db, {.since = since});
    if (!st) c.err << "depot-agent audit: " << st.error().message << "\n";
    return st ? kOk : kFailure;
  }
  auto list = store::audit_list(*db, since);
  if (!list) {
    c.err << "depot-agent audit: " << list.error().message << "\n";
    return kFailure;
  }
  if (list->empty()) c.out << "no audit entries\n";
  for (const auto& r : *list)
    c.out << std::right << std::setw(6) << r.seq << "  " << r.at << "  " << std::left
          << std::setw(14) << r.what << " " << std::setw(12) << r.who << " " << r.why << "\n";
  return kOk;
}

// --- coldchain (logger file) ---

int cmd_coldchain(const Args& a, Ctx& c) {
  auto zone_id = a.get("--zone");
  auto csv = a.get("--csv");
  if (!zone_id || !csv) {
    c.err << "depot-agent coldchain: " << (!zone_id ? "--zone" : "--csv") << " is required\n";
    return kBadInput;
  }
  std::int64_t max_gap_s = 3600;
  if (auto g = a.get("--max-gap-s")) {
    auto n = to_int(*g);
    if (!n || *n < 1 || *n > 2592000) {
      c.err << "depot-agent coldchain: --max-gap-s: \"" << *g << "\" must be 1 to 2592000\n";
      return kBadInput;
    }
    max_gap_s = *n;
  }
  auto cfg = load(a, c);
  if (!cfg) return kBadInput;
  const cc::Zone* zone = cc::find_zone(cfg->config.zones, *zone_id);
  if (!zone) {
    c.err << "depot-agent coldchain: --zone: " << cc::unknown_zone(*zone_id, cfg->config.zones)
          << "\n";
    return kBadInput;
  }
  std::ifstream in(*csv, std::ios::binary);
  if (!in) {
    c.err << "depot-agent coldchain: --csv: cannot read \"" << *csv << "\"\n";
    return kBadInput;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = cc::parse_logger_csv(ss.str());
  if (file.rows.empty()) {
    c.err << "depot-agent coldchain: " << *csv << ": no readings";
    if (!file.problems.empty()) c.err << " (" << file.problems.size() << " bad lines)";
    c.err << "\n";
    for (const auto& p : file.problems) c.err << "  " << *csv << ":" << p.line << ": " << p.reason << "\n";
    return kBadInput;
  }
  auto ev = cc::evaluate_logger(file, *zone, cc::logger_check(*zone), max_gap_s);
  const auto end_ns = (file.rows.back().unix_ms - file.rows.front().unix_ms) * 1'000'000;
  json xs = json::array();
  for (std::size_t i = 0; i < ev.excursions.size(); ++i) {
    auto j = store::excursion_json(ev.excursions[i], std::to_string(i + 1), end_ns);
    j.erase("start_wall_ms");
    j.erase("end_wall_ms");
    j.erase("alarm_wall_ms");
    j.erase("clock_unsynchronized");
    if (j["acknowledged"].is_null()) j.erase("acknowledged");
    j["open"] = !ev.excursions[i].end.has_value();
    xs.push_back(std::move(j));
  }
  json events = json::array();
  std::int64_t alarms = 0;
  for (const auto& e : ev.events) {
    json j{{"kind", cc::to_string(e.kind)}, {"at", timefmt::rfc3339_from_unix_ms(e.at.wall_ms)}};
    if (e.side) j["side"] = cc::to_string(*e.side);
    if (e.celsius) j["celsius"] = *e.celsius;
    if (e.cause) j["cause"] = cc::to_string(*e.cause);
    if (!e.side && !e.probe.empty()) j["probe"] = e.probe;
    if (e.kind == cc::EventKind::kAlarmRepeat) j["repeat"] = e.repeat;
    if (e.kind == cc::EventKind::kAlarm) ++alarms;
    events.push_back(std::move(j));
  }
  json problems = json::array();
  for (const auto& p : file.problems) problems.push_back({{"line", p.line}, {"reason", p.reason}});
  // Rows that parsed but were outside the plausible range: dropped from the evaluation, and
  // every one is named (a silent drop once hid an ultra-low freezer's -56 °C).
  json dropped = json::array();
  for (const auto& p : ev.dropped) dropped.push_back({{"line", p.line}, {"reason", p.reason}});
  if (a.has("--json")) {
    json out{{"zone", zone->id},
             {"file", *csv},
             {"readings", file.rows.size()},
             {"first", timefmt::rfc3339_from_unix_ms(file.rows.front().unix_ms)},
             {"last", timefmt::rfc3339_from_unix_ms(file.rows.back().unix_ms)},
             {"mkt_c", ev.mkt_c ? json(std::round(*ev.mkt_c * 100) / 100) : json()},
             {"mkt_covered_s", ev.covered_s},
             {"alarms", alarms},
             {"excursions", xs},
             {"events", events},
             {"problems", problems},
             {"dropped", dropped}};
    c.out << out.dump(2) << "\n";
    return problems.empty() ? kOk : kBadInput;
  }
  c.out << *csv << ": " << file.rows.size() << " readings from "
        << timefmt::rfc3339_from_unix_ms(file.rows.front().unix_ms) << " to "
        << timefmt::rfc3339_from_unix_ms(file.rows.back().unix_ms) << ", zone " << zone->id << "\n";
  c.out << "MKT: " << (ev.mkt_c ? cc::format_celsius(std::round(*ev.mkt_c * 100) / 100) + " C" : "-")
        << " over " << std::llround(ev.covered_s / 60) << " min\n";
  c.out << "excursions: " << xs.size() << ", alarms: " << alarms << "\n";
  for (const auto& x : xs) {
    if (is_probe_failure(x)) {
      c.out << "  no data from " << x["start"].get<std::string>()
            << (x["open"].get<bool>() ? " (still open at the end of the file)"
                                      : " to " + x["end"].get<std::string>())
            << ": ALARM (probe_failure: a gap longer than --max-gap-s)\n";
      continue;
    }
    c.out << "  " << x["side"].get<std::string>() << " from " << x["start"].get<std::string>()
          << (x["open"].get<bool>() ? " (still open at the end of the file)"
                                    : " to " + x["end"].get<std::string>())
          << ": peak " << fmt_c(x["peak_c"]) << ", " << x["degree_minutes"].get<double>()
          << " C*min" << (x["alarmed"].get<bool>()
                              ? ", ALARM at " + x["alarm_at"].get<std::string>() + " (" +
                                    x["cause"].get<std::string>() + ")"
                              : "")
          << "\n";
  }
  for (const auto& e : events)
    c.out << "  event " << e["at"].get<std::string>() << " " << e["kind"].get<std::string>()
          << (e.contains("side") ? " " + e["side"].get<std::string>() : "")
          << (e.contains("cause") ? " (" + e["cause"].get<std::string>() + ")" : "") << "\n";
  for (const auto& p : file.problems)
    c.err << *csv << ":" << p.line << ": " << p.reason << " (line skipped)\n";
  for (const auto& p : ev.dropped)
    c.err << *csv << ":" << p.line << ": " << p.reason << " (reading dropped)\n";
  return file.problems.empty() ? kOk : kBadInput;
}

}  // namespace

const std::vector<CliCommand>& coldchain_commands() {
  static const std::vector<CliCommand> commands = {
      {"zones", {kConfigOption, kJsonOption}, cmd_zones, 0},
      {"alarms",
       {kConfigOption, kJsonOption, {"--open", false, ""}, {"--who", true, ""}, kSignUser, kSignPasswordFile, {"--comment", true, ""},
        {"--root-cause", true, ""}, {"--wait-s", true, ""}},
       cmd_alarms, 2},
      {"holds",
       {kConfigOption, kJsonOption, {"--open", false, ""}, {"--who", true, ""}, kSignUser, kSignPasswordFile, {"--why", true, ""},
        {"--qty", true, ""}},
       cmd_holds, 2},
      {"audit", {kConfigOption, kJsonOption, {"--since", true, ""}}, cmd_audit, 1},
      {"coldchain",
       {kConfigOption, kJsonOption, {"--zone", true, ""}, {"--csv", true, ""}, {"--max-gap-s", true, ""}},
       cmd_coldchain, 0},
  };
  return commands;
}

}  // namespace depot::app
