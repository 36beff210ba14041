#include "app/console_session.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "core/sha256.hpp"

namespace depot::app {

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string key_of(std::string_view token) {
  auto d = sha256(token);
  return hex(d.data(), d.size());
}

}  // namespace

Expected<std::string> random_hex(std::size_t bytes) {
  unsigned char buf[64];
  if (bytes > sizeof buf) return Error{"random_hex: too many bytes"};
  std::size_t got = 0;
  while (got < bytes) {
    auto n = ::getrandom(buf + got, bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("getrandom: ") + std::strerror(errno), ErrorKind::kIo};
    }
    got += static_cast<std::size_t>(n);
  }
  return hex(buf, bytes);
}

void SessionStore::expire() {
  const auto now = o_.now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.created >= o_.absolute || now - it->second.used >= o_.idle)
      it = sessions_.erase(it);
    else
      ++it;
  }
}

Expected<SessionStore::Created> SessionStore::create(const Principal& p) {
  expire();
  auto token = random_hex(32);
  if (!token) return token.error();
  auto csrf = random_hex(32);
  if (!csrf) return csrf.error();
  while (!sessions_.empty() && sessions_.size() >= o_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.used < oldest->second.used) oldest = it;
    sessions_.erase(oldest);
  }
  Session s;
  s.principal = p;
  s.principal.csrf = *csrf;
  s.created = s.used = o_.now();
  sessions_[key_of(*token)] = std::move(s);
  return Created{*token, *csrf};
}

std::optional<Principal> SessionStore::find(std::string_view token) {
  if (token.empty()) return std::nullopt;
  expire();
  auto it = sessions_.find(key_of(token));
  if (it == sessions_.end()) return std::nullopt;
  it->second.used = o_.now();
  return it->second.principal;
}

void SessionStore::remove(std::string_view token) { sessions_.erase(key_of(token)); }

std::string cookie(const http::Request& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      auto part = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name)
        return std::string(part.substr(eq + 1));
    }
  }
  return {};
}

std::string bearer(const http::Request& r) {
  const auto* a = r.header("authorization");
  if (!a) return {};
  std::string_view v = *a;
  if (v.size() <= 7) return {};
  std::string scheme(v.substr(0, 7));
  for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme != "bearer ") return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return std::string(v);
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace depot::app
