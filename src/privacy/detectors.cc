#include "privacy/detectors.h"

namespace mg::privacy {

std::vector<std::unique_ptr<Detector>> BuiltInDetectors() {
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(MakeEmailDetector());
  detectors.push_back(MakePhoneDetector());
  detectors.push_back(MakeCardDetector());
  detectors.push_back(MakeIbanDetector());
  detectors.push_back(MakeIpv4Detector());
  detectors.push_back(MakeIpv6Detector());
  detectors.push_back(MakeUrlDetector());
  detectors.push_back(MakeUsSsnDetector());
  detectors.push_back(MakeCnResidentIdDetector());
  detectors.push_back(MakeCnUsccDetector());
  detectors.push_back(MakeDateOfBirthDetector());
  detectors.push_back(MakeSecretDetector());
  return detectors;
}

}  // namespace mg::privacy
