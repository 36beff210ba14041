// Command-line options for one subcommand: `--name value`, `--name=value` and flags.
// Unknown options, missing values and repeated options are errors that name the option.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace depot::app {

struct OptionSpec {
  std::string_view name;   // "--sku"
  bool takes_value;
  std::string_view alias;  // "-c" or ""
};

class Args {
 public:
  // Parses argv[first..argc) for `command`. Positional arguments are kept in order.
  static Expected<Args> parse(std::string_view command, const std::vector<OptionSpec>& specs,
                              int argc, char** argv, int first);

  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::optional<std::string> get(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace depot::app
