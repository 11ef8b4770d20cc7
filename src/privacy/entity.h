// Entity types and findings: what the PII detectors report.
//
// Type names follow Microsoft Presidio where Presidio has one (EMAIL_ADDRESS,
// PHONE_NUMBER, ...) so that data labelled for Presidio reads the same here.
// PERSON, LOCATION and ORGANIZATION are produced only by model-based
// recognizers (see recognizer.h); the pattern detectors never report them.
//
// Plain values and stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mg::privacy {

enum class EntityType : uint8_t {
  kEmailAddress,
  kPhoneNumber,
  kCreditCard,
  kIbanCode,
  kIpAddress,
  kUrl,
  kUsSsn,
  kCnResidentId,
  kCnUscc,
  kDateTime,  // dates of birth (a date with birth context)
  kSecret,    // API keys, tokens, private keys
  kPerson,
  kLocation,
  kOrganization,
};

inline constexpr size_t kEntityTypeCount = 14;

// "EMAIL_ADDRESS", "PHONE_NUMBER", ...
std::string_view EntityTypeName(EntityType type);

// The inverse of EntityTypeName; fails with InvalidArgument naming the choices.
Result<EntityType> ParseEntityType(std::string_view name);

// Every type, in enum order.
const std::vector<EntityType>& AllEntityTypes();

// A detected entity: bytes [begin, end) of the analysed text (the original
// input, not a normalised copy) and a confidence in [0, 1].
struct Finding {
  EntityType type;
  size_t begin = 0;
  size_t end = 0;
  float score = 0;

  size_t size() const { return end - begin; }
  bool operator==(const Finding&) const = default;
};

}  // namespace mg::privacy
