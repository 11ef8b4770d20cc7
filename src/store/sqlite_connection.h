// SqliteConnection: the embedded backend. One database file in WAL mode
// (readers never block the writer), synchronous=NORMAL (a committed
// transaction survives the process being killed), a busy timeout so that
// several processes (a server and the CLI) can share the file, and prepared
// statements cached per connection.
//
// A full disk (SQLITE_FULL), an I/O error or a read-only file fail the
// statement with an "database unavailable" error; SQLite rolls the
// transaction back, so what was committed before stays intact.
//
// Thread safety: one thread at a time (see ConnectionPool).
#pragma once

#include <memory>
#include <string>

#include "store/sql.h"

namespace mg::store {

// Opens (creating if needed) the database file at `path`.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path);

}  // namespace mg::store
