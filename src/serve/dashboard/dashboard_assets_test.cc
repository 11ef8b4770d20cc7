#include "serve/dashboard/dashboard_assets.h"

#include <gtest/gtest.h>

#include <string>

#include "base/file.h"

namespace mg::serve {
namespace {

// The compiled-in bytes are exactly the files in the source tree.
TEST(DashboardAssets, MatchTheSourceFiles) {
  const std::pair<const char*, const char*> cases[] = {
      {"/", "src/serve/dashboard/assets/index.html"},
      {"/dashboard/app.js", "src/serve/dashboard/assets/app.js"},
      {"/dashboard/style.css", "src/serve/dashboard/assets/style.css"},
      {"/favicon.ico", "src/serve/dashboard/assets/favicon.svg"},
  };
  for (const auto& [url, path] : cases) {
    const DashboardAsset* asset = FindDashboardAsset(url);
    ASSERT_NE(asset, nullptr) << url;
    auto bytes = ReadFile(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(asset->body, *bytes) << url;
  }
  EXPECT_EQ(FindDashboardAsset("/")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(FindDashboardAsset("/dashboard/app.js")->content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(FindDashboardAsset("/favicon.ico")->content_type, "image/svg+xml");
}

TEST(DashboardAssets, AliasesAndUnknownPaths) {
  EXPECT_EQ(FindDashboardAsset("/index.html"), FindDashboardAsset("/"));
  EXPECT_EQ(FindDashboardAsset("/dashboard/"), FindDashboardAsset("/"));
  EXPECT_EQ(FindDashboardAsset("/dashboard/missing.js"), nullptr);
  EXPECT_EQ(FindDashboardAsset("/../etc/passwd"), nullptr);
  EXPECT_EQ(FindDashboardAsset(""), nullptr);
}

// No page may load anything from outside the server.
TEST(DashboardAssets, NoExternalReferences) {
  for (const char* url : {"/", "/dashboard/app.js", "/dashboard/style.css", "/favicon.ico"}) {
    std::string body(FindDashboardAsset(url)->body);
    // The SVG namespace name is an identifier, not a request.
    const std::string svg_namespace = "http://www.w3.org/2000/svg";
    for (size_t at; (at = body.find(svg_namespace)) != std::string::npos;) {
      body.erase(at, svg_namespace.size());
    }
    EXPECT_EQ(body.find("http://"), std::string::npos) << url;
    EXPECT_EQ(body.find("https://"), std::string::npos) << url;
    EXPECT_EQ(body.find("//cdn"), std::string::npos) << url;
  }
}

}  // namespace
}  // namespace mg::serve
