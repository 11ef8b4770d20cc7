#include "serve/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mg::serve {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Result<HttpClient> HttpClient::Create(const std::string& base_url, std::string bearer) {
  constexpr std::string_view kScheme = "http://";
  if (base_url.rfind("https://", 0) == 0) {
    return InvalidArgumentError(
        "https:// endpoints are not supported; use http:// (e.g. over a "
        "local TLS-terminating proxy)");
  }
  if (base_url.rfind(kScheme, 0) != 0) {
    return InvalidArgumentError("endpoint must be http://HOST[:PORT]; given " + base_url);
  }
  HttpClient client;
  std::string rest = base_url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    client.prefix_ = rest.substr(slash);
    while (!client.prefix_.empty() && client.prefix_.back() == '/') client.prefix_.pop_back();
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  client.host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  client.port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (client.host_.empty() || client.port_.empty() ||
      client.port_.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("endpoint must be http://HOST[:PORT]; given " + base_url);
  }
  client.bearer_ = std::move(bearer);
  return client;
}

Result<HttpReply> HttpClient::Get(const std::string& path) const { return Send(false, path, {}); }

Result<HttpReply> HttpClient::Post(const std::string& path, const std::string& json_body) const {
  return Send(true, path, json_body);
}

Result<HttpReply> HttpClient::Send(bool post, const std::string& path,
                                   const std::string& body) const {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(120));
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> request(post ? http::verb::post : http::verb::get,
                                             prefix_ + path, 11);
    request.set(http::field::host, host_);
    request.set(http::field::user_agent, "modelgate-trace");
    if (!bearer_.empty()) request.set(http::field::authorization, "Bearer " + bearer_);
    if (post) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
    }
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    http::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = std::move(parser.get().body());
    return reply;
  } catch (const std::exception& e) {
    return IoError("http://" + host_ + ":" + port_ + prefix_ + path + ": " + e.what());
  }
}

}  // namespace mg::serve
