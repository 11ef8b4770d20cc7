#include "store/postgres_connection.h"

#include <libpq-fe.h>

#include <cstring>
#include <unordered_map>

namespace mg::store {
namespace {

// SQLSTATE classes meaning "the database, not the request, is the problem":
// connection exceptions, insufficient resources, operator intervention,
// system errors, and transaction rollbacks (serialisation, deadlock).
bool IsServerSideState(const char* state) {
  if (state == nullptr || std::strlen(state) < 2) return true;
  const std::string cls(state, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "58" || cls == "40" || cls == "XX";
}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Outside a transaction a statement that found its connection dropped
  // (the server restarted while it sat in the pool) ran nothing: it is
  // retried once on a new session.
  Result<SqlRows> Query(const std::string& sql, const std::vector<SqlParam>& params) override {
    Result<SqlRows> rows = RunQuery(sql, params);
    if (rows.ok() || in_transaction_ || PQstatus(conn_) == CONNECTION_OK) return rows;
    return RunQuery(sql, params);
  }

  Result<SqlRows> RunQuery(const std::string& sql, const std::vector<SqlParam>& params) {
    MG_RETURN_IF_ERROR(EnsureConnected());
    MG_ASSIGN_OR_RETURN(const std::string name, Prepare(sql));
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlParam& param = params[i];
      if (std::holds_alternative<int64_t>(param)) {
        texts[i] = std::to_string(std::get<int64_t>(param));
      } else if (std::holds_alternative<double>(param)) {
        char buffer[64];
        std::snprintf(buffer, sizeof(buffer), "%.17g", std::get<double>(param));
        texts[i] = buffer;
      } else if (std::holds_alternative<std::string>(param)) {
        texts[i] = std::get<std::string>(param);
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    PGresult* result = PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                      values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Fail(result);
    SqlRows rows;
    const int row_count = PQntuples(result);
    const int col_count = PQnfields(result);
    rows.reserve(row_count);
    for (int r = 0; r < row_count; ++r) {
      SqlRow row;
      row.columns.reserve(col_count);
      for (int c = 0; c < col_count; ++c) {
        if (PQgetisnull(result, r, c)) {
          row.columns.emplace_back(std::nullopt);
        } else {
          row.columns.emplace_back(
              std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
        }
      }
      rows.push_back(std::move(row));
    }
    PQclear(result);
    return rows;
  }

  Status ExecScript(const std::string& sql) override {
    MG_RETURN_IF_ERROR(EnsureConnected());
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Fail(result);
    PQclear(result);
    return Status::Ok();
  }

  // A connection the server dropped while it sat idle in the pool is only
  // noticed here; nothing has run yet, so reconnecting and retrying is safe.
  Status Begin() override {
    Status status = ExecScript("BEGIN");
    if (!status.ok() && PQstatus(conn_) != CONNECTION_OK) status = ExecScript("BEGIN");
    in_transaction_ = status.ok();
    return status;
  }
  Status Commit() override {
    in_transaction_ = false;
    return ExecScript("COMMIT");
  }
  void Rollback() override {
    in_transaction_ = false;
    if (PQstatus(conn_) != CONNECTION_OK) return;
    PQclear(PQexec(conn_, "ROLLBACK"));
  }
  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    statements_.clear();  // prepared statements die with the session
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return UnavailableError(std::string("postgresql: ") + PQerrorMessage(conn_));
    }
    return Status::Ok();
  }

  Result<std::string> Prepare(const std::string& sql) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) return found->second;
    const std::string name = "mg" + std::to_string(statements_.size());
    PGresult* result = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    if (PQresultStatus(result) != PGRES_COMMAND_OK) return Fail(result);
    PQclear(result);
    statements_.emplace(sql, name);
    return name;
  }

  // Turns a failed result into a Status and frees it.
  Status Fail(PGresult* result) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    const bool server_side = PQstatus(conn_) != CONNECTION_OK || IsServerSideState(state);
    PQclear(result);
    if (server_side) return UnavailableError("postgresql: " + message);
    return InvalidArgumentError("postgresql: " + message);
  }

  PGconn* conn_;
  bool in_transaction_ = false;
  std::unordered_map<std::string, std::string> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& url) {
  // A lock or statement that waits too long fails (and the request with a
  // 503) instead of holding a server thread indefinitely. A URL with its own
  // "options=" (e.g. -c synchronous_commit=off) keeps them instead.
  const bool own_options = url.find("options=") != std::string::npos;
  const char* keywords[] = {"dbname", "connect_timeout", "application_name",
                            own_options ? nullptr : "options", nullptr};
  const char* values[] = {url.c_str(), "3", "modelgate",
                          "-c lock_timeout=10000 -c statement_timeout=30000", nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, 1);
  if (conn == nullptr) return UnavailableError("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(conn);
    return UnavailableError("postgresql: cannot connect: " + message);
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  return std::unique_ptr<SqlConnection>(std::make_unique<PostgresConnection>(conn));
}

}  // namespace mg::store
