// MakeGate: which gate counts the licence's quotas (the control plane's with
// --auth on, a LicenceGate in front of an open gate without), read from the
// licence policy, and the refusal of --auth on without a control plane.
#include "serve/gate_factory.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace mg::serve {
namespace {

// 2026-03-10T12:00:00Z.
constexpr int64_t kNoon = 1'773'144'000;

release::LicencePolicy PolicyWithMaxRequests(std::optional<uint64_t> max_requests) {
  release::Licence licence;
  licence.licence_id = "00112233445566778899aabbccddeeff";
  licence.licensee = "Acme";
  licence.model_id = "tiny";
  licence.not_before = "2026-01-01";
  licence.expires = "2026-12-31";
  licence.features = {"embed"};
  licence.max_requests = max_requests;
  return release::LicencePolicy("tiny", licence);
}

GateOptions Options(bool auth) {
  GateOptions options;
  options.auth = auth;
  options.clock = [] { return std::chrono::sys_seconds(std::chrono::seconds(kNoon)); };
  return options;
}

// Admits and finishes one request; returns the admission's status.
int Call(Gate& gate, std::string_view key, std::string_view route, std::string_view scope,
         std::string* error_type = nullptr) {
  GateRequest request;
  request.api_key = key;
  request.route = route;
  request.scope = scope;
  request.request_id = "test";
  request.tokens = 3;
  const Admission admission = gate.Admit(request);
  if (error_type != nullptr) *error_type = admission.error_type;
  if (admission.status == 200) {
    EXPECT_TRUE(gate.Finish(admission, request, {200, 3, 1.0}).ok());
  }
  return admission.status;
}

TEST(GateFactoryTest, QuotasFromTheLicenceConvertForTheControlPlane) {
  release::Licence licence;
  licence.licence_id = "abc";
  licence.max_requests = UINT64_MAX;
  licence.max_tokens_per_day = 7;
  const store::LicenceLimits limits =
      StoreLicenceLimits(*release::LicencePolicy("m", licence).quotas());
  EXPECT_EQ(limits.licence_id, "abc");
  EXPECT_EQ(limits.max_requests, INT64_MAX);
  EXPECT_EQ(limits.max_tokens_per_day, 7);
}

TEST(GateFactoryTest, WithoutKeysOrQuotasEveryoneIsAdmitted) {
  Logger logger(LogLevel::kOff);
  auto gate = MakeGate(Options(false), PolicyWithMaxRequests(std::nullopt), nullptr, &logger);
  ASSERT_TRUE(gate.ok()) << gate.status().message();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call(**gate, "", "/embed", "embed"), 200);
  EXPECT_EQ((*gate)->MetricsText(), "");
}

TEST(GateFactoryTest, WithoutKeysTheLicenceQuotasAreCountedInFront) {
  Logger logger(LogLevel::kOff);
  auto gate = MakeGate(Options(false), PolicyWithMaxRequests(1), nullptr, &logger);
  ASSERT_TRUE(gate.ok()) << gate.status().message();
  EXPECT_EQ(Call(**gate, "", "/embed", "embed"), 200);
  std::string error_type;
  EXPECT_EQ(Call(**gate, "", "/embed", "embed", &error_type), 429);
  EXPECT_EQ(error_type, "licence_quota_exceeded");
  EXPECT_EQ(Call(**gate, "", "/tokenize", "embed"), 200);  // not the licence's business
  EXPECT_NE((*gate)->MetricsText().find("modelgate_licence_max_requests"), std::string::npos);
}

TEST(GateFactoryTest, KeysNeedTheControlPlane) {
  Logger logger(LogLevel::kOff);
  auto gate = MakeGate(Options(true), PolicyWithMaxRequests(1), nullptr, &logger);
  ASSERT_FALSE(gate.ok());
  EXPECT_NE(gate.status().message().find("control plane"), std::string::npos);
}

TEST(GateFactoryTest, WithKeysTheControlPlaneCountsTheLicence) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "gate_factory_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto control_plane = store::ControlPlane::Open("sqlite:" + (dir / "control.db").string());
  ASSERT_TRUE(control_plane.ok()) << control_plane.status().message();
  store::KeySpec spec;
  spec.name = "acme";
  spec.scopes = {"embed"};
  auto key = (*control_plane)->CreateKey(spec, "test");
  ASSERT_TRUE(key.ok()) << key.status().message();

  Logger logger(LogLevel::kOff);
  auto gate = MakeGate(Options(true), PolicyWithMaxRequests(1), control_plane->get(), &logger);
  ASSERT_TRUE(gate.ok()) << gate.status().message();
  EXPECT_EQ(Call(**gate, "", "/embed", "embed"), 401);  // keys are checked
  EXPECT_EQ(Call(**gate, key->secret, "/embed", "embed"), 200);
  std::string error_type;
  EXPECT_EQ(Call(**gate, key->secret, "/embed", "embed", &error_type), 429);
  EXPECT_EQ(error_type, "licence_quota_exceeded");
  gate->reset();  // before the control plane it uses
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mg::serve
