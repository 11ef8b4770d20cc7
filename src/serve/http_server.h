// HttpServer: the HTTP/1.1 transport of `modelgate serve` (Boost.Beast/Asio,
// OpenSSL for TLS). Asynchronous keep-alive connections on a few I/O
// threads; each request is handed to the Service and its reply written back
// in order (pipelined requests are answered one after another). Limits:
// header and body size (431, 413), a deadline for each request to arrive
// (idle and slow clients are disconnected) and for each reply to be read,
// and the number of open connections (more are answered 503 and closed at
// once). A Transfer-Encoding other than a lone "chunked", or one together
// with Content-Length, gets 400: the body's length would be ambiguous.
//
// Run() serves until SIGTERM or SIGINT, then stops accepting, lets the
// requests in flight finish (up to `drain_timeout_s`) and returns.
//
// Thread safety: Create() and Run() from one thread; port() from any.
// Asio stays inside http_server.cc.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "serve/logger.h"
#include "serve/service.h"

namespace mg::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;       // 0: any free port (see port())
  std::string tls_cert;  // PEM chain; with tls_key, serve HTTPS only
  std::string tls_key;
  int io_threads = 2;
  size_t max_body_bytes = 2000000;  // TEI's default payload limit
  size_t max_header_bytes = 16384;
  double idle_timeout_s = 60;   // to receive a whole request (from connect or the last reply)
  double write_timeout_s = 60;  // for the client to read a reply
  double drain_timeout_s = 30;  // on SIGTERM, for requests in flight
  int max_connections = 0;      // open at once; 0: DefaultMaxConnections()
};

// What RLIMIT_NOFILE allows, less a reserve for the process's own files and
// database connections.
int DefaultMaxConnections();

class HttpServer {
 public:
  // Binds and listens; fails naming the address, or the TLS file at fault.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options,
                                                    Service* service, Logger* logger);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port listened on.
  int port() const;
  // Serves until SIGTERM/SIGINT and the drain; returns then.
  void Run();

  struct Impl;  // defined in http_server.cc

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg::serve
