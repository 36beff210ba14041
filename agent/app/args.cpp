#include "app/args.hpp"

#include "core/json_parse.hpp"

namespace depot::app {

Expected<Args> Args::parse(std::string_view command, const std::vector<OptionSpec>& specs,
                           int argc, char** argv, int first) {
  Args a;
  auto known = [&] {
    std::string s;
    for (const auto& sp : specs) s += (s.empty() ? "" : ", ") + std::string(sp.name);
    return s.empty() ? std::string("none") : s;
  };
  // Command-line text reaches logs, the database and JSON: it must be UTF-8.
  for (int i = first; i < argc; ++i)
    if (!valid_utf8(argv[i]))
      return Error{"argument \"" + printable(argv[i], 60) + "\" is not valid UTF-8" +
                   (i > first && argv[i - 1][0] == '-' ? " (the value of " +
                                                             printable(argv[i - 1], 40) + ")"
                                                       : std::string())};
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      if (arg == "--") {
        for (++i; i < argc; ++i) a.positional_.emplace_back(argv[i]);
        break;
      }
      a.positional_.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      inline_value = std::string(arg.substr(eq + 1));
    }
    const OptionSpec* spec = nullptr;
    for (const auto& sp : specs)
      if (sp.name == name || (!sp.alias.empty() && sp.alias == name)) spec = &sp;
    if (!spec)
      return Error{"unknown option " + std::string(name) + " for '" + std::string(command) +
                   "' (options: " + known() + ")"};
    std::string key(spec->name);
    if (a.values_.count(key)) return Error{"option " + key + " is given twice"};
    if (spec->takes_value) {
      if (inline_value) {
        a.values_[key] = *inline_value;
      } else if (i + 1 < argc) {
        a.values_[key] = argv[++i];
      } else {
        return Error{"option " + key + " needs a value"};
      }
    } else {
      if (inline_value) return Error{"option " + key + " takes no value"};
      a.values_[key] = "";
    }
  }
  return a;
}

std::optional<std::string> Args::get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

}  // namespace depot::app
