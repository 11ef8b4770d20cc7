// The built-in pattern detectors, one per file (*_detector.cc).
//
// Each factory returns a new immutable, thread-safe detector.
#pragma once

#include <memory>
#include <vector>

#include "privacy/detector.h"

namespace mg::privacy {

std::unique_ptr<Detector> MakeEmailDetector();
std::unique_ptr<Detector> MakePhoneDetector();
std::unique_ptr<Detector> MakeCardDetector();
std::unique_ptr<Detector> MakeIbanDetector();
std::unique_ptr<Detector> MakeIpv4Detector();
std::unique_ptr<Detector> MakeIpv6Detector();
std::unique_ptr<Detector> MakeUrlDetector();
std::unique_ptr<Detector> MakeUsSsnDetector();
std::unique_ptr<Detector> MakeCnResidentIdDetector();
std::unique_ptr<Detector> MakeCnUsccDetector();
std::unique_ptr<Detector> MakeDateOfBirthDetector();
std::unique_ptr<Detector> MakeSecretDetector();

// All of the above.
std::vector<std::unique_ptr<Detector>> BuiltInDetectors();

}  // namespace mg::privacy
