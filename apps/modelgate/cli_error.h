// CliError: how a subcommand reports a failure to main(), which prints
// "error: <message>" and exits with the given status.
#pragma once

#include <stdexcept>
#include <string>

#include "base/status.h"

namespace mg::cli {

class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Throws CliError when `status` is not OK.
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw CliError(status.message());
}

template <typename T>
T ValueOrThrow(Result<T> result) {
  if (!result.ok()) throw CliError(result.status().message());
  return std::move(result).value();
}

}  // namespace mg::cli
