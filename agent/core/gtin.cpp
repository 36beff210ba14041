#include "core/gtin.hpp"

namespace depot::gtin {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int check_digit(std::string_view body) {
  // Weights 3,1,3,1... from the rightmost digit of the body.
  int sum = 0;
  int weight = 3;
  for (auto it = body.rbegin(); it != body.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

bool check_digit_ok(std::string_view digits) {
  if (digits.size() < 2 || !all_digits(digits)) return false;
  return check_digit(digits.substr(0, digits.size() - 1)) == digits.back() - '0';
}

bool is_gtin_length(std::string_view s) {
  return all_digits(s) && (s.size() == 8 || s.size() == 12 || s.size() == 13 || s.size() == 14);
}

std::optional<std::string> to_gtin14(std::string_view s) {
  if (!is_gtin_length(s) || !check_digit_ok(s)) return std::nullopt;
  return std::string(14 - s.size(), '0') + std::string(s);
}

}  // namespace depot::gtin
