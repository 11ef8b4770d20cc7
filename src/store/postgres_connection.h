// PostgresConnection: the backend several replicas share, through libpq.
//
// Statements are prepared once per connection (PQprepare) and run with text
// parameters. When the server goes away, the failing statement returns a
// "database unavailable" error and the next call reconnects (PQreset); until
// that succeeds every call fails fast with the same error, so the control
// plane fails closed and recovers by itself when the server is back.
//
// Thread safety: one thread at a time (see ConnectionPool).
#pragma once

#include <memory>
#include <string>

#include "store/sql.h"

namespace mg::store {

// `url` is a libpq connection URI ("postgresql://user@host:port/db" or
// "postgresql:///db?host=/socket/dir"). Fails with "database unavailable"
// when the server cannot be reached.
Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url);

}  // namespace mg::store
