// Errors as values. Every fallible operation in the agent returns `Expected<T>` (or `Status`
// when there is no value) instead of throwing: domain code never throws, and adapters catch
// third-party exceptions (nlohmann, Paho, Boost) at their edge and turn them into an `Error`.
// Thread-safety: plain values, no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace depot {

// What kind of failure an Error is, so callers can act on it (retry a busy database, refuse
// bad input, exit with the matching code) without reading the message.
enum class ErrorKind { kOther, kBadInput, kBusy, kIo, kNotFound, kForbidden };

// A human-readable message that names what was wrong (which field, which value, which rule).
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kOther;

  bool is_bad_input() const { return kind == ErrorKind::kBadInput; }
};

// Either a T or an Error. REQUIRES: check `ok()` (or `operator bool`) before `value()`.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations with no result value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace depot
