#include "store/sqlite_connection.h"

#include <sqlite3.h>

#include <unordered_map>

#include "base/file.h"

namespace mg::store {
namespace {

bool IsStorageFailure(int code) {
  switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_NOMEM:
      return true;
    default:
      return false;
  }
}

// "$1" placeholders become SQLite's "?1".
std::string ToSqlitePlaceholders(const std::string& sql) {
  std::string out = sql;
  for (char& c : out) {
    if (c == '$') c = '?';
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params) override {
    MG_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlParam& param = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<int64_t>(param)) {
        rc = sqlite3_bind_int64(stmt, index, std::get<int64_t>(param));
      } else if (std::holds_alternative<double>(param)) {
        rc = sqlite3_bind_double(stmt, index, std::get<double>(param));
      } else if (std::holds_alternative<std::string>(param)) {
        const std::string& text = std::get<std::string>(param);
        rc = sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return Error(rc, "binding a parameter");
    }
    SqlRows rows;
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        const Status status = Error(rc, "running a statement");
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return status;
      }
      SqlRow row;
      const int count = sqlite3_column_count(stmt);
      row.columns.reserve(count);
      for (int col = 0; col < count; ++col) {
        if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
          row.columns.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
          row.columns.emplace_back(std::string(text, sqlite3_column_bytes(stmt, col)));
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rows;
  }

  Status ExecScript(const std::string& sql) override {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    if (IsStorageFailure(rc)) return UnavailableError("sqlite: " + text);
    return InvalidArgumentError("sqlite: " + text);
  }

  Status Begin() override { return ExecScript("BEGIN IMMEDIATE"); }
  Status Commit() override { return ExecScript("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) return found->second;
    const std::string text = ToSqlitePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "preparing a statement");
    statements_.emplace(sql, stmt);
    return stmt;
  }

  Status Error(int rc, const char* what) const {
    const std::string message = std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db_);
    if (IsStorageFailure(rc)) return UnavailableError(message);
    return InvalidArgumentError(message);
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("sqlite: empty database path (use sqlite:PATH)");
  // The control database holds key hashes and usage: a new one is created
  // owner-only before SQLite opens it, and SQLite gives its -wal and -shm
  // files the same mode.
  if (path != ":memory:" && !path.starts_with("file:")) {
    Result<bool> created = CreateFileIfMissing(path, 0600);
    if (!created.ok()) return UnavailableError("sqlite: " + created.status().message());
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return UnavailableError("sqlite: cannot open " + path + ": " + message);
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 10000);
  MG_RETURN_IF_ERROR(connection->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace mg::store
