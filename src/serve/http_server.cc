#include "serve/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <csignal>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "serve/api_error.h"

namespace mg::serve {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// A request id the client may choose: short and printable, else ours.
std::string RequestId(std::string_view given) {
  bool usable = !given.empty() && given.size() <= 128;
  for (char c : given) usable = usable && c > 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (usable) return std::string(given);
  thread_local std::mt19937_64 random{std::random_device{}()};
  char buffer[33];
  std::snprintf(buffer, sizeof buffer, "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return buffer;
}

std::string ApiKey(const http::request<http::string_body>& request) {
  auto auth = request.find(http::field::authorization);
  if (auth != request.end()) {
    std::string_view value(auth->value().data(), auth->value().size());
    if (value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer ")) {
      return std::string(value.substr(7));
    }
  }
  auto key = request.find("x-api-key");
  if (key != request.end()) return std::string(key->value());
  return {};
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Service* service = nullptr;
  Logger* logger = nullptr;
  net::io_context ioc;
  std::optional<ssl::context> tls;
  // Accepting and draining run on one strand, so that closing the acceptor
  // never races with an accept completing on another I/O thread.
  net::strand<net::io_context::executor_type> strand = net::make_strand(ioc);
  tcp::acceptor acceptor{strand};
  std::atomic<int64_t> in_flight{0};    // requests read and not yet answered
  std::atomic<int64_t> connections{0};  // sessions alive
  std::atomic<bool> draining{false};

  void Accept();
  // Over --max-connections: counted, answered 503 and closed at once.
  void RefuseConnection(tcp::socket socket);
  void Drain();
};

namespace {

// One connection. Stream is beast::tcp_stream or beast::ssl_stream of it.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(HttpServer::Impl* server, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...) {}
  ~Session() { server_->connections.fetch_sub(1); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(Millis(server_->options.idle_timeout_s));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code error) {
                                if (!error) self->Read();
                              });
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(Millis(server_->options.idle_timeout_s));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code error, size_t) {
                              self->OnHeader(error);
                            });
  }

  // Clients such as curl send "Expect: 100-continue" and wait for the go-ahead
  // before sending a larger body; a body over the limit is refused first.
  void OnHeader(beast::error_code error) {
    if (error) return OnRead(error);
    // Only a lone "chunked" is understood: any other coding (or a list, or
    // chunked with a Content-Length) would leave the body's end ambiguous,
    // which is how requests are smuggled past proxies (RFC 9112, 6.1).
    const auto& header = parser_->get();
    if (header.count(http::field::transfer_encoding) > 0) {
      auto coding = header.find(http::field::transfer_encoding);
      if (header.count(http::field::transfer_encoding) > 1 ||
          !beast::iequals(coding->value(), "chunked")) {
        return Refuse(400, "bad_request",
                      "unsupported Transfer-Encoding: only chunked is accepted");
      }
      if (header.count(http::field::content_length) > 0) {
        return Refuse(400, "bad_request", "both Transfer-Encoding and Content-Length given");
      }
    }
    auto expect = parser_->get().find(http::field::expect);
    if (expect != parser_->get().end() && beast::iequals(expect->value(), "100-continue")) {
      continue_.emplace(http::status::continue_, 11);
      return http::async_write(stream_, *continue_,
                               [self = this->shared_from_this()](beast::error_code e, size_t) {
                                 if (e) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code error, size_t) {
                       self->OnRead(error);
                     });
  }

  void OnRead(beast::error_code error) {
    if (error == http::error::body_limit) {
      return Refuse(
          413, "payload_too_large",
          "the body is larger than " + std::to_string(server_->options.max_body_bytes) + " bytes");
    }
    if (error == http::error::header_limit) {
      return Refuse(431, "header_too_large",
                    "the headers are larger than " +
                        std::to_string(server_->options.max_header_bytes) + " bytes");
    }
    if (error == beast::error::timeout) {
      // Idle, or too slow to send a whole request: 408 only mid-request.
      if (parser_->got_some()) return Refuse(408, "timeout", "the request took too long to arrive");
      return Close();
    }
    if (error == http::error::end_of_stream || error == net::error::eof ||
        error == net::error::connection_reset || error == net::ssl::error::stream_truncated) {
      return Close();
    }
    if (error) return Refuse(400, "bad_request", "malformed HTTP request: " + error.message());
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    std::string_view target(message.target().data(), message.target().size());
    request.path = std::string(target.substr(0, target.find('?')));
    if (target.find('?') != std::string_view::npos) {
      request.query = std::string(target.substr(target.find('?') + 1));
    }
    auto id = message.find("x-request-id");
    request.request_id =
        RequestId(id == message.end() ? std::string_view()
                                      : std::string_view(id->value().data(), id->value().size()));
    request.api_key = ApiKey(message);
    request.body = std::move(message.body());
    request_id_ = request.request_id;
    server_->in_flight.fetch_add(1);
    // The reply may come from any thread: carry it to this connection's strand.
    server_->service->Handle(
        std::move(request), [self = this->shared_from_this()](HttpResponse response) {
          net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
            self->Write(std::move(response), true);
          });
        });
  }

  // Answers a request that could not be read, then closes.
  void Refuse(int status, const char* type, const std::string& message) {
    keep_alive_ = false;
    if (request_id_.empty()) request_id_ = RequestId({});
    HttpResponse response;
    response.status = status;
    response.body = ErrorBody(ApiStyle::kTei, {status, type, message});
    server_->service->metrics().CountRequest("other", status);
    Write(std::move(response), false);
  }

  void Write(HttpResponse response, bool counted) {
    counted_ = counted;
    reply_.emplace();
    reply_->version(11);
    reply_->result(static_cast<unsigned>(response.status));
    reply_->set(http::field::server, "modelgate");
    reply_->set(http::field::content_type, response.content_type);
    reply_->set("x-request-id", request_id_);
    for (const auto& [name, value] : response.headers) reply_->set(name, value);
    reply_->body() = std::move(response.body);
    reply_->keep_alive(keep_alive_ && !server_->draining.load());
    reply_->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(Millis(server_->options.write_timeout_s));
    http::async_write(stream_, *reply_,
                      [self = this->shared_from_this()](beast::error_code error, size_t) {
                        self->OnWrite(error);
                      });
  }

  void OnWrite(beast::error_code error) {
    if (counted_) server_->in_flight.fetch_sub(1);
    counted_ = false;
    const bool again = !error && reply_->keep_alive();
    reply_.reset();
    request_id_.clear();
    if (again) return Read();
    Close();
  }

  void Close() {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    }
  }

  HttpServer::Impl* server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> reply_;
  std::optional<http::response<http::empty_body>> continue_;
  std::string request_id_;
  bool keep_alive_ = true;
  bool counted_ = false;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted || !acceptor.is_open()) return;
    if (error) {
      // Out of file descriptors and the like: retry shortly, keep serving.
      logger->Log(LogLevel::kWarn, "accept failed", {{"error", error.message()}});
      auto timer = std::make_shared<net::steady_timer>(strand, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { Accept(); });
      return;
    }
    if (connections.fetch_add(1) >= options.max_connections) {
      connections.fetch_sub(1);
      RefuseConnection(std::move(socket));
      return Accept();
    }
    socket.set_option(tcp::no_delay(true), error);
    if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), *tls)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Start();
    }
    Accept();
  });
}

void HttpServer::Impl::RefuseConnection(tcp::socket socket) {
  service->metrics().CountRefusedConnection();
  // Plain HTTP: a 503 the client can read, written without waiting (a fresh
  // socket's send buffer has room); over TLS the connection is just closed.
  if (!tls) {
    static const std::string kReply = [] {
      const std::string body = ErrorBody(
          ApiStyle::kTei,
          {503, "overloaded", "too many open connections (--max-connections); retry later"});
      return "HTTP/1.1 503 Service Unavailable\r\nServer: modelgate\r\n"
             "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(net::buffer(kReply), ignored);
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }
  beast::error_code ignored;
  socket.close(ignored);
}

int DefaultMaxConnections() {
  // Each connection holds one descriptor; keep some for model files, logs,
  // database connections and the catalogue.
  constexpr rlim_t kReserve = 128;
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (1u << 20)) return 1 << 20;
  return static_cast<int>(std::max<rlim_t>(
      16, limit.rlim_cur > kReserve * 2 ? limit.rlim_cur - kReserve : limit.rlim_cur / 2));
}

void HttpServer::Impl::Drain() {
  draining = true;
  service->BeginShutdown();
  beast::error_code ignored;
  acceptor.close(ignored);
  logger->Log(LogLevel::kInfo, "shutting down",
              {{"in_flight", static_cast<int64_t>(in_flight.load())}});
  const auto deadline = std::chrono::steady_clock::now() + Millis(options.drain_timeout_s);
  auto timer = std::make_shared<net::steady_timer>(strand);
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [this, timer, deadline, poll] {
    if (in_flight.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
      ioc.stop();
      *poll = nullptr;  // break the cycle
      return;
    }
    timer->expires_after(std::chrono::milliseconds(10));
    timer->async_wait([poll](beast::error_code) {
      if (*poll) (*poll)();
    });
  };
  (*poll)();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       Service* service, Logger* logger) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.max_connections < 0) return InvalidArgumentError("--max-connections must be >= 0");
  if (options.max_connections == 0) impl->options.max_connections = DefaultMaxConnections();
  impl->service = service;
  impl->logger = logger;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!options.tls_cert.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    beast::error_code error;
    impl->tls->use_certificate_chain_file(options.tls_cert, error);
    if (error)
      return InvalidArgumentError("cannot use " + options.tls_cert + ": " + error.message());
    impl->tls->use_private_key_file(options.tls_key, ssl::context::pem, error);
    if (error)
      return InvalidArgumentError("cannot use " + options.tls_key + ": " + error.message());
  }
  beast::error_code error;
  const auto address = net::ip::make_address(options.host, error);
  if (error) return InvalidArgumentError("bad --host " + options.host + ": " + error.message());
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  const std::string where = options.host + ":" + std::to_string(options.port);
  impl->acceptor.open(endpoint.protocol(), error);
  if (!error) impl->acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (!error) impl->acceptor.bind(endpoint, error);
  if (!error) impl->acceptor.listen(net::socket_base::max_listen_connections, error);
  if (error) return IoError("cannot listen on " + where + ": " + error.message());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Run() {
  Impl& impl = *impl_;
  auto signals = std::make_unique<net::signal_set>(impl.ioc, SIGTERM, SIGINT);
  signals->async_wait([&impl](beast::error_code error, int) {
    if (!error) net::post(impl.strand, [&impl] { impl.Drain(); });
  });
  impl.Accept();
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, impl.options.io_threads); ++t) {
    threads.emplace_back([&impl] { impl.ioc.run(); });
  }
  impl.ioc.run();
  for (std::thread& thread : threads) thread.join();
  // Drained: a second SIGTERM (or Ctrl-C) while the process winds down must
  // not kill it with a signal status. Removing the signal set restores the
  // default action, so ignore the signals from here on.
  signals.reset();
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
}

}  // namespace mg::serve
