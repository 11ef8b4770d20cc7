// SqlConnection: the one interface the control plane's storage goes through,
// with two real backends, SQLite (embedded, the default) and PostgreSQL
// (libpq, shared by several replicas).
//
// SQL is written once with $1, $2 … placeholders and portable syntax; the few
// differences between the two dialects are in Dialect. Values travel as
// SqlParam (null, integer, real or text) and come back as text columns, which
// keeps both backends' conversions identical.
//
// Errors: a query that fails because the database cannot be reached, is
// gone, or cannot write (disk full, read-only) returns kIoError with a
// message starting "database unavailable"; IsUnavailable() tells the two
// apart from bad input or a constraint violation. Callers fail closed on it.
//
// Thread safety: a connection is used by one thread at a time; ConnectionPool
// hands them out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"

namespace mg::store {

using SqlParam = std::variant<std::monostate, int64_t, double, std::string>;

struct SqlRow {
  std::vector<std::optional<std::string>> columns;
  // Column `index` as text ("" for NULL) or as an integer (0 for NULL).
  const std::string& Text(size_t index) const;
  int64_t Int(size_t index) const;
  double Real(size_t index) const;
  bool IsNull(size_t index) const { return !columns.at(index).has_value(); }
};
using SqlRows = std::vector<SqlRow>;

enum class Dialect { kSqlite, kPostgres };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one statement with `params` bound to $1, $2 …; returns its rows
  // (none for statements without RETURNING). Statements are prepared once
  // per connection and reused.
  virtual Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params) = 0;

  // Runs a script of statements without parameters (migrations).
  virtual Status ExecScript(const std::string& sql) = 0;

  // BEGIN for a transaction that will write (SQLite: BEGIN IMMEDIATE, so
  // that two writers never deadlock on a lock upgrade).
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  // Never fails from the caller's view; a broken connection is reset later.
  virtual void Rollback() = 0;

  virtual Dialect dialect() const = 0;
};

// " FOR UPDATE" on PostgreSQL; empty on SQLite, where BEGIN IMMEDIATE
// already holds the database's write lock.
const char* ForUpdate(Dialect dialect);

Status UnavailableError(const std::string& message);
bool IsUnavailable(const Status& status);

// Opens a connection for "sqlite:PATH" or "postgresql://…" (also
// "postgres://…"); anything else is an InvalidArgument error naming the two
// forms. Defined in open_database.cc.
Result<std::unique_ptr<SqlConnection>> OpenConnection(const std::string& url);

// Runs `body` in a write transaction: commits when it returns OK, rolls back
// otherwise, and returns its status (or the commit's).
template <typename Body>
Status InTransaction(SqlConnection& db, Body&& body) {
  MG_RETURN_IF_ERROR(db.Begin());
  Status status = body();
  if (!status.ok()) {
    db.Rollback();
    return status;
  }
  status = db.Commit();
  if (!status.ok()) db.Rollback();
  return status;
}

}  // namespace mg::store
