#include "serve/routes_dashboard.h"

#include "serve/api_error.h"
#include "serve/dashboard/dashboard_assets.h"

namespace mg::serve {
namespace {

void AddHeaders(HttpResponse* response) {
  response->headers.emplace_back("Cache-Control", "no-cache");
  // No other site may frame the dashboard (clickjacking); X-Frame-Options
  // for browsers that predate frame-ancestors.
  response->headers.emplace_back("Content-Security-Policy",
                                 "default-src 'self'; frame-ancestors 'none'");
  response->headers.emplace_back("X-Frame-Options", "DENY");
  response->headers.emplace_back("X-Content-Type-Options", "nosniff");
}

}  // namespace

HttpResponse DashboardResponse(const HttpRequest& request) {
  HttpResponse response;
  AddHeaders(&response);
  if (request.method != "GET") {
    response.status = 405;
    response.body =
        ErrorBody(ApiStyle::kTei, {405, "method_not_allowed", "the dashboard takes GET"});
    return response;
  }
  const DashboardAsset* asset = FindDashboardAsset(request.path);
  if (asset == nullptr) {
    response.status = 404;
    response.body =
        ErrorBody(ApiStyle::kTei, {404, "not_found", "no dashboard file " + request.path});
    return response;
  }
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->body);
  return response;
}

}  // namespace mg::serve
