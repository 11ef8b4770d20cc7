// Status and Result<T>: how fallible operations report errors.
//
// Anything that can fail by nature (files, parsing, user input) returns a
// Status or a Result<T>; compute code on validated input uses MG_CHECK.
// Both types are values, cheap to move, and not thread-safe to share while
// being mutated (like any value).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mg {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kCorruption,
  kIoError,
  kUnimplemented,
  kInternal,
  kResourceExhausted,  // a limit refuses the work (message: "<error type>: <text>")
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: <message>"-style text for humans.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status CorruptionError(std::string message);
Status IoError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status ResourceExhaustedError(std::string message);

// A value or the Status explaining why there is none (shaped like std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(data_).ok()) {
      data_ = Status(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);

}  // namespace mg

#define MG_STATUS_CONCAT_INNER(a, b) a##b
#define MG_STATUS_CONCAT(a, b) MG_STATUS_CONCAT_INNER(a, b)

#define MG_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::mg::Status mg_status_ = (expr);        \
    if (!mg_status_.ok()) return mg_status_; \
  } while (0)

#define MG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define MG_ASSIGN_OR_RETURN(lhs, expr) \
  MG_ASSIGN_OR_RETURN_IMPL(MG_STATUS_CONCAT(mg_result_, __LINE__), lhs, expr)

// Invariant checks for programmer errors; always on, also in Release.
#define MG_CHECK(condition)                                                  \
  do {                                                                       \
    if (!(condition)) ::mg::CheckFailed(__FILE__, __LINE__, #condition, ""); \
  } while (0)

#define MG_CHECK_MSG(condition, message)                                            \
  do {                                                                              \
    if (!(condition)) ::mg::CheckFailed(__FILE__, __LINE__, #condition, (message)); \
  } while (0)
