// SecretBuffer: memory for decrypted release files (closed bundles, hybrid
// heads) and ExcludeAnonymousMemoryFromDumps() for the weights built from
// them.
//
// A SecretBuffer is anonymous memory, excluded from core dumps
// (MADV_DONTDUMP), locked in RAM where the memory-lock limit allows, and
// wiped when destroyed. Buffers of 2 MiB or more are aligned for huge pages;
// smaller ones take whole pages only, so many small files cost little. Not
// copyable; reading from several threads is safe, writing is the owner's.
#pragma once

#include <cstddef>
#include <string_view>

namespace mg::release {

class SecretBuffer {
 public:
  explicit SecretBuffer(size_t size);
  ~SecretBuffer();
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  bool ok() const { return size_ == 0 || data_ != nullptr; }  // false: out of memory
  char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return std::string_view(data_, size_); }
  bool locked() const { return locked_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
  bool locked_ = false;
};

// Marks the process's private anonymous writable memory (the heap and large
// allocations: where a model's weights live once built from decrypted
// files) as excluded from core dumps, and with `lock` also locks it in RAM.
// Mappings over 4 GiB (a sanitizer's shadow memory) and file mappings are
// left alone. Returns false when a lock was refused (RLIMIT_MEMLOCK).
// Call once the weights are built; memory allocated later is not covered.
bool ProtectAnonymousMemory(bool lock);

}  // namespace mg::release
