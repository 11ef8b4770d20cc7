// Zip directory reading for PyTorch checkpoints.
//
// PyTorch (torch.save since 1.6) writes a zip archive whose entries are
// stored uncompressed and 64-byte aligned, so tensors can be viewed in place.
// This reads the central directory (zip64 included) of an archive already in
// memory and locates each entry's bytes; it never decompresses. Pure
// functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace mg::model {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;       // 0 = stored; anything else is compressed
  uint64_t data_offset = 0;  // of the entry's stored bytes in the archive
  uint64_t stored_size = 0;  // compressed size (== size when stored)
  uint64_t size = 0;         // uncompressed size
};

// Parses the end-of-central-directory record and every central directory
// entry, and checks that each entry's local header and bytes lie inside
// [0, size) and agree with the directory. Rejects encrypted entries, split
// archives and duplicate names. Errors name `file`.
Result<std::vector<ZipEntry>> ReadZipDirectory(const uint8_t* data, size_t size,
                                               const std::string& file);

}  // namespace mg::model
