// The console's pages (agent/http/console/: HTML, CSS, JavaScript), built into the binary by
// agent/http/embed_assets.cmake. Nothing is read from disk at run time.
#pragma once

#include <string_view>
#include <vector>

namespace depot::http {

struct Asset {
  std::string_view name;  // the file's name, e.g. "app.js"
  std::string_view data;
};
const std::vector<Asset>& console_assets();

}  // namespace depot::http
