// The web dashboard's static files over HTTP: GET / and GET /dashboard/*
// answer the assets compiled into the binary (dashboard_assets.h), with a
// Content-Security-Policy that keeps the page from loading anything outside
// the server. Public: the page signs in with an admin key through the API.
//
// Pure function; thread-safe.
#pragma once

#include "serve/http_types.h"

namespace mg::serve {

// The reply for `request`, whose path is one of the dashboard route's
// (routes.cc: "/", "/index.html", "/favicon.ico", "/dashboard" and under
// "/dashboard/"). Unknown files get 404, methods other than GET 405.
HttpResponse DashboardResponse(const HttpRequest& request);

}  // namespace mg::serve
