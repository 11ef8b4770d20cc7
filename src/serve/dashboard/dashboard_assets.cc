#include "serve/dashboard/dashboard_assets.h"

#include <cstddef>

namespace mg::serve::dashboard_files {
struct EmbeddedFile {
  std::string_view url;
  std::string_view content_type;
  std::string_view body;
};
const EmbeddedFile* EmbeddedFiles(size_t* count);
}  // namespace mg::serve::dashboard_files

namespace mg::serve {

const DashboardAsset* FindDashboardAsset(std::string_view url) {
  static const auto* const kAssets = [] {
    size_t count = 0;
    const auto* files = dashboard_files::EmbeddedFiles(&count);
    auto* assets = new DashboardAsset[count + 1];
    for (size_t i = 0; i < count; ++i) {
      assets[i] = {files[i].url, files[i].content_type, files[i].body};
    }
    assets[count] = {};
    return assets;
  }();
  if (url == "/index.html" || url == "/dashboard" || url == "/dashboard/") url = "/";
  for (const DashboardAsset* asset = kAssets; !asset->url.empty(); ++asset) {
    if (asset->url == url) return asset;
  }
  return nullptr;
}

}  // namespace mg::serve
