// The server's view of one HTTP exchange, independent of the HTTP library:
// the HTTP layer (http_server.h) fills an HttpRequest, the Service answers
// through a Responder with an HttpResponse.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mg::serve {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string query;   // after '?', undecoded; empty if none
  std::string body;
  std::string request_id;  // x-request-id, or one the server made up
  std::string api_key;     // "Authorization: Bearer K" or "X-Api-Key: K"; empty if none
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Delivers the reply; may be called from any thread, exactly once.
using Responder = std::function<void(HttpResponse)>;

}  // namespace mg::serve
