#include "release/secret_buffer.h"

#include <sodium.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace mg::release {

SecretBuffer::SecretBuffer(size_t size) : size_(size) {
  if (size == 0) return;
  const size_t huge = size_t{2} << 20;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t unit = size >= huge ? huge : page;
  mapped_ = (size + unit - 1) / unit * unit;
  void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    mapped_ = 0;
    return;
  }
  data_ = static_cast<char*>(p);
  if (unit == huge) ::madvise(p, mapped_, MADV_HUGEPAGE);
  ::madvise(p, mapped_, MADV_DONTDUMP);
  locked_ = ::mlock(p, mapped_) == 0;
}

SecretBuffer::~SecretBuffer() {
  if (data_ == nullptr) return;
  sodium_memzero(data_, size_);
  if (locked_) ::munlock(data_, mapped_);
  ::munmap(data_, mapped_);
}

bool ProtectAnonymousMemory(bool lock) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool all = true;
  while (std::getline(maps, line)) {
    unsigned long long begin = 0, end = 0, inode = 0;
    char perms[5] = {};
    char path[256] = {};
    const int fields = std::sscanf(line.c_str(), "%llx-%llx %4s %*s %*s %llu %255s", &begin, &end,
                                   perms, &inode, path);
    if (fields < 4 || perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' || inode != 0) {
      continue;
    }
    if (fields == 5 && std::string_view(path) != "[heap]") continue;
    if (end - begin > (1ull << 32)) continue;
    void* start = reinterpret_cast<void*>(begin);
    ::madvise(start, end - begin, MADV_DONTDUMP);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)lock;
    all = false;  // sanitizers reserve memory that cannot be locked
#else
    if (lock && ::mlock(start, end - begin) != 0) all = false;
#endif
  }
  return all;
}

}  // namespace mg::release
