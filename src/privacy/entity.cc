#include "privacy/entity.h"

#include <string>

namespace mg::privacy {
namespace {

constexpr std::string_view kNames[kEntityTypeCount] = {
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD",    "IBAN_CODE",    "IP_ADDRESS",
    "URL",           "US_SSN",       "CN_RESIDENT_ID", "CN_USCC",      "DATE_TIME",
    "SECRET",        "PERSON",       "LOCATION",       "ORGANIZATION",
};

}  // namespace

std::string_view EntityTypeName(EntityType type) {
  const size_t index = static_cast<size_t>(type);
  return index < kEntityTypeCount ? kNames[index] : "UNKNOWN";
}

Result<EntityType> ParseEntityType(std::string_view name) {
  for (size_t index = 0; index < kEntityTypeCount; ++index) {
    if (kNames[index] == name) return static_cast<EntityType>(index);
  }
  std::string choices;
  for (std::string_view known : kNames) {
    if (!choices.empty()) choices += ", ";
    choices += known;
  }
  return InvalidArgumentError("unknown entity type \"" + std::string(name) +
                              "\" (known: " + choices + ")");
}

const std::vector<EntityType>& AllEntityTypes() {
  static const std::vector<EntityType> kAll = [] {
    std::vector<EntityType> all;
    for (size_t index = 0; index < kEntityTypeCount; ++index) {
      all.push_back(static_cast<EntityType>(index));
    }
    return all;
  }();
  return kAll;
}

}  // namespace mg::privacy
