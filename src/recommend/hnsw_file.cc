#include "recommend/hnsw_file.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace mg::recommend {
namespace {

// Sequential reader over the file's bytes; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  template <typename T>
  bool Read(T* value) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Take(size_t size, std::string_view* out) {
    if (bytes_.size() - pos_ < size) return false;
    *out = bytes_.substr(pos_, size);
    pos_ += size;
    return true;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

Status Bad(const std::string& what) { return CorruptionError("index file: " + what); }

// One link list: a 4-byte header (16-bit count, flags) and `capacity` ids.
Status CheckLinks(const char* list, size_t capacity, size_t elements, size_t self) {
  uint16_t count;
  std::memcpy(&count, list, sizeof(count));
  if (count > capacity) return Bad("link list of element " + std::to_string(self) + " too long");
  for (size_t n = 0; n < count; ++n) {
    uint32_t neighbour;
    std::memcpy(&neighbour, list + 4 + 4 * n, sizeof(neighbour));
    if (neighbour >= elements) {
      return Bad("element " + std::to_string(self) + " links to a missing element");
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckHnswFile(std::string_view bytes, const HnswFileExpectation& expect,
                     std::vector<bool>* deleted) {
  Reader in(bytes);
  size_t offset_level0, max_elements, count, size_per_element, label_offset, offset_data;
  int max_level;
  uint32_t entry_point;
  size_t max_m, max_m0, m, ef_construction;
  double mult;
  if (!(in.Read(&offset_level0) && in.Read(&max_elements) && in.Read(&count) &&
        in.Read(&size_per_element) && in.Read(&label_offset) && in.Read(&offset_data) &&
        in.Read(&max_level) && in.Read(&entry_point) && in.Read(&max_m) && in.Read(&max_m0) &&
        in.Read(&m) && in.Read(&mult) && in.Read(&ef_construction))) {
    return Bad("truncated header");
  }
  const size_t data_size = expect.dim * sizeof(float);
  const size_t links0 = max_m0 * 4 + 4;
  if (count != expect.elements) {
    return Bad("holds " + std::to_string(count) + " elements, the item list " +
               std::to_string(expect.elements));
  }
  if (m != expect.m || max_m != m || max_m0 != 2 * m || m == 0 || m > 1000) {
    return Bad("unexpected graph degree (M)");
  }
  if (offset_level0 != 0 || offset_data != links0 || label_offset != links0 + data_size ||
      size_per_element != links0 + data_size + sizeof(size_t)) {
    return Bad("element layout does not match " + std::to_string(expect.dim) + " dimensions");
  }
  if (max_elements < count || !std::isfinite(mult) || mult <= 0) return Bad("bad header values");
  if (count == 0 ? max_level != -1 : (max_level < 0 || max_level > 64 || entry_point >= count)) {
    return Bad("bad entry point");
  }
  std::string_view level0;
  if (count > (in.remaining() / size_per_element) || !in.Take(count * size_per_element, &level0)) {
    return Bad("truncated element data");
  }
  if (deleted) deleted->assign(count, false);
  for (size_t id = 0; id < count; ++id) {
    const char* element = level0.data() + id * size_per_element;
    MG_RETURN_IF_ERROR(CheckLinks(element, max_m0, count, id));
    size_t label;
    std::memcpy(&label, element + label_offset, sizeof(label));
    if (label != id) return Bad("element " + std::to_string(id) + " has a foreign label");
    if (deleted) (*deleted)[id] = (static_cast<uint8_t>(element[2]) & 1) != 0;
  }
  // Upper layers: element `id` has levels 1..levels[id]. A search walking
  // level L only ever steps to neighbours that also have level L, and starts
  // at the entry point on the top level, so both are checked.
  const size_t links_upper = max_m * 4 + 4;
  std::vector<size_t> levels(count, 0);
  std::vector<std::string_view> upper(count);
  for (size_t id = 0; id < count; ++id) {
    uint32_t size;
    if (!in.Read(&size)) return Bad("truncated upper layers");
    if (size % links_upper != 0 || size / links_upper > static_cast<size_t>(max_level)) {
      return Bad("bad upper-layer size of element " + std::to_string(id));
    }
    if (!in.Take(size, &upper[id])) return Bad("truncated upper layers");
    levels[id] = size / links_upper;
  }
  if (count > 0 && levels[entry_point] != static_cast<size_t>(max_level)) {
    return Bad("entry point is not on the top level");
  }
  for (size_t id = 0; id < count; ++id) {
    for (size_t level = 1; level <= levels[id]; ++level) {
      const char* list = upper[id].data() + (level - 1) * links_upper;
      MG_RETURN_IF_ERROR(CheckLinks(list, max_m, count, id));
      uint16_t links;
      std::memcpy(&links, list, sizeof(links));
      for (size_t n = 0; n < links; ++n) {
        uint32_t neighbour;
        std::memcpy(&neighbour, list + 4 + 4 * n, sizeof(neighbour));
        if (levels[neighbour] < level) {
          return Bad("element " + std::to_string(id) + " links above its neighbour's level");
        }
      }
    }
  }
  if (in.remaining() != 0) return Bad("trailing bytes");
  return Status::Ok();
}

}  // namespace mg::recommend
