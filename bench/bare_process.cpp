// The bare limit for the footprint benchmark: a trivial C++ program linking what depot-agent
// links (libstdc++, SQLite, pthreads, Boost.Asio headers), doing the least the agent must do —
// open a SQLite database, run an io_context until SIGTERM. Its resident memory and stripped
// size are what any agent on these libraries costs before it does anything useful.
//
//   bare_process DATABASE_FILE
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bare_process DATABASE_FILE\n");
    return 2;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(x)", nullptr, nullptr,
               nullptr);
  boost::asio::io_context io;
  boost::asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  std::fprintf(stderr, "ready\n");
  io.run();
  sqlite3_close(db);
  return 0;
}
