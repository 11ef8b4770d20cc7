// The web dashboard's files (HTML, JavaScript, CSS), compiled into the
// binary from src/serve/dashboard/assets so the server needs nothing on disk
// and the page makes no request outside the server. Immutable; thread-safe.
#pragma once

#include <string_view>

namespace mg::serve {

struct DashboardAsset {
  std::string_view url;           // "/", "/dashboard/app.js", …
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
};

// The asset served at `url` (query string already removed), or nullptr.
const DashboardAsset* FindDashboardAsset(std::string_view url);

}  // namespace mg::serve
