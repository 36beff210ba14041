// The console's JSON API (docs/api.md): the read views of app/views.hpp behind the
// authentication hook, and the session routes (login, logout, session).
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <variant>

#include "base/clock.hpp"
#include "app/console.hpp"
#include "app/report_cli.hpp"
#include "app/views.hpp"
#include "core/accounts.hpp"
#include "core/json_fields.hpp"
#include "core/json_parse.hpp"
#include "core/time.hpp"
#include "store/outbox.hpp"

namespace depot::app {

namespace {

using nlohmann::json;

http::Response json_response(int status, const json& j) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

http::Response error_response(int status, std::string message) {
  return json_response(status, {{"error", std::move(message)}});
}

// A refused parameter: 400 with the field, the value as given (made printable) and the rule.
http::Response bad_param(const std::string& field, std::string_view value,
                         const std::string& rule) {
  auto v = printable(value, 100);
  return json_response(400, {{"error", field + ": \"" + v + "\" " + rule},
                             {"field", field},
                             {"value", v},
                             {"rule", rule}});
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; nullopt for a broken %-escape.
std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = hex_digit(s[i + 1]), l = hex_digit(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

using Params = std::map<std::string, std::string>;

// The query's parameters, each named in `allowed` at most once, or the 400 that says why not.
std::variant<Params, http::Response> parse_params(const http::Request& req,
                                                  const std::vector<std::string>& allowed) {
  Params out;
  std::string names;
  for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
  std::string_view q = req.query;
  if (q.size() > 2048) return bad_param("query", q.substr(0, 40), "is longer than 2048 bytes");
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    auto name = url_decode(part.substr(0, eq));
    auto value =
        url_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!name || !value) return bad_param("query", part, "has a broken %-escape");
    bool known = false;
    for (const auto& a : allowed) known = known || *name == a;
    if (!known)
      return bad_param(*name, *value,
                       names.empty() ? "is not a parameter of " + req.path + " (it takes none)"
                                     : "is not a parameter of " + req.path + " (" + names + ")");
    // A bound for every value; each parameter's own rule (sku 1-128 characters, limit 1-1000)
    // is checked by its route and says more.
    if (!valid_utf8(*value) || value->size() > 1024)
      return bad_param(*name, *value, "must be UTF-8 text of at most 1024 bytes");
    if (out.count(*name)) return bad_param(*name, *value, "is given more than once");
    out.emplace(std::move(*name), std::move(*value));
  }
  return out;
}

std::int64_t now_ms() { return timefmt::parse_rfc3339_ms(wall_now()).value_or(0); }

// Reads `limit` (default kDefaultApiRows, at most kMaxApiRows) into `out`; a 400 otherwise.
std::optional<http::Response> take_limit(const Params& p, std::int64_t& out) {
  out = views::kDefaultApiRows;
  auto it = p.find("limit");
  if (it == p.end()) return std::nullopt;
  auto n = views::parse_limit(it->second);
  if (!n || *n > views::kMaxApiRows)
    return bad_param("limit", it->second,
                     "must be a whole number from 1 to " + std::to_string(views::kMaxApiRows) +
                         " (rows per page)");
  out = *n;
  return std::nullopt;
}

std::optional<http::Response> take_since(const Params& p, std::optional<std::string>& out) {
  auto it = p.find("since");
  if (it == p.end()) return std::nullopt;
  out = views::parse_since(it->second, now_ms());
  if (!out) return bad_param("since", it->second, views::kSinceRule);
  return std::nullopt;
}

std::optional<http::Response> take_bool(const Params& p, const char* name, bool& out) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  if (it->second == "" || it->second == "true" || it->second == "1")
    out = true;
  else if (it->second == "false" || it->second == "0")
    out = false;
  else
    return bad_param(name, it->second, "must be true or false");
  return std::nullopt;
}

std::optional<http::Response> take_text(const Params& p, const char* name,
                                        std::optional<std::string>& out) {
  auto it = p.find(name);
  if (it == p.end()) return std::nullopt;
  if (it->second.empty() || it->second.size() > 128 || !text_problem(name, it->second, 128).empty())
    return bad_param(name, it->second, "must be 1-128 characters of printable text");
  out = it->second;
  return std::nullopt;
}

// A view's text as the response, or its error (kBadInput: 400 naming `field`).
http::Response view_response(const std::ostringstream& out, const Status& st,
                             const char* field = nullptr) {
  if (!st) {
    if (st.error().is_bad_input() && field)
      return json_response(400, {{"error", std::string(field) + ": " + st.error().message},
                                 {"field", field},
                                 {"rule", st.error().message}});
    return error_response(500, st.error().message);
  }
  http::Response r;
  r.content_type = "application/json";
  r.body = out.str();
  return r;
}

#define DEPOT_TAKE(expr) \
  if (auto refused = (expr)) return *refused

using ApiFn = std::function<http::Response(const Params&)>;

// --- Signed actions (docs/api.md, "Signed actions") ---

// Why a body is not the JSON object asked for: `what`, and the parser's reason when it did not
// parse (not UTF-8, too deep, too large, where the syntax broke).
std::string not_an_object(const Expected<json>& body, std::string what) {
  if (!body) what += ": " + body.error().message;
  return what;
}

// 400 with {error, field, rule} for a "field: rule" problem.
http::Response field_problem(const std::string& problem) {
  const auto colon = problem.find(": ");
  if (colon == std::string::npos || problem.find_first_of(" \"", 0) < colon)
    return error_response(400, problem);  // a rule, not a field's
  return json_response(400, {{"error", problem},
                             {"field", problem.substr(0, colon)},
                             {"rule", problem.substr(colon + 2)}});
}

// The request a signed-action body asks for. The body is read as a cloud command's arguments
// are (core/json_fields' ObjectReader): each problem names the field and the rule, and a
// member the action does not take is one ("qtty": unknown key (did you mean "qty"?)), so a
// misspelt optional field is never silently dropped.
using ActionParse = std::function<actions::Request(ObjectReader&)>;

actions::Request parse_alarm_ack(ObjectReader& r) {
  actions::AlarmAck a;
  a.zone = r.string("zone", true).value_or("");
  a.comment = r.string("comment", true).value_or("");
  a.root_cause = r.string("root_cause", false).value_or("");
  return actions::Request{a};
}

ActionParse parse_hold(store::HoldEnd how) {
  return [how](ObjectReader& r) {
    actions::HoldDecision d;
    d.how = how;
    d.hold = r.integer("id", true).value_or(0);
    d.qty = r.integer("qty", false);
    d.why = r.string("why", true).value_or("");
    return actions::Request{d};
  };
}

ActionParse parse_proposal(bool ack) {
  return [ack](ObjectReader& r) {
    actions::ProposalDecision d;
    d.ack = ack;
    d.id = r.string("id", true).value_or("");
    if (ack) {
      d.order = r.string("order_number", true).value_or("");
      d.qty = r.integer("qty", false);
      if (auto eta = r.string("eta", false); eta && !eta->empty()) {
        d.eta = timefmt::parse_rfc3339_ms(*eta);
        if (!d.eta)
          r.problems().add("eta", describe(*eta) + " must be a date (2026-12-01) or an RFC 3339 time");
      }
    } else {
      d.why = r.string("why", true).value_or("");
    }
    return actions::Request{d};
  };
}

// Content-Type names application/json: the media type before any parameter (`; charset=`),
// compared without case (RFC 9110 8.3.1), not a prefix ("application/jsonx" is not it).
bool json_media_type(const std::string* content_type) {
  if (!content_type) return false;
  std::string_view t(*content_type);
  t = t.substr(0, t.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (t.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(t[i])) != kJson[i]) return false;
  return true;
}

// The answer to a signed action's outcome.
http::Response action_response(const Expected<json>& r) {
  if (r) return json_response(200, *r);
  switch (r.error().kind) {
    case ErrorKind::kForbidden: return error_response(403, r.error().message);
    case ErrorKind::kBadInput: return field_problem(r.error().message);
    case ErrorKind::kNotFound: return error_response(404, r.error().message);
    case ErrorKind::kBusy: return error_response(503, r.error().message);
    default: return error_response(500, r.error().message);
  }
}

}  // namespace

std::optional<Principal> session_authenticate(const std::shared_ptr<SessionStore>& sessions,
                                              const BearerCheck& verify_bearer,
                                              const http::Request& req) {
  if (auto token = bearer(req); !token.empty()) {
    if (!verify_bearer) return std::nullopt;
    auto p = verify_bearer(token);
    if (p) p->csrf.clear();
    return p;
  }
  if (!sessions) return std::nullopt;
  return sessions->find(cookie(req, kSessionCookie));
}

void add_api_routes(std::vector<http::Route>& routes, const ConsoleSources& s) {
  // Every route but /api/login goes through here: who it is from (401 when nobody), and for a
  // session that is not a GET the CSRF token (403 when missing or wrong).
  auto guarded = [s](std::function<http::Response(const http::Request&, const Principal&)> fn) {
    return [s, fn](const http::Request& req) {
      std::optional<Principal> who = s.authenticate ? s.authenticate(req) : std::nullopt;
      if (!who) {
        auto r = error_response(401, "sign in first (session cookie or bearer token)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"depot-agent\"");
        return r;
      }
      if (req.method != "GET" && req.method != "HEAD" && !who->csrf.empty()) {
        const auto* sent = req.header("x-csrf-token");
        if (!sent || !same_secret(*sent, who->csrf))
          return error_response(403, "missing or wrong X-CSRF-Token");
      }
      return fn(req, *who);
    };
  };
  // A read view: its parameters checked, then the view's text.
  auto view = [&](const char* path, std::initializer_list<const char*> allowed, ApiFn fn) {
    std::vector<std::string> names(allowed.begin(), allowed.end());
    routes.push_back(
        {path, {"GET"}, guarded([s, names, fn](const http::Request& req, const Principal&) {
           if (!s.db || !s.config) return error_response(503, "no database");
           auto p = parse_params(req, names);
           if (auto* refused = std::get_if<http::Response>(&p)) return *refused;
           return fn(std::get<Params>(p));
         })});
  };

  view("/api/stock", {"sku", "after", "limit"}, [s](const Params& p) {
    views::StockQuery q;
    DEPOT_TAKE(take_text(p, "sku", q.sku));
    DEPOT_TAKE(take_text(p, "after", q.after));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out, err;
    auto st = views::write_stock(out, *s.db, *s.config, q, err);
    return view_response(out, st, "sku");
  });
  view("/api/movements", {"sku", "since", "limit"}, [s](const Params& p) {
    views::MovementsQuery q;
    DEPOT_TAKE(take_text(p, "sku", q.sku));
    DEPOT_TAKE(take_since(p, q.since));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_movements(out, *s.db, q), "sku");
  });
  view("/api/rejects", {"since", "limit"}, [s](const Params& p) {
    views::RejectsQuery q;
    DEPOT_TAKE(take_since(p, q.since));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_rejects(out, *s.db, q));
  });
  view("/api/reorders", {"open", "sku", "limit"}, [s](const Params& p) {
    views::ReordersQuery q;
    DEPOT_TAKE(take_bool(p, "open", q.open));
    DEPOT_TAKE(take_text(p, "sku", q.sku));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_reorders(out, *s.db, q));
  });
  view("/api/zones", {}, [s](const Params&) {
    std::ostringstream out;
    return view_response(out, views::write_zones(out, *s.db, *s.config, now_ms()));
  });
  view("/api/alarms", {"open", "limit"}, [s](const Params& p) {
    views::AlarmsQuery q;
    DEPOT_TAKE(take_bool(p, "open", q.open));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_alarms(out, *s.db, q));
  });
  view("/api/holds", {"open", "limit"}, [s](const Params& p) {
    views::HoldsQuery q;
    DEPOT_TAKE(take_bool(p, "open", q.open));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_holds(out, *s.db, q));
  });
  view("/api/audit", {"since", "limit"}, [s](const Params& p) {
    views::AuditQuery q;
    DEPOT_TAKE(take_since(p, q.since));
    DEPOT_TAKE(take_limit(p, q.limit));
    std::ostringstream out;
    return view_response(out, views::write_audit(out, *s.db, q));
  });

  // The overview page: the health report (link, loop, database, scanners) with the outbox depth
  // per stream and each zone's live state, all from memory plus one row per stream (the depth
  // is kept, not counted: store/outbox.hpp).
  routes.push_back({"/api/overview", {"GET"}, guarded([s](const http::Request&, const Principal&) {
                      json j{{"health", health_report(s).second}};
                      json outbox = json::object();
                      if (s.db)
                        if (auto d = store::outbox_depths(*s.db))
                          for (const auto& [stream, n] : *d) outbox[stream] = n;
                      j["outbox"] = outbox;
                      json zones = json::array();
                      if (s.config)
                        for (const auto& z : s.config->zones)
                          if (auto ev = zone_event(s, z.id, now_ms()); !ev.is_null())
                            zones.push_back(std::move(ev));
                      j["zones"] = zones;
                      return json_response(200, j);
                    })});
  // Live updates (Server-Sent Events): the hub's events, a heartbeat comment every 15 s.
  routes.push_back({"/api/events", {"GET"}, guarded([s](const http::Request& req, const Principal&) {
                      // It takes no parameter: one given is a 400, as on every route.
                      auto params = parse_params(req, {});
                      if (auto* bad = std::get_if<http::Response>(&params)) return std::move(*bad);
                      if (!s.events) return error_response(503, "live updates are off");
                      if (s.events->full())
                        return error_response(503, "too many live clients; try again later");
                      http::Response r;
                      r.content_type = "text/event-stream";
                      r.body = "retry: 5000\n\n";
                      r.on_stream = [hub = s.events](std::shared_ptr<http::StreamSink> sink) {
                        hub->add(std::move(sink));
                      };
                      return r;
                    })});

  // --- The cold-chain audit report of a zone (docs/coldchain.md), as the CLI's `report` ---
  routes.push_back(
      {"/api/report", {"GET"}, guarded([s](const http::Request& req, const Principal&) {
         if (!s.config || !s.report) return error_response(503, "reports are not available here");
         auto p = parse_params(req, {"zone", "from", "to"});
         if (auto* refused = std::get_if<http::Response>(&p)) return *refused;
         const auto& params = std::get<Params>(p);
         std::optional<std::int64_t> period[2];
         const char* names[2] = {"from", "to"};
         for (int i = 0; i < 2; ++i) {
           auto it = params.find(names[i]);
           if (it == params.end()) return field_problem(std::string(names[i]) + ": required");
           period[i] = timefmt::parse_rfc3339_ms(it->second);
           if (!period[i])
             return bad_param(names[i], it->second,
                              "must be an RFC 3339 time (2026-11-23T14:00:00Z) or a date");
         }
         auto zone = params.find("zone");
         if (zone == params.end()) return field_problem("zone: required");
         if (!coldchain::find_zone(s.config->zones, zone->second))
           return field_problem("zone: " + coldchain::unknown_zone(zone->second, s.config->zones));
         if (*period[1] <= *period[0]) return field_problem("to: must be after from");
         if (*period[1] - *period[0] > kMaxReportPeriodMs)
           return field_problem("to: the period is at most 366 days");
         http::Response later;
         later.defer = [report = s.report, zone = zone->second, from = *period[0],
                        to = *period[1]](std::function<void(http::Response)> reply) {
           report(zone, from, to, [reply, zone, from](Expected<std::string> html) {
             if (!html) return reply(action_response(Expected<json>(html.error())));
             http::Response r;
             r.content_type = "text/html; charset=utf-8";
             r.body = std::move(*html);
             // The page is our own, with inline CSS and SVG and no script.
             r.headers.emplace_back("Content-Security-Policy",
                                    "default-src 'none'; style-src 'unsafe-inline'; "
                                    "img-src data:");
             r.headers.emplace_back("Content-Disposition",
                                    "inline; filename=\"report-" + zone + "-" +
                                        timefmt::rfc3339_from_unix_ms(from).substr(0, 10) +
                                        ".html\"");
             reply(std::move(r));
           });
         };
         return later;
       })});

  // --- Signed actions: the session's account signs, its password re-entered in the body ---
  auto signed_action = [&](const char* path, ActionParse parse) {
    routes.push_back(
        {path, {"POST"}, guarded([s, parse](const http::Request& req, const Principal& who) {
           if (who.machine)
             return error_response(403, "a bearer token reads; it signs nothing: a signed action "
                                        "needs a person's account (sign in)");
           if (!json_media_type(req.header("content-type")))
             return error_response(415, "send the action as application/json");
           auto body = parse_json(req.body, {.max_bytes = 16384, .max_depth = 2});
           if (!body || !body->is_object())
             return error_response(400, not_an_object(body, "the body must be a JSON object"));
           Problems problems;
           ObjectReader reader(*body, "", problems);
           auto password = reader.string("password", true);
           auto request = parse(reader);
           reader.finish();  // members no getter asked for
           if (!problems.empty()) return field_problem(problems.items().front());
           if (auto bad = actions::problem(request); !bad.empty()) return field_problem(bad);
           if (const auto* ack = std::get_if<actions::AlarmAck>(&request);
               ack && s.config && !coldchain::find_zone(s.config->zones, ack->zone))
             return field_problem("zone: " + coldchain::unknown_zone(ack->zone, s.config->zones));
           if (!s.act) return error_response(503, "signed actions are not available here");
           http::Response later;
           later.defer = [act = s.act, request, account = who.account,
                          pass = *password](std::function<void(http::Response)> reply) {
             act(request, account, pass,
                 [reply](Expected<json> r) { reply(action_response(r)); });
           };
           return later;
         })});
  };
  signed_action("/api/alarms/ack", parse_alarm_ack);
  signed_action("/api/holds/release", parse_hold(store::HoldEnd::kRelease));
  signed_action("/api/holds/writeoff", parse_hold(store::HoldEnd::kWriteoff));
  signed_action("/api/reorders/ack", parse_proposal(true));
  signed_action("/api/reorders/cancel", parse_proposal(false));

  // --- Sessions ---
  routes.push_back(
      {"/api/login", {"POST"}, [s](const http::Request& req) {
         // A cross-site form cannot send application/json without a preflight.
         if (!json_media_type(req.header("content-type")))
           return error_response(415, "send the sign-in as application/json");
         auto body = parse_json(req.body, {.max_bytes = 4096, .max_depth = 2});
         if (!body || !body->is_object())
           return error_response(
               400, not_an_object(body, "the body must be a JSON object {\"user\", \"password\"}"));
         Problems problems;
         ObjectReader reader(*body, "", problems);
         const auto user = reader.string("user", true);
         const auto pass = reader.string("password", true);
         reader.finish();
         if (!problems.empty()) return field_problem(problems.items().front());
         // No account has such an id (a NUL, an upper-case letter): said as a 400 naming the
         // rule, not as a wrong password (the rule is public: docs/operations.md).
         if (!accounts::valid_account_id(*user))
           return field_problem("user: \"" + printable(*user, 64) +
                                "\" is not an account id (1-64 of a-z 0-9 . _ -, starting with a "
                                "letter)");
         if (!s.sessions || (!s.verify_password && !s.verify_password_async))
           return error_response(401, "wrong user or password");
         // The session for a verdict, or the refusal.
         auto finish = [sessions = s.sessions, tls = req.tls](const Expected<Principal>& who) {
           if (!who) return error_response(401, "wrong user or password");
           auto created = sessions->create(*who);
           if (!created) return error_response(503, created.error().message);
           auto r = json_response(
               200, {{"account", who->account}, {"role", who->role}, {"csrf", created->csrf}});
           r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" +
                                                    created->token +
                                                    "; Path=/; HttpOnly; SameSite=Strict" +
                                                    (tls ? "; Secure" : ""));
           return r;
         };
         auto user_s = *user, pass_s = *pass;
         if (s.verify_password_async) {
           // Off the loop: the answer comes when the check is done.
           http::Response later;
           later.defer = [verify = s.verify_password_async, finish, user_s,
                          pass_s](std::function<void(http::Response)> reply) {
             verify(user_s, pass_s,
                    [finish, reply](Expected<Principal> who) { reply(finish(who)); });
           };
           return later;
         }
         return finish(s.verify_password(user_s, pass_s));
       }});
  routes.push_back(
      {"/api/logout", {"POST"}, guarded([s](const http::Request& req, const Principal&) {
         if (s.sessions) s.sessions->remove(cookie(req, kSessionCookie));
         auto r = json_response(200, {{"ok", true}});
         r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                                  "=; Path=/; Max-Age=0; HttpOnly; "
                                                  "SameSite=Strict" +
                                                  (req.tls ? "; Secure" : ""));
         return r;
       })});
  routes.push_back(
      {"/api/session", {"GET"}, guarded([](const http::Request&, const Principal& who) {
         json j{{"account", who.account}, {"role", who.role}, {"machine", who.machine}};
         j["csrf"] = who.csrf.empty() ? json() : json(who.csrf);
         return json_response(200, j);
       })});
}

}  // namespace depot::app
