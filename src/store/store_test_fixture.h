// Test support: a real PostgreSQL server started by the test binary itself
// (initdb and pg_ctl from /usr/lib/postgresql/15/bin, or $MG_PG_BIN), run as
// the `postgres` user when the tests run as root, listening only on a Unix
// socket in a private temporary folder on a free port, stopped at exit.
// $MG_TEST_POSTGRES_URL points the tests at an existing server instead.
// Also: a fresh database URL per test for either backend.
//
// Thread safety: set up once per process; tests run one at a time.
#pragma once

#include <functional>
#include <string>

#include "store/control_plane.h"
#include "store/sql.h"

namespace mg::store::testing {

class TestPostgres {
 public:
  // The shared server, started on first use; nullptr when PostgreSQL's
  // binaries are missing (reason() says why).
  static TestPostgres* Get();
  static const std::string& reason();

  // A new, empty database on the server and its URL.
  std::string NewDatabase();
  // Stops and starts the server (to test the database going away).
  bool Stop();
  bool Start();
  ~TestPostgres();

 private:
  TestPostgres() = default;
  std::string dir_, bin_, user_prefix_;
  int port_ = 0;
  bool external_ = false;
  std::string external_url_;
};

// A fresh database of `dialect`: a new SQLite file under a temporary folder
// or a new PostgreSQL database. Empty when PostgreSQL is unavailable.
std::string FreshDatabaseUrl(Dialect dialect);

std::string DialectName(Dialect dialect);

// Forks `processes` children; each opens its own ControlPlane on `url` (a
// pool of `threads` connections) and runs `body(control_plane, thread)` on
// `threads` threads. `body` returns how many results it did not expect.
// True when every child opened the database and saw none.
bool RunInProcesses(const std::string& url, int processes, int threads,
                    const std::function<int(ControlPlane&, int)>& body);

}  // namespace mg::store::testing
