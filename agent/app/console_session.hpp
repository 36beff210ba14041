// The console's sessions (docs/api.md, "Authentication"): an account signs in once with its
// password (POST /api/login) and gets a random session token in the `depot_session` cookie
// (HttpOnly, SameSite=Strict, Secure over TLS) and a CSRF token the pages send back as
// `X-CSRF-Token` on every request that is not a GET. Sessions live in memory only (a restart
// signs everyone out), expire after `absolute` or `idle` time, and at most `max_sessions` exist
// (the least recently used goes first). Tokens are 32 bytes from getrandom(); only their
// SHA-256 is kept, so a lookup's timing says nothing about a valid token.
// Thread-safety: one thread (the daemon's loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/server.hpp"

namespace depot::app {

// Who a request is from.
struct Principal {
  std::string account;  // the account's name
  std::string role;     // operator, quality, buyer, admin
  // Set when the request came with a session cookie: the CSRF token a non-GET request must
  // carry in X-CSRF-Token. Empty for a bearer token (no cookie, no cross-site forgery).
  std::string csrf;
  // A machine's bearer token ("token:NAME", role "reader"): it reads the API and signs nothing.
  bool machine = false;
};

struct SessionOptions {
  std::chrono::seconds absolute{8 * 3600};
  std::chrono::seconds idle{30 * 60};
  std::size_t max_sessions = 64;
  // The clock (tests move it on).
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
};

class SessionStore {
 public:
  explicit SessionStore(SessionOptions o = {}) : o_(std::move(o)) {}
  struct Created {
    std::string token, csrf;
  };
  // A new session for `p`; an Error only when the system has no randomness to give.
  Expected<Created> create(const Principal& p);
  // The session's principal (with its csrf) when `token` is a live session; its idle time
  // starts again. Expired sessions are removed on the way.
  std::optional<Principal> find(std::string_view token);
  void remove(std::string_view token);
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Session {
    Principal principal;
    std::chrono::steady_clock::time_point created, used;
  };
  void expire();
  SessionOptions o_;
  std::map<std::string, Session> sessions_;  // by SHA-256 of the token (hex)
};

// `bytes` random bytes from getrandom(), as lower-case hex; an Error when it fails.
Expected<std::string> random_hex(std::size_t bytes);
// The value of cookie `name` in the request's Cookie header(s), or "".
std::string cookie(const http::Request& r, std::string_view name);
// The token of an `Authorization: Bearer <token>` header, or "".
std::string bearer(const http::Request& r);
// Equal without an early exit (tokens compared in constant time).
bool same_secret(std::string_view a, std::string_view b);

inline constexpr const char* kSessionCookie = "depot_session";

}  // namespace depot::app
