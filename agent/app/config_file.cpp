#include "app/config_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace depot::app {

LoadResult load_config_file(const std::string& path) {
  LoadResult r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.problems.push_back(path + ": cannot read: " + std::strerror(errno));
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_config(text.str());
  if (!parsed.config) {
    r.problems = std::move(parsed.problems);
    return r;
  }
  LoadedConfig l;
  l.config = std::move(*parsed.config);
  l.path = path;
  std::filesystem::path db(l.config.database);
  if (db.is_relative()) db = std::filesystem::absolute(path).parent_path() / db;
  l.database_path = db.lexically_normal().string();
  // A named-pipe scanner's relative path is relative to the config file too.
  for (auto& sc : l.config.scanners) {
    if (auto* pipe = std::get_if<StdinSettings>(&sc.driver); pipe && !pipe->path.empty()) {
      std::filesystem::path fifo(pipe->path);
      if (fifo.is_relative())
        pipe->path = (std::filesystem::absolute(path).parent_path() / fifo).lexically_normal().string();
    }
  }
  r.loaded = std::move(l);
  return r;
}

std::vector<std::string> check_environment(const LoadedConfig& l) {
  std::vector<std::string> problems;
  auto dir = std::filesystem::path(l.database_path).parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    problems.push_back("database: \"" + l.config.database + "\" is in folder " + dir.string() +
                       ", which does not exist");
  } else if (::access(dir.c_str(), W_OK) != 0) {
    problems.push_back("database: \"" + l.config.database + "\" is in folder " + dir.string() +
                       ", which this user cannot write: " + std::strerror(errno));
  }
  return problems;
}

}  // namespace depot::app
