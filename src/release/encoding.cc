#include "release/encoding.h"

#include "base/file.h"

namespace mg::release {

Result<std::string> Sha256FileHex(const std::string& path, uint64_t* size) {
  Sha256 hash;
  MG_ASSIGN_OR_RETURN(*size, ReadFileInPieces(path, [&](std::string_view piece) {
    hash.Update(piece);
    return Status::Ok();
  }));
  return hash.FinishHex();
}

std::string KeyIdOf(std::string_view public_key) {
  return HexEncode(Blake2b256(public_key).substr(0, 8));
}

}  // namespace mg::release
