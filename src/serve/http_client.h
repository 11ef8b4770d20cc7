// A minimal blocking HTTP/1.1 client for the commands that query a running
// server (trace --endpoint): plain http:// only, one connection per call.
// Beside http_server.cc so that Beast is compiled with one configuration.
// Not thread-safe; each caller makes its own.
#pragma once

#include <string>

#include "base/status.h"

namespace mg::serve {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `base_url`: http://HOST[:PORT][/PREFIX]; `bearer`: sent as
  // Authorization: Bearer when not empty (never logged).
  static Result<HttpClient> Create(const std::string& base_url, std::string bearer);

  Result<HttpReply> Get(const std::string& path) const;
  Result<HttpReply> Post(const std::string& path, const std::string& json_body) const;

 private:
  Result<HttpReply> Send(bool post, const std::string& path, const std::string& body) const;
  std::string host_;
  std::string port_;
  std::string prefix_;
  std::string bearer_;
};

}  // namespace mg::serve
