#include "store/sql.h"

#include <cstdlib>

#include "store/postgres_connection.h"
#include "store/sqlite_connection.h"

namespace mg::store {
namespace {
constexpr char kUnavailablePrefix[] = "database unavailable: ";
}  // namespace

const std::string& SqlRow::Text(size_t index) const {
  static const std::string kEmpty;
  const auto& column = columns.at(index);
  return column ? *column : kEmpty;
}

int64_t SqlRow::Int(size_t index) const {
  const auto& column = columns.at(index);
  return column ? std::strtoll(column->c_str(), nullptr, 10) : 0;
}

double SqlRow::Real(size_t index) const {
  const auto& column = columns.at(index);
  return column ? std::strtod(column->c_str(), nullptr) : 0.0;
}

const char* ForUpdate(Dialect dialect) {
  return dialect == Dialect::kPostgres ? " FOR UPDATE" : "";
}

Status UnavailableError(const std::string& message) {
  return IoError(std::string(kUnavailablePrefix).append(message));
}

bool IsUnavailable(const Status& status) {
  return status.code() == StatusCode::kIoError &&
         status.message().rfind(kUnavailablePrefix, 0) == 0;
}

Result<std::unique_ptr<SqlConnection>> OpenConnection(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return OpenSqlite(url.substr(7));
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgres(url);
  }
  return InvalidArgumentError("database '" + url + "' is neither sqlite:PATH nor postgresql://...");
}

}  // namespace mg::store
