#include "model/torch_pickle.h"

#include <gtest/gtest.h>

#include "model/model_io_test_util.h"

namespace mg::model {
namespace {

using testing::PickleBuilder;
using testing::TensorSpec;

// Unpickles from an exactly-sized heap copy, so any over-read is caught by ASan.
Result<PickleGraph> Unpickle(const std::string& bytes, const PickleLimits& limits = {}) {
  std::vector<char> copy(bytes.begin(), bytes.end());
  return UnpickleTorch(std::string_view(copy.data(), copy.size()), limits);
}

void ExpectError(const std::string& bytes, const std::string& needle,
                 const PickleLimits& limits = {}) {
  Result<PickleGraph> graph = Unpickle(bytes, limits);
  ASSERT_FALSE(graph.ok()) << "accepted a pickle that should fail with: " << needle;
  EXPECT_NE(graph.status().message().find(needle), std::string::npos) << graph.status().ToString();
}

const std::vector<TensorSpec> kSpecs = {
    {"a", "FloatStorage", "0", 100, 10, {4, 5}, {}},
    {"b", "FloatStorage", "0", 100, 50, {50}, {}},
    {"h", "BFloat16Storage", "1", 3, 0, {3}, {}},
};

TEST(TorchPickleTest, DecodesAStateDict) {
  Result<PickleGraph> graph = Unpickle(testing::StateDictPickle(kSpecs));
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  const PickleObject& root = graph->objects[graph->root];
  ASSERT_EQ(root.kind, PickleKind::kDict);
  ASSERT_EQ(root.items.size(), 6u);
  EXPECT_EQ(graph->objects[root.items[0]].text, "a");
  const PickleObject& a = graph->objects[root.items[1]];
  ASSERT_EQ(a.kind, PickleKind::kTensor);
  const PickleTensor& tensor = graph->tensors[a.integer];
  EXPECT_EQ(tensor.offset, 10);
  EXPECT_EQ(tensor.size, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(tensor.stride, (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(graph->storages[tensor.storage].dtype, DType::kF32);
  EXPECT_EQ(graph->storages[tensor.storage].numel, 100);
  const PickleTensor& h = graph->tensors[graph->objects[root.items[5]].integer];
  EXPECT_EQ(graph->storages[h.storage].dtype, DType::kBF16);
  EXPECT_EQ(graph->storages[h.storage].key, "1");
}

TEST(TorchPickleTest, EveryTruncationFailsCleanly) {
  const std::string bytes = testing::StateDictPickle(kSpecs);
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(Unpickle(bytes.substr(0, length)).ok()) << length;
  }
}

TEST(TorchPickleTest, Protocol4Opcodes) {
  // {"w": _rebuild_parameter(_rebuild_tensor_v2(...), True, OrderedDict())} with
  // FRAME, SHORT_BINUNICODE, MEMOIZE and STACK_GLOBAL, as pickle_protocol=4 writes.
  PickleBuilder pickle;
  auto short_text = [&pickle](const std::string& text) {
    pickle.Op(0x8c).Raw(std::string(1, static_cast<char>(text.size()))).Raw(text).Op(0x94);
  };
  pickle.Proto(4).Op(0x95).Raw(std::string(8, '\0')).Op('}').Op(0x94);
  short_text("w");
  short_text("torch._utils");
  short_text("_rebuild_parameter");
  pickle.Op(0x93).Op(0x94);
  short_text("torch._utils");
  short_text("_rebuild_tensor_v2");
  pickle.Op(0x93).Op('(').Op('(');
  short_text("storage");
  short_text("torch");
  short_text("HalfStorage");
  pickle.Op(0x93);
  short_text("0");
  short_text("cpu");
  pickle.Int(6).Op('t').Op('Q').Int(0).IntTuple({2, 3}).IntTuple({3, 1}).Op(0x89);
  short_text("collections");
  short_text("OrderedDict");
  pickle.Op(0x93).Op(0x94).Op(')').Op('R').Op('t').Op('R').Op(0x88).Get(14);
  pickle.Op(')').Op('R').Op(0x87).Op('R').Op('s').Op('.');
  Result<PickleGraph> graph = Unpickle(pickle.bytes());
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  const PickleObject& root = graph->objects[graph->root];
  ASSERT_EQ(root.items.size(), 2u);
  const PickleObject& w = graph->objects[root.items[1]];
  ASSERT_EQ(w.kind, PickleKind::kTensor);
  EXPECT_EQ(graph->storages[graph->tensors[w.integer].storage].dtype, DType::kF16);
}

TEST(TorchPickleTest, Integers) {
  auto value_of = [](const std::string& operand_bytes) {
    std::string bytes = PickleBuilder().Proto(2).Op(0x8a).Raw(operand_bytes).Op('.').bytes();
    Result<PickleGraph> graph = UnpickleTorch(bytes);
    EXPECT_TRUE(graph.ok()) << graph.status().ToString();
    return graph.ok() ? graph->objects[graph->root].integer : 0;
  };
  EXPECT_EQ(value_of(std::string("\x00", 1)), 0);
  EXPECT_EQ(value_of("\x01\xff"), -1);
  EXPECT_EQ(value_of(std::string("\x02\x00\x80", 3)), -32768);
  EXPECT_EQ(value_of("\x01\x7f"), 127);
  EXPECT_EQ(value_of(std::string("\x08\0\0\0\0\0\0\0\x80", 9)), INT64_MIN);
  ExpectError(
      PickleBuilder().Proto(2).Op(0x8a).Raw("\x09").Raw(std::string(9, '\1')).Op('.').bytes(),
      "wider than 64 bits");
  ExpectError(PickleBuilder().Proto(2).Op(0x8b).Raw(std::string("\xff\xff\xff\x7f", 4)).bytes(),
              "wider than 64 bits");
  Result<PickleGraph> negative = UnpickleTorch(PickleBuilder().Int(-5).Op('.').bytes());
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->objects[negative->root].integer, -5);
  Result<PickleGraph> real = UnpickleTorch(
      PickleBuilder().Op('G').Raw(std::string("\x3f\xf8\0\0\0\0\0\0", 8)).Op('.').bytes());
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->objects[real->root].real, 1.5);
}

TEST(TorchPickleTest, RejectsForbiddenGlobals) {
  // What `pickle.dumps` writes for an object whose __reduce__ returns (os.system, ("id",)).
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Global("os", "system")
                  .Unicode("id")
                  .Op(0x85)
                  .Op('R')
                  .Op('.')
                  .bytes(),
              "refusing to load 'os.system'");
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Global("posix", "system")
                  .Unicode("id")
                  .Op(0x85)
                  .Op('R')
                  .Op('.')
                  .bytes(),
              "'posix.system'");
  ExpectError(PickleBuilder().Proto(2).Global("builtins", "eval").Op('.').bytes(),
              "'builtins.eval'");
  ExpectError(PickleBuilder().Proto(2).Global("torch", "load").Op('.').bytes(), "'torch.load'");
  // STACK_GLOBAL (protocol 4) goes through the same allowlist.
  ExpectError(
      PickleBuilder().Proto(4).Unicode("subprocess").Unicode("Popen").Op(0x93).Op('.').bytes(),
      "'subprocess.Popen'");
  ExpectError(PickleBuilder().Proto(2).Raw("ios\nsystem\n").Op('.').bytes(),
              "refusing to instantiate 'os.system' (INST)");
  ExpectError(
      PickleBuilder().Proto(2).Op('(').Global("collections", "OrderedDict").Op('o').Op('.').bytes(),
      "OBJ");
  ExpectError(PickleBuilder().Proto(2).Op(0x82).Raw("\x01").Op('.').bytes(), "EXT");
  ExpectError(PickleBuilder().Proto(2).Raw("P0\n").Op('.').bytes(), "persistent");
  ExpectError(PickleBuilder().Proto(2).Raw("I1\n").Op('.').bytes(), "protocol 0");
}

TEST(TorchPickleTest, AllowedGlobalsCannotBeMisused) {
  // A storage class is allowed as a value, but calling or instantiating it is not.
  ExpectError(
      PickleBuilder().Proto(2).Global("torch", "FloatStorage").Op(')').Op('R').Op('.').bytes(),
      "refusing to call 'torch.FloatStorage'");
  ExpectError(
      PickleBuilder().Proto(2).Global("torch", "FloatStorage").Op(')').Op(0x81).Op('.').bytes(),
      "refusing to instantiate 'torch.FloatStorage'");
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Global("torch._utils", "_rebuild_tensor_v2")
                  .Op(')')
                  .Op('R')
                  .Op('.')
                  .bytes(),
              "needs (storage");
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Global("torch._utils", "_rebuild_tensor_v2")
                  .Op('(')
                  .Int(1)
                  .Int(0)
                  .IntTuple({1})
                  .IntTuple({1})
                  .Op('t')
                  .Op('R')
                  .Op('.')
                  .bytes(),
              "not a storage");
  ExpectError(PickleBuilder().Proto(2).Unicode("os.system").Op(')').Op('R').Op('.').bytes(),
              "not an allowed global");
  // A persistent id naming an unsupported storage type, or malformed.
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Op('(')
                  .Unicode("storage")
                  .Global("torch", "float16")
                  .Unicode("0")
                  .Unicode("cpu")
                  .Int(1)
                  .Op('t')
                  .Op('Q')
                  .Op('.')
                  .bytes(),
              "storage type 'torch.float16' is not supported");
  ExpectError(PickleBuilder().Proto(2).Int(3).Op('Q').Op('.').bytes(), "persistent id");
  // BUILD may only set the state of a dict or tensor.
  ExpectError(PickleBuilder().Proto(2).Op(']').Op('}').Op('b').Op('.').bytes(), "BUILD");
}

TEST(TorchPickleTest, EnforcesMemoLimits) {
  ExpectError(PickleBuilder().Proto(2).Op('N').Op('r').Raw("\xff\xff\xff\xff").Op('.').bytes(),
              "memo index 4294967295 exceeds the limit");
  ExpectError(PickleBuilder().Proto(2).Get(7).Op('.').bytes(), "never set");
  PickleLimits limits;
  limits.max_memo = 100;
  PickleBuilder many;
  many.Proto(4).Op('N');
  for (int index = 0; index < 200; ++index) many.Op(0x94);
  ExpectError(many.Op('.').bytes(), "exceeds the limit", limits);
}

TEST(TorchPickleTest, EnforcesStackAndObjectLimits) {
  PickleLimits limits;
  limits.max_stack = 1000;
  std::string nones(2000, 'N');
  ExpectError(PickleBuilder().Proto(2).Raw(nones).Op('.').bytes(), "stack deeper than 1000",
              limits);
  // DUP grows the stack without creating objects.
  ExpectError(PickleBuilder().Proto(2).Op('N').Raw(std::string(2000, '2')).Op('.').bytes(),
              "stack deeper than 1000", limits);
  limits = PickleLimits();
  limits.max_objects = 500;
  ExpectError(PickleBuilder().Proto(2).Op('(').Raw(std::string(600, 'N')).Op('t').Op('.').bytes(),
              "more than 500 objects", limits);
  limits = PickleLimits();
  limits.max_marks = 10;
  ExpectError(PickleBuilder().Proto(2).Raw(std::string(20, '(')).bytes(), "MARK", limits);
  // The default limits hold against a long run of marks.
  ExpectError(PickleBuilder().Proto(2).Raw(std::string(100000, '(')).bytes(), "MARK");
}

TEST(TorchPickleTest, RejectsDeepNesting) {
  // ((((None,),),),…): a chain of TUPLE1 one element deep each.
  ExpectError(PickleBuilder().Proto(2).Op('N').Raw(std::string(100000, '\x85')).Op('.').bytes(),
              "nesting deeper than 1000");
  // [[[[…]]]] built bottom-up with APPEND.
  ExpectError(PickleBuilder()
                  .Proto(2)
                  .Raw(std::string(5000, ']'))
                  .Raw(std::string(4999, 'a'))
                  .Op('.')
                  .bytes(),
              "nesting deeper than 1000");
  // Shallow nesting is fine.
  EXPECT_TRUE(
      Unpickle(PickleBuilder().Proto(2).Op('N').Raw(std::string(500, '\x85')).Op('.').bytes())
          .ok());
}

TEST(TorchPickleTest, CyclesAreHarmless) {
  // l = []; l.append(l): the arena holds indices, so nothing recurses or leaks.
  Result<PickleGraph> graph = Unpickle(
      PickleBuilder().Proto(2).Op(']').Put(0).Get(0).Op('a').Get(0).Op('a').Op('.').bytes());
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  EXPECT_EQ(graph->objects[graph->root].items.size(), 2u);
}

TEST(TorchPickleTest, RejectsMalformedStreams) {
  ExpectError("", "without STOP");
  ExpectError(PickleBuilder().Proto(2).Op('N').bytes(), "without STOP");
  ExpectError(PickleBuilder().Proto(2).Op('.').bytes(), "underflow");
  ExpectError(PickleBuilder().Proto(6).Op('N').Op('.').bytes(), "protocol 6");
  ExpectError(PickleBuilder().Proto(2).Op('R').Op('.').bytes(), "underflow");
  ExpectError(PickleBuilder().Proto(2).Op('N').Op('N').Op('a').Op('.').bytes(), "non-list");
  ExpectError(PickleBuilder().Proto(2).Op(']').Op('N').Op('N').Op('s').Op('.').bytes(), "non-dict");
  ExpectError(PickleBuilder().Proto(2).Op('N').Op('t').Op('.').bytes(), "MARK");
  ExpectError(PickleBuilder().Proto(2).Op('(').Op('N').Op('d').Op('.').bytes(), "odd number");
  ExpectError(PickleBuilder().Proto(2).Op('}').Op('(').Op('N').Op('u').Op('.').bytes(),
              "odd number");
  ExpectError(PickleBuilder().Proto(2).Op(0x86).Op('.').bytes(), "underflow");
  ExpectError(PickleBuilder().Proto(2).Op('X').Raw("\xff\xff\xff\x7f").Raw("abc").bytes(),
              "truncated");
  ExpectError(PickleBuilder().Proto(2).Unicode("\xc3\x28").Op('.').bytes(), "UTF-8");
  ExpectError(PickleBuilder().Proto(2).Raw("cos").bytes(), "unterminated");
  ExpectError(PickleBuilder().Proto(2).Op(0xff).bytes(), "unsupported pickle opcode");
  ExpectError(PickleBuilder().Proto(2).Op('(').Op('N').Op('0').Op('0').Op('.').bytes(),
              "underflow");
  ExpectError(PickleBuilder().Proto(2).Op(0x93).Op('.').bytes(), "underflow");
  ExpectError(PickleBuilder().Proto(2).Int(1).Int(2).Op(0x93).Op('.').bytes(), "two strings");
  // Errors say where they happened.
  ExpectError(PickleBuilder().Proto(2).Op('N').Op(0xff).bytes(), "pickle offset 3 (opcode 0xff)");
}

}  // namespace
}  // namespace mg::model
