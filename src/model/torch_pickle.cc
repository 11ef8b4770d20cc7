#include "model/torch_pickle.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "model/torch_pickle_calls.h"

namespace mg::model {
namespace {

constexpr uint32_t kUnset = std::numeric_limits<uint32_t>::max();

bool ValidUtf8(std::string_view text) {
  size_t index = 0;
  while (index < text.size()) {
    const auto lead = static_cast<uint8_t>(text[index]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || index + length > text.size()) return false;
    for (size_t next = 1; next < length; ++next) {
      if ((static_cast<uint8_t>(text[index + next]) & 0xC0) != 0x80) return false;
    }
    index += length;
  }
  return true;
}

class Unpickler {
 public:
  Unpickler(std::string_view bytes, const PickleLimits& limits) : bytes_(bytes), limits_(limits) {}

  Result<PickleGraph> Run() {
    while (position_ < bytes_.size()) {
      opcode_at_ = position_;
      opcode_ = static_cast<uint8_t>(bytes_[position_++]);
      if (opcode_ == '.') {  // STOP
        MG_ASSIGN_OR_RETURN(graph_.root, Pop());
        return std::move(graph_);
      }
      Status status = Step();
      if (!status.ok()) return Annotate(status);
    }
    return CorruptionError("pickle ends without STOP (truncated)");
  }

 private:
  Status Annotate(const Status& status) const {
    char where[64];
    std::snprintf(where, sizeof(where), "pickle offset %zu (opcode 0x%02x)", opcode_at_, opcode_);
    return status.WithContext(where);
  }

  Status Need(uint64_t count) const {
    if (count > bytes_.size() - position_) return CorruptionError("truncated operand");
    return Status::Ok();
  }
  Result<uint64_t> ReadLe(int width) {
    MG_RETURN_IF_ERROR(Need(width));
    uint64_t value = 0;
    for (int byte = width - 1; byte >= 0; --byte) {
      value = (value << 8) | static_cast<uint8_t>(bytes_[position_ + byte]);
    }
    position_ += width;
    return value;
  }
  Result<std::string> ReadBytes(uint64_t count) {
    MG_RETURN_IF_ERROR(Need(count));
    std::string text(bytes_.substr(position_, count));
    position_ += count;
    return text;
  }
  Result<std::string> ReadLine() {
    const size_t end = bytes_.find('\n', position_);
    if (end == std::string_view::npos || end - position_ > 256) {
      return CorruptionError("unterminated or overlong name");
    }
    std::string line(bytes_.substr(position_, end - position_));
    position_ = end + 1;
    return line;
  }

  // Creates an object and pushes it.
  Status Push(PickleObject object) {
    if (graph_.objects.size() >= limits_.max_objects) {
      return InvalidArgumentError("more than " + std::to_string(limits_.max_objects) + " objects");
    }
    if (object.depth > limits_.max_depth) {
      return InvalidArgumentError("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    graph_.objects.push_back(std::move(object));
    return PushIndex(static_cast<uint32_t>(graph_.objects.size() - 1));
  }
  Status PushIndex(uint32_t index) {
    if (stack_.size() >= limits_.max_stack) {
      return InvalidArgumentError("stack deeper than " + std::to_string(limits_.max_stack));
    }
    stack_.push_back(index);
    return Status::Ok();
  }
  Result<uint32_t> Pop() {
    if (stack_.size() <= stack_floor()) return CorruptionError("stack underflow");
    uint32_t index = stack_.back();
    stack_.pop_back();
    return index;
  }
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Result<std::vector<uint32_t>> PopMark() {
    if (marks_.empty()) return CorruptionError("no MARK to pop to");
    std::vector<uint32_t> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleObject& Top() { return graph_.objects[stack_.back()]; }

  Status PushScalar(PickleKind kind, int64_t integer) {
    PickleObject object;
    object.kind = kind;
    object.integer = integer;
    return Push(std::move(object));
  }
  Status PushText(PickleKind kind, uint64_t length) {
    PickleObject object;
    object.kind = kind;
    MG_ASSIGN_OR_RETURN(object.text, ReadBytes(length));
    if (kind == PickleKind::kString && !ValidUtf8(object.text)) {
      return CorruptionError("string is not valid UTF-8");
    }
    return Push(std::move(object));
  }
  Status PushContainer(PickleKind kind, std::vector<uint32_t> items) {
    PickleObject object;
    object.kind = kind;
    for (uint32_t item : items)
      object.depth = std::max(object.depth, graph_.objects[item].depth + 1);
    object.items = std::move(items);
    return Push(std::move(object));
  }
  Status PushGlobal(std::string module, const std::string& name) {
    PickleObject object;
    object.kind = PickleKind::kGlobal;
    object.text = std::move(module) + "." + name;
    MG_RETURN_IF_ERROR(pickle_internal::CheckGlobal(object.text));
    return Push(std::move(object));
  }
  Status PushTuple(size_t count) {
    if (stack_.size() < stack_floor() + count) return CorruptionError("stack underflow");
    std::vector<uint32_t> items(stack_.end() - count, stack_.end());
    stack_.resize(stack_.size() - count);
    return PushContainer(PickleKind::kTuple, std::move(items));
  }

  // Appends `items` to the list or dict on top of the stack.
  Status Extend(PickleKind kind, const std::vector<uint32_t>& items) {
    if (stack_.size() <= stack_floor() || Top().kind != kind) {
      return CorruptionError(kind == PickleKind::kList ? "APPEND to a non-list"
                                                       : "SETITEM on a non-dict");
    }
    if (kind == PickleKind::kDict && items.size() % 2 != 0) {
      return CorruptionError("odd number of dict items");
    }
    PickleObject& container = Top();
    for (uint32_t item : items) {
      container.depth = std::max(container.depth, graph_.objects[item].depth + 1);
      container.items.push_back(item);
    }
    if (container.depth > limits_.max_depth) {
      return InvalidArgumentError("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    return Status::Ok();
  }
  Status PopAndExtend(PickleKind kind, size_t count) {
    std::vector<uint32_t> items(count);
    for (size_t index = count; index-- > 0;) {
      MG_ASSIGN_OR_RETURN(items[index], Pop());
    }
    return Extend(kind, items);
  }

  Status Put(uint64_t index) {
    if (index >= limits_.max_memo) {
      return InvalidArgumentError("memo index " + std::to_string(index) + " exceeds the limit");
    }
    if (stack_.size() <= stack_floor()) return CorruptionError("memo put with an empty stack");
    if (index >= memo_.size()) memo_.resize(index + 1, kUnset);
    if (memo_[index] == kUnset) ++memo_count_;
    memo_[index] = stack_.back();
    return Status::Ok();
  }
  Status Get(uint64_t index) {
    if (index >= memo_.size() || memo_[index] == kUnset) {
      return CorruptionError("memo index " + std::to_string(index) + " was never set");
    }
    return PushIndex(memo_[index]);
  }

  Status CallOnStack(bool newobj) {
    MG_ASSIGN_OR_RETURN(uint32_t args, Pop());
    MG_ASSIGN_OR_RETURN(uint32_t callable, Pop());
    MG_ASSIGN_OR_RETURN(
        PickleObject result,
        pickle_internal::Call(&graph_, graph_.objects[callable], graph_.objects[args], newobj));
    return Push(std::move(result));
  }

  Status Step();

  std::string_view bytes_;
  PickleLimits limits_;
  size_t position_ = 0;
  size_t opcode_at_ = 0;
  uint8_t opcode_ = 0;
  PickleGraph graph_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::vector<uint32_t> memo_;
  size_t memo_count_ = 0;
};

Status Unpickler::Step() {
  constexpr PickleKind kBool = PickleKind::kBool;
  constexpr PickleKind kInt = PickleKind::kInt;
  switch (opcode_) {
    case 0x80: {  // PROTO
      MG_ASSIGN_OR_RETURN(uint64_t version, ReadLe(1));
      if (version > 5) return UnimplementedError("pickle protocol " + std::to_string(version));
      return Status::Ok();
    }
    case 0x95:  // FRAME: a read-ahead hint only
      return ReadLe(8).status();
    case '(':  // MARK
      if (marks_.size() >= limits_.max_marks) return InvalidArgumentError("too many open MARKs");
      marks_.push_back(stack_.size());
      return Status::Ok();
    case '0':  // POP
      return Pop().status();
    case '1':  // POP_MARK
      return PopMark().status();
    case '2':  // DUP
      if (stack_.size() <= stack_floor()) return CorruptionError("DUP with an empty stack");
      return PushIndex(stack_.back());
    case 'N':  // NONE
      return Push(PickleObject{});
    case 0x88:  // NEWTRUE
      return PushScalar(kBool, 1);
    case 0x89:  // NEWFALSE
      return PushScalar(kBool, 0);
    case 'J': {  // BININT
      MG_ASSIGN_OR_RETURN(uint64_t value, ReadLe(4));
      return PushScalar(kInt, static_cast<int32_t>(static_cast<uint32_t>(value)));
    }
    case 'K':    // BININT1
    case 'M': {  // BININT2
      MG_ASSIGN_OR_RETURN(uint64_t value, ReadLe(opcode_ == 'K' ? 1 : 2));
      return PushScalar(kInt, static_cast<int64_t>(value));
    }
    case 0x8a:    // LONG1
    case 0x8b: {  // LONG4
      MG_ASSIGN_OR_RETURN(uint64_t length, ReadLe(opcode_ == 0x8a ? 1 : 4));
      if (length > 8) return UnimplementedError("integer wider than 64 bits");
      MG_ASSIGN_OR_RETURN(uint64_t value, length == 0 ? Result<uint64_t>(uint64_t{0})
                                                      : ReadLe(static_cast<int>(length)));
      if (length > 0 && length < 8 && ((value >> (8 * length - 1)) & 1)) {
        value |= ~uint64_t{0} << (8 * length);  // sign-extend
      }
      return PushScalar(kInt, static_cast<int64_t>(value));
    }
    case 'G': {  // BINFLOAT, big-endian
      MG_RETURN_IF_ERROR(Need(8));
      uint64_t bits = 0;
      for (int byte = 0; byte < 8; ++byte) {
        bits = (bits << 8) | static_cast<uint8_t>(bytes_[position_ + byte]);
      }
      position_ += 8;
      PickleObject object;
      object.kind = PickleKind::kFloat;
      std::memcpy(&object.real, &bits, sizeof(bits));
      return Push(std::move(object));
    }
    case 'X':     // BINUNICODE
    case 'T':     // BINSTRING
    case 'U':     // SHORT_BINSTRING
    case 0x8c:    // SHORT_BINUNICODE
    case 0x8d:    // BINUNICODE8
    case 'B':     // BINBYTES
    case 'C':     // SHORT_BINBYTES
    case 0x8e: {  // BINBYTES8
      const bool is_bytes = opcode_ == 'B' || opcode_ == 'C' || opcode_ == 0x8e;
      const int width = (opcode_ == 'U' || opcode_ == 0x8c || opcode_ == 'C') ? 1
                        : (opcode_ == 0x8d || opcode_ == 0x8e)                ? 8
                                                                              : 4;
      MG_ASSIGN_OR_RETURN(uint64_t length, ReadLe(width));
      return PushText(is_bytes ? PickleKind::kBytes : PickleKind::kString, length);
    }
    case ')':  // EMPTY_TUPLE
      return PushContainer(PickleKind::kTuple, {});
    case 0x85:  // TUPLE1
    case 0x86:  // TUPLE2
    case 0x87:  // TUPLE3
      return PushTuple(opcode_ - 0x84);
    case ']':  // EMPTY_LIST
      return PushContainer(PickleKind::kList, {});
    case '}':  // EMPTY_DICT
      return PushContainer(PickleKind::kDict, {});
    case 't':    // TUPLE
    case 'l':    // LIST
    case 'd': {  // DICT
      MG_ASSIGN_OR_RETURN(std::vector<uint32_t> items, PopMark());
      if (opcode_ == 'd' && items.size() % 2 != 0)
        return CorruptionError("odd number of dict items");
      const PickleKind kind = opcode_ == 't'   ? PickleKind::kTuple
                              : opcode_ == 'l' ? PickleKind::kList
                                               : PickleKind::kDict;
      return PushContainer(kind, std::move(items));
    }
    case 'a':  // APPEND
      return PopAndExtend(PickleKind::kList, 1);
    case 's':  // SETITEM
      return PopAndExtend(PickleKind::kDict, 2);
    case 'e':    // APPENDS
    case 'u': {  // SETITEMS
      MG_ASSIGN_OR_RETURN(std::vector<uint32_t> items, PopMark());
      return Extend(opcode_ == 'e' ? PickleKind::kList : PickleKind::kDict, items);
    }
    case 'q':    // BINPUT
    case 'r': {  // LONG_BINPUT
      MG_ASSIGN_OR_RETURN(uint64_t index, ReadLe(opcode_ == 'q' ? 1 : 4));
      return Put(index);
    }
    case 0x94:  // MEMOIZE
      return Put(memo_count_);
    case 'h':    // BINGET
    case 'j': {  // LONG_BINGET
      MG_ASSIGN_OR_RETURN(uint64_t index, ReadLe(opcode_ == 'h' ? 1 : 4));
      return Get(index);
    }
    case 'c': {  // GLOBAL
      MG_ASSIGN_OR_RETURN(std::string module, ReadLine());
      MG_ASSIGN_OR_RETURN(std::string name, ReadLine());
      return PushGlobal(std::move(module), name);
    }
    case 0x93: {  // STACK_GLOBAL
      MG_ASSIGN_OR_RETURN(uint32_t name, Pop());
      MG_ASSIGN_OR_RETURN(uint32_t module, Pop());
      if (graph_.objects[name].kind != PickleKind::kString ||
          graph_.objects[module].kind != PickleKind::kString) {
        return CorruptionError("STACK_GLOBAL needs two strings");
      }
      return PushGlobal(graph_.objects[module].text, graph_.objects[name].text);
    }
    case 'R':  // REDUCE
      return CallOnStack(/*newobj=*/false);
    case 0x81:  // NEWOBJ
      return CallOnStack(/*newobj=*/true);
    case 'Q': {  // BINPERSID
      MG_ASSIGN_OR_RETURN(uint32_t pid, Pop());
      MG_ASSIGN_OR_RETURN(PickleObject storage,
                          pickle_internal::PersistentLoad(&graph_, graph_.objects[pid]));
      return Push(std::move(storage));
    }
    case 'b': {  // BUILD: state of an OrderedDict (_metadata) or tensor; ignored
      MG_RETURN_IF_ERROR(Pop().status());
      if (stack_.size() <= stack_floor()) return CorruptionError("BUILD with an empty stack");
      if (Top().kind != PickleKind::kDict && Top().kind != PickleKind::kTensor) {
        return InvalidArgumentError("BUILD sets the state of an object that is not a dict");
      }
      return Status::Ok();
    }
    case 'i': {  // INST
      MG_ASSIGN_OR_RETURN(std::string module, ReadLine());
      MG_ASSIGN_OR_RETURN(std::string name, ReadLine());
      return InvalidArgumentError("refusing to instantiate '" + module + "." + name + "' (INST)");
    }
    default:  // OBJ, NEWOBJ_EX, EXT*, PERSID, protocol 0 text opcodes, unknown ones
      return pickle_internal::RefuseOpcode(opcode_);
  }
}

}  // namespace

Result<PickleGraph> UnpickleTorch(std::string_view bytes, const PickleLimits& limits) {
  return Unpickler(bytes, limits).Run();
}

}  // namespace mg::model
