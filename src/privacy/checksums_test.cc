// Check-digit algorithms against published values computed elsewhere: card
// numbers from the networks' test-card lists, IBANs from the ISO 13616
// registry's examples, the GB 11643 and GB 32100 sample codes.
#include "privacy/checksums.h"

#include <gtest/gtest.h>

namespace mg::privacy {
namespace {

TEST(Luhn, PublishedTestCardsPass) {
  for (const char* number :
       {"4111111111111111", "4012888888881881", "378282246310005", "371449635398431",
        "5555555555554444", "5105105105105100", "6011111111111117", "3530111333300000",
        "30569309025904", "6200000000000005", "79927398713"}) {
    EXPECT_TRUE(LuhnValid(number)) << number;
  }
}

TEST(Luhn, ChangedDigitsFail) {
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid("378282246310006"));
  EXPECT_FALSE(LuhnValid("4111-1111"));  // not digits
  EXPECT_FALSE(LuhnValid("0"));
}

TEST(Luhn, CheckDigitOfTheClassicExample) {
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
  EXPECT_EQ(LuhnCheckDigit("411111111111111"), '1');
}

TEST(Iban, RegistryExamplesHaveRemainderOne) {
  for (const char* iban :
       {"GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606",
        "NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957", "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S", "IT60X0542811101000000123456",
        "ES9121000418450200051332", "SA0380000000608010167519", "AT611904300234573201",
        "gb82west12345698765432"}) {
    EXPECT_TRUE(IbanValid(iban)) << iban;
  }
}

TEST(Iban, WrongCheckDigitsOrLengthFail) {
  EXPECT_FALSE(IbanValid("GB83WEST12345698765432"));
  EXPECT_FALSE(IbanValid("GB82WEST1234569876543"));   // one short for GB
  EXPECT_FALSE(IbanValid("DE89370400440532013001"));  // changed BBAN digit
  EXPECT_FALSE(IbanValid("XX82WEST12345698765432"));  // no such country
  EXPECT_EQ(IbanLength("GB"), 22u);
  EXPECT_EQ(IbanLength("NO"), 15u);
  EXPECT_EQ(IbanLength("US"), 0u);
}

TEST(Iban, CheckDigitsAreComputed) {
  EXPECT_EQ(IbanCheckDigits("GB", "WEST12345698765432"), "82");
  EXPECT_EQ(IbanCheckDigits("DE", "370400440532013000"), "89");
}

TEST(Gb11643, StandardExampleAndOthers) {
  EXPECT_EQ(Gb11643CheckChar("11010519491231002"), 'X');  // the standard's own example
  EXPECT_EQ(Gb11643CheckChar("44052418800101001"), '4');
}

TEST(Gb32100, PublishedSample) {
  EXPECT_EQ(Gb32100CheckChar("91350100M000100Y4"), '3');
  EXPECT_EQ(Gb32100CheckChar("91350100M000100I4"), '\0');  // I is not in the alphabet
  EXPECT_EQ(UsccCharValue('Y'), 30);
  EXPECT_EQ(UsccCharValue('S'), -1);
}

TEST(Dates, CalendarRules) {
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_FALSE(IsValidDate(1999, 2, 30));
  EXPECT_FALSE(IsValidDate(1999, 4, 31));
  EXPECT_FALSE(IsValidDate(1999, 13, 1));
  EXPECT_FALSE(IsValidDate(1999, 1, 0));
  EXPECT_TRUE(IsValidDate(2024, 12, 31));
}

}  // namespace
}  // namespace mg::privacy
