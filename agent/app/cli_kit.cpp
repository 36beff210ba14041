#include "app/cli_kit.hpp"

#include "app/store_access.hpp"
#include "core/json_parse.hpp"
#include "store/database.hpp"

namespace depot::app {

std::optional<LoadedConfig> cli_load_config(const Args& a, CliContext& c, bool fingerprint) {
  auto path = a.get("--config").value_or(kDefaultConfigPath);
  auto r = load_config_file(path, fingerprint);
  if (!r.loaded) {
    c.err << "depot-agent: " << path << " is not a valid config (" << r.problems.size()
          << " problem" << (r.problems.size() == 1 ? "" : "s") << "):\n";
    for (const auto& p : r.problems) c.err << "  " << p << "\n";
    c.err << "Run 'depot-agent check -c " << path << "' after fixing; see config/README.md.\n";
    return std::nullopt;
  }
  return std::move(r.loaded);
}

std::unique_ptr<store::Database> cli_open_database(const LoadedConfig& cfg, bool write,
                                                   CliContext& c) {
  auto db = write ? open_for_writing(cfg) : open_for_reading(cfg);
  if (!db) {
    c.fail() << db.error().message << "\n";
    return nullptr;
  }
  return std::move(*db);
}

std::optional<int> run_command(const std::vector<CliCommand>& commands, int argc, char** argv,
                               std::ostream& out, std::ostream& err) {
  if (argc < 2) return std::nullopt;
  const std::string_view cmd = argv[1];
  for (const auto& command : commands) {
    if (command.name != cmd) continue;
    CliContext c{out, err, std::string(cmd)};
    auto args = Args::parse(cmd, command.options, argc, argv, 2);
    if (!args) {
      c.fail() << args.error().message << "\n";
      return kBadInput;
    }
    if (args->positional().size() > command.positionals) {
      c.fail() << "unexpected argument \"" << printable(args->positional()[command.positionals], 80)
               << "\"\n";
      return kBadInput;
    }
    try {
      return command.fn(*args, c);
    } catch (const std::exception& e) {
      c.fail() << "internal error: " << e.what() << "\n";
      return kFailure;
    }
  }
  return std::nullopt;
}

}  // namespace depot::app
