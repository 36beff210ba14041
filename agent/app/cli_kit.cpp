#include "app/cli_kit.hpp"

#include <algorithm>

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

namespace {
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;  // lead bytes only
  return n;
}
}  // namespace

void TextTable::print(std::ostream& out) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    width[i] = display_width(columns_[i].header);
    for (const auto& row : rows_) width[i] = std::max(width[i], display_width(row.at(i)));
  }
  auto line = [&](auto cell_of) {
    std::string text;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = cell_of(i);
      const std::string pad(width[i] - display_width(cell), ' ');
      if (i > 0) text += "  ";
      if (columns_[i].right) text += pad;
      text += cell;
      if (!columns_[i].right) text += pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);  // (empty last cells)
    out << text << "\n";
  };
  line([&](std::size_t i) -> const std::string& { return columns_[i].header; });
  for (const auto& row : rows_) line([&](std::size_t i) -> const std::string& { return row.at(i); });
}

}  // namespace depot::app
