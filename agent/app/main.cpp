// depot-agent: the warehouse gateway agent. See README.md and docs/cli.md.
#include <iostream>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);  // large outputs (stock --json) go through the stream buffer
  return depot::app::run_cli(argc, argv, std::cout, std::cerr);
}
