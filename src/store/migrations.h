// Versioned schema migrations of the control-plane database, applied in
// order on open. schema_version holds the highest applied version; each
// migration runs in its own transaction with the version bump, so a crash
// leaves the schema at a whole version. On PostgreSQL an advisory lock makes
// replicas starting together apply each migration once. Schema:
// docs/control-plane.md.
//
// Thread safety: call once per process before serving (any thread).
#pragma once

#include "store/sql.h"

namespace mg::store {

inline constexpr int kSchemaVersion = 4;

// Brings the database up to kSchemaVersion; fails on a database written by
// a newer modelgate (a higher version) rather than guessing.
Status ApplyMigrations(SqlConnection& db);

}  // namespace mg::store
