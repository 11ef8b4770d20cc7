#include "model/zip_reader.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

namespace mg::model {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kEndRecordSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndRecordSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;

// Little-endian reads with the bounds checked by the caller through Has().
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool Has(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  uint64_t Le(uint64_t offset, int width) const {
    uint64_t value = 0;
    for (int byte = width - 1; byte >= 0; --byte) value = (value << 8) | data_[offset + byte];
    return value;
  }
  uint16_t U16(uint64_t offset) const { return static_cast<uint16_t>(Le(offset, 2)); }
  uint32_t U32(uint64_t offset) const { return static_cast<uint32_t>(Le(offset, 4)); }
  uint64_t U64(uint64_t offset) const { return Le(offset, 8); }
  std::string_view Text(uint64_t offset, uint64_t length) const {
    return {reinterpret_cast<const char*>(data_ + offset), static_cast<size_t>(length)};
  }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
};

struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Status Corrupt(const std::string& file, const std::string& problem) {
  return CorruptionError(file + ": bad zip archive: " + problem);
}

// Finds the end-of-central-directory record (searching back over a comment of
// up to 64 KiB) and, when its fields overflow, the zip64 record.
Result<Directory> FindDirectory(const Bytes& bytes, const std::string& file) {
  if (bytes.size() < kEndRecordSize) return Corrupt(file, "too short for a zip archive");
  const uint64_t lowest =
      bytes.size() > kEndRecordSize + 0xFFFF ? bytes.size() - kEndRecordSize - 0xFFFF : 0;
  uint64_t end = bytes.size() - kEndRecordSize;
  while (bytes.U32(end) != kEndSignature) {
    if (end == lowest) return Corrupt(file, "no end of central directory (truncated?)");
    --end;
  }
  if (bytes.U16(end + 4) != 0 || bytes.U16(end + 6) != 0) {
    return Corrupt(file, "split (multi-disk) archives are not supported");
  }
  Directory directory{bytes.U16(end + 10), bytes.U32(end + 16), bytes.U32(end + 12)};
  const bool zip64 =
      directory.entries == 0xFFFF || directory.offset == 0xFFFFFFFF || directory.size == 0xFFFFFFFF;
  if (!zip64) return directory;
  if (end < kZip64LocatorSize || bytes.U32(end - kZip64LocatorSize) != kZip64LocatorSignature) {
    return Corrupt(file, "zip64 end of central directory locator missing");
  }
  const uint64_t record = bytes.U64(end - kZip64LocatorSize + 8);
  if (!bytes.Has(record, kZip64EndRecordSize) || bytes.U32(record) != kZip64EndSignature) {
    return Corrupt(file, "zip64 end of central directory record out of range");
  }
  return Directory{bytes.U64(record + 32), bytes.U64(record + 48), bytes.U64(record + 40)};
}

// Replaces 0xFFFFFFFF fields of a central entry with their zip64 extra values.
Status ApplyZip64Extra(const Bytes& bytes, uint64_t extra, uint64_t extra_size,
                       const std::string& file, ZipEntry* entry, uint64_t* local_offset) {
  uint64_t* fields[3] = {&entry->size, &entry->stored_size, local_offset};
  uint64_t position = extra;
  while (position + 4 <= extra + extra_size) {
    const uint16_t id = bytes.U16(position);
    const uint16_t length = bytes.U16(position + 2);
    if (position + 4 + length > extra + extra_size) break;
    if (id == 0x0001) {
      uint64_t cursor = position + 4;
      for (uint64_t* field : fields) {
        if (*field != 0xFFFFFFFF) continue;
        if (cursor + 8 > position + 4 + length) {
          return Corrupt(file, "entry '" + entry->name + "' has a short zip64 extra field");
        }
        *field = bytes.U64(cursor);
        cursor += 8;
      }
      return Status::Ok();
    }
    position += 4 + length;
  }
  if (entry->size == 0xFFFFFFFF || entry->stored_size == 0xFFFFFFFF ||
      *local_offset == 0xFFFFFFFF) {
    return Corrupt(file, "entry '" + entry->name + "' lacks its zip64 extra field");
  }
  return Status::Ok();
}

// Reads the central entry at `*position` and advances past it.
Result<ZipEntry> ReadEntry(const Bytes& bytes, uint64_t directory_end, uint64_t* position,
                           const std::string& file) {
  const uint64_t at = *position;
  if (!bytes.Has(at, kCentralHeaderSize) || at + kCentralHeaderSize > directory_end ||
      bytes.U32(at) != kCentralHeaderSignature) {
    return Corrupt(file, "central directory entry at offset " + std::to_string(at) + " is invalid");
  }
  const uint16_t flags = bytes.U16(at + 8);
  const uint64_t name_size = bytes.U16(at + 28);
  const uint64_t extra_size = bytes.U16(at + 30);
  const uint64_t comment_size = bytes.U16(at + 32);
  const uint64_t total = kCentralHeaderSize + name_size + extra_size + comment_size;
  if (at + total > directory_end) {
    return Corrupt(file, "central directory entry at offset " + std::to_string(at) +
                             " runs past the directory");
  }
  ZipEntry entry;
  entry.name = std::string(bytes.Text(at + kCentralHeaderSize, name_size));
  entry.method = bytes.U16(at + 10);
  entry.stored_size = bytes.U32(at + 20);
  entry.size = bytes.U32(at + 24);
  uint64_t local = bytes.U32(at + 42);
  MG_RETURN_IF_ERROR(ApplyZip64Extra(bytes, at + kCentralHeaderSize + name_size, extra_size, file,
                                     &entry, &local));
  if (flags & 0x1) return Corrupt(file, "entry '" + entry.name + "' is encrypted");
  if (!bytes.Has(local, kLocalHeaderSize) || bytes.U32(local) != kLocalHeaderSignature) {
    return Corrupt(file, "entry '" + entry.name + "' has no valid local header at offset " +
                             std::to_string(local));
  }
  const uint64_t local_name_size = bytes.U16(local + 26);
  const uint64_t local_extra_size = bytes.U16(local + 28);
  entry.data_offset = local + kLocalHeaderSize + local_name_size + local_extra_size;
  if (!bytes.Has(local + kLocalHeaderSize, local_name_size) ||
      bytes.Text(local + kLocalHeaderSize, local_name_size) != entry.name) {
    return Corrupt(file, "entry '" + entry.name + "' has a local header that disagrees");
  }
  if (!bytes.Has(entry.data_offset, entry.stored_size)) {
    return Corrupt(file, "entry '" + entry.name + "' data runs past the end of the file");
  }
  if (entry.method == 0 && entry.stored_size != entry.size) {
    return Corrupt(file, "stored entry '" + entry.name + "' has mismatched sizes");
  }
  *position = at + total;
  return entry;
}

}  // namespace

Result<std::vector<ZipEntry>> ReadZipDirectory(const uint8_t* data, size_t size,
                                               const std::string& file) {
  const Bytes bytes(data, size);
  MG_ASSIGN_OR_RETURN(Directory directory, FindDirectory(bytes, file));
  if (!bytes.Has(directory.offset, directory.size)) {
    return Corrupt(file, "central directory [" + std::to_string(directory.offset) + ", +" +
                             std::to_string(directory.size) + ") is outside the file");
  }
  if (directory.entries > directory.size / kCentralHeaderSize) {
    return Corrupt(file, "central directory claims " + std::to_string(directory.entries) +
                             " entries, more than fit in it");
  }
  const uint64_t directory_end = directory.offset + directory.size;
  std::vector<ZipEntry> entries;
  std::set<std::string> names;
  uint64_t position = directory.offset;
  for (uint64_t index = 0; index < directory.entries; ++index) {
    MG_ASSIGN_OR_RETURN(ZipEntry entry, ReadEntry(bytes, directory_end, &position, file));
    if (!names.insert(entry.name).second) {
      return Corrupt(file, "entry '" + entry.name + "' appears twice");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace mg::model
