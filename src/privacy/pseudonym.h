// Pseudonyms: stable, type-appropriate fakes. Within one key the same value
// of the same type always becomes the same fake, and a different key gives a
// different one, so a data set keeps its structure (joins, repeats, formats)
// without the real values:
//   EMAIL_ADDRESS   user-3f9a1c@example.com
//   PHONE_NUMBER    same length and punctuation, digits replaced ('+' kept)
//   CREDIT_CARD     same grouping and network digit, valid Luhn check digit
//   IBAN_CODE       same country and layout, valid check digits
//   IP_ADDRESS      10.x.y.z for IPv4, fdxx:... (unique local) for IPv6
//   URL             scheme kept, https://example.com/3f9a1c2b
//   US_SSN          same layout, area 001..899 (not 666), group and serial non-zero
//   CN_RESIDENT_ID  same province, random birth date 1950..2005, valid check character
//   CN_USCC         same first two characters, valid check character
//   DATE_TIME       same format, another valid date (1950..2005)
//   SECRET          recognised prefix kept (ghp_, sk_live_, AKIA, mg_, PEM lines),
//                   the rest replaced character class by character class
//   others          letters and digits replaced class by class
// The fakes are derived from HMAC-SHA256(key, type || 0 || value); they look
// real but are random, so they may by chance equal a real value.
//
// Pure function of its inputs; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "privacy/entity.h"
#include "privacy/key.h"

namespace mg::privacy {

std::string Pseudonym(EntityType type, std::string_view value, const KeyBytes& pseudonym_key);

}  // namespace mg::privacy
