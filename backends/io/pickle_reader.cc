#include "backends/io/pickle_reader.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/core/status_macros.h"

namespace codec::io {
namespace {

using Kind = PyValue::Kind;

const std::set<std::string>& AllowedStorages() {
  static const auto* kStorages = new std::set<std::string>{
      "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage",  "torch.BFloat16Storage",
      "torch.LongStorage",  "torch.IntStorage",    "torch.ShortStorage", "torch.CharStorage",
      "torch.ByteStorage",  "torch.BoolStorage"};
  return *kStorages;
}

const std::set<std::string>& AllowedCallables() {
  static const auto* kCallables =
      new std::set<std::string>{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                "torch._utils._rebuild_parameter"};
  return *kCallables;
}

PyValuePtr Make(Kind kind) {
  auto v = std::make_shared<PyValue>();
  v->kind = kind;
  return v;
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("corrupt checkpoint pickle: ", what));
}

absl::StatusOr<std::vector<int64_t>> IntTuple(const PyValuePtr& v, const char* what) {
  if (v->kind != Kind::kTuple) return Corrupt(absl::StrCat(what, " is not a tuple"));
  std::vector<int64_t> out;
  for (const PyValuePtr& item : v->items) {
    if (item->kind != Kind::kInt) return Corrupt(absl::StrCat(what, " holds a non-integer"));
    out.push_back(item->int_value);
  }
  return out;
}

// The pickle opcodes torch.save's state dicts use (protocol 2 to 4), each
// named once, as Python's pickletools names them.
enum class Opcode : uint8_t {
  kProto = 0x80,
  kFrame = 0x95,
  kStop = '.',
  kNone = 'N',
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kLong1 = 0x8a,
  kBinFloat = 'G',
  kBinUnicode = 'X',
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinString = 'T',
  kShortBinString = 'U',
  kEmptyDict = '}',
  kEmptyList = ']',
  kEmptyTuple = ')',
  kMark = '(',
  kTuple = 't',
  kList = 'l',
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kDict = 'd',
  kSetItem = 's',
  kSetItems = 'u',
  kAppend = 'a',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kMemoize = 0x94,
  kGlobal = 'c',
  kStackGlobal = 0x93,
  kBinPersId = 'Q',
  kReduce = 'R',
  kBuild = 'b',
};

class Unpickler {
 public:
  explicit Unpickler(const std::string& data) : data_(data) {}

  absl::StatusOr<PyValuePtr> Run() {
    while (true) {
      if (values_ > kMostPickleValues) {
        return absl::ResourceExhaustedError(absl::StrCat("checkpoint pickle holds more than ",
                                                         kMostPickleValues, " values; refused"));
      }
      ASSIGN_OR_RETURN(const uint8_t byte, Byte());
      const auto op = static_cast<Opcode>(byte);
      if (op == Opcode::kStop) return Pop();
      bool known = false;
      for (const auto handler : {&Unpickler::Framing, &Unpickler::Scalar, &Unpickler::Container,
                                 &Unpickler::MemoOrObject}) {
        ASSIGN_OR_RETURN(known, (this->*handler)(op));
        if (known) break;
      }
      if (!known) {
        return absl::UnimplementedError(absl::StrFormat(
            "unsupported checkpoint: pickle opcode 0x%02x at byte %d is outside the "
            "subset used by torch.save state dicts",
            byte, pos_ - 1));
      }
    }
  }

 private:
  // Each opcode handler below runs `op` when it is one of its kind and
  // returns whether it was.

  absl::StatusOr<bool> Framing(Opcode op) {
    switch (op) {
      case Opcode::kProto:
        RETURN_IF_ERROR(Skip(1));
        return true;
      case Opcode::kFrame:
        RETURN_IF_ERROR(Skip(8));
        return true;
      default:
        return false;
    }
  }

  absl::StatusOr<bool> Scalar(Opcode op) {
    switch (op) {
      case Opcode::kNone:
        Push(Make(Kind::kNone));
        return true;
      case Opcode::kNewTrue:
      case Opcode::kNewFalse:
        PushBool(op == Opcode::kNewTrue);
        return true;
      case Opcode::kBinInt: {
        ASSIGN_OR_RETURN(uint64_t v, Uint(4));
        PushInt(static_cast<int32_t>(v));
        return true;
      }
      case Opcode::kBinInt1:
      case Opcode::kBinInt2: {
        ASSIGN_OR_RETURN(uint64_t v, Uint(op == Opcode::kBinInt1 ? 1 : 2));
        PushInt(static_cast<int64_t>(v));
        return true;
      }
      case Opcode::kLong1:
        RETURN_IF_ERROR(Long1());
        return true;
      case Opcode::kBinFloat:
        RETURN_IF_ERROR(BinFloat());
        return true;
      case Opcode::kShortBinUnicode:
      case Opcode::kShortBinString:
        RETURN_IF_ERROR(String(1));
        return true;
      case Opcode::kBinUnicode:
      case Opcode::kBinString:
        RETURN_IF_ERROR(String(4));
        return true;
      case Opcode::kBinUnicode8:
        RETURN_IF_ERROR(String(8));
        return true;
      default:
        return false;
    }
  }

  absl::StatusOr<bool> Container(Opcode op) {
    switch (op) {
      case Opcode::kEmptyDict:
      case Opcode::kEmptyList:
      case Opcode::kEmptyTuple:
        Push(Make(op == Opcode::kEmptyDict   ? Kind::kDict
                  : op == Opcode::kEmptyList ? Kind::kList
                                             : Kind::kTuple));
        return true;
      case Opcode::kMark:
        ++values_;
        marks_.push_back(stack_.size());
        return true;
      case Opcode::kTuple1:
      case Opcode::kTuple2:
      case Opcode::kTuple3:
        RETURN_IF_ERROR(TupleN(static_cast<size_t>(op) - static_cast<size_t>(Opcode::kTuple1) + 1));
        return true;
      case Opcode::kSetItem:
        RETURN_IF_ERROR(SetItem());
        return true;
      case Opcode::kAppend: {
        ASSIGN_OR_RETURN(PyValuePtr v, Pop());
        RETURN_IF_ERROR(Append({v}));
        return true;
      }
      case Opcode::kTuple:
      case Opcode::kList:
      case Opcode::kDict:
      case Opcode::kSetItems:
      case Opcode::kAppends:
        RETURN_IF_ERROR(FromMark(op));
        return true;
      default:
        return false;
    }
  }

  // The opcodes that take the items above the last mark.
  absl::Status FromMark(Opcode op) {
    ASSIGN_OR_RETURN(std::vector<PyValuePtr> items, PopToMark());
    switch (op) {
      case Opcode::kTuple:
        return PushSequence(Kind::kTuple, std::move(items));
      case Opcode::kList:
        return PushSequence(Kind::kList, std::move(items));
      case Opcode::kDict:
        Push(Make(Kind::kDict));
        return SetItems(std::move(items));
      case Opcode::kSetItems:
        return SetItems(std::move(items));
      default:  // kAppends
        return Append(std::move(items));
    }
  }

  absl::StatusOr<bool> MemoOrObject(Opcode op) {
    switch (op) {
      case Opcode::kBinGet:
      case Opcode::kLongBinGet: {
        ASSIGN_OR_RETURN(uint64_t i, Uint(op == Opcode::kBinGet ? 1 : 4));
        RETURN_IF_ERROR(MemoGet(i));
        return true;
      }
      case Opcode::kBinPut:
      case Opcode::kLongBinPut: {
        ASSIGN_OR_RETURN(uint64_t i, Uint(op == Opcode::kBinPut ? 1 : 4));
        RETURN_IF_ERROR(MemoPut(i));
        return true;
      }
      case Opcode::kMemoize:
        RETURN_IF_ERROR(MemoPut(memo_.size()));
        return true;
      case Opcode::kGlobal:
        RETURN_IF_ERROR(Global());
        return true;
      case Opcode::kStackGlobal:
        RETURN_IF_ERROR(StackGlobal());
        return true;
      case Opcode::kBinPersId:
        RETURN_IF_ERROR(PersistentLoad());
        return true;
      case Opcode::kReduce:
        RETURN_IF_ERROR(Reduce());
        return true;
      case Opcode::kBuild:
        RETURN_IF_ERROR(Build());
        return true;
      default:
        return false;
    }
  }

  absl::StatusOr<uint8_t> Byte() {
    if (pos_ >= data_.size()) return Corrupt("unexpected end of data (missing STOP)");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  absl::Status Skip(size_t n) {
    if (data_.size() - pos_ < n) return Corrupt("unexpected end of data");
    pos_ += n;
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> Uint(int width) {
    if (data_.size() - pos_ < static_cast<size_t>(width)) return Corrupt("unexpected end of data");
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += width;
    return v;
  }
  absl::StatusOr<std::string> Line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string::npos) return Corrupt("unterminated GLOBAL name");
    std::string line = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return line;
  }

  void Push(PyValuePtr v) {
    ++values_;
    stack_.push_back(std::move(v));
  }
  void PushBool(bool b) {
    auto v = Make(Kind::kBool);
    v->bool_value = b;
    Push(v);
  }
  void PushInt(int64_t i) {
    auto v = Make(Kind::kInt);
    v->int_value = i;
    Push(v);
  }
  // Puts `child` inside `parent`. A value that is inside another can no
  // longer change, so depths are final when taken and no value can come to
  // hold itself.
  absl::Status Adopt(PyValue& parent, const PyValuePtr& child) {
    if (parent.nested) return Corrupt("a container changes after it was nested");
    if (child.get() == &parent) return Corrupt("a container holds itself");
    if (child->depth >= kMostPickleDepth) {
      return absl::ResourceExhaustedError(absl::StrCat("checkpoint pickle nests deeper than ",
                                                       kMostPickleDepth, " levels; refused"));
    }
    child->nested = true;
    parent.depth = std::max(parent.depth, child->depth + 1);
    return absl::OkStatus();
  }
  absl::Status PushSequence(Kind kind, std::vector<PyValuePtr> items) {
    auto v = Make(kind);
    for (const PyValuePtr& item : items) RETURN_IF_ERROR(Adopt(*v, item));
    v->items = std::move(items);
    Push(v);
    return absl::OkStatus();
  }

  absl::StatusOr<PyValuePtr> Pop() {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) return Corrupt("stack underflow");
    PyValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  absl::StatusOr<PyValuePtr> Top() {
    if (stack_.empty()) return Corrupt("stack underflow");
    return stack_.back();
  }
  absl::StatusOr<std::vector<PyValuePtr>> PopToMark() {
    if (marks_.empty()) return Corrupt("no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PyValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }

  absl::Status Long1() {
    ASSIGN_OR_RETURN(uint64_t n, Uint(1));
    if (n > 8)
      return absl::UnimplementedError("unsupported checkpoint: integer wider than 64 bits");
    ASSIGN_OR_RETURN(uint64_t raw, Uint(static_cast<int>(n)));
    int64_t v = static_cast<int64_t>(raw);
    if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) v -= static_cast<int64_t>(1) << (8 * n);
    PushInt(v);
    return absl::OkStatus();
  }
  absl::Status BinFloat() {
    if (data_.size() - pos_ < 8) return Corrupt("unexpected end of data");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += 8;
    auto v = Make(Kind::kFloat);
    std::memcpy(&v->float_value, &bits, sizeof(bits));
    Push(v);
    return absl::OkStatus();
  }
  absl::Status String(int length_width) {
    ASSIGN_OR_RETURN(uint64_t n, Uint(length_width));
    if (data_.size() - pos_ < n) return Corrupt("string runs past the end of data");
    auto v = Make(Kind::kString);
    v->string_value = data_.substr(pos_, n);
    pos_ += n;
    Push(v);
    return absl::OkStatus();
  }
  absl::Status TupleN(size_t n) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) return Corrupt("stack underflow");
    std::vector<PyValuePtr> items(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return PushSequence(Kind::kTuple, std::move(items));
  }
  absl::Status SetItems(std::vector<PyValuePtr> items) {
    ASSIGN_OR_RETURN(PyValuePtr dict, Top());
    if (dict->kind != Kind::kDict) return Corrupt("SETITEMS on a non-dict");
    if (items.size() % 2 != 0) return Corrupt("odd number of dict items");
    for (size_t i = 0; i < items.size(); i += 2) {
      RETURN_IF_ERROR(Adopt(*dict, items[i]));
      RETURN_IF_ERROR(Adopt(*dict, items[i + 1]));
      dict->entries.emplace_back(items[i], items[i + 1]);
    }
    return absl::OkStatus();
  }
  absl::Status SetItem() {
    ASSIGN_OR_RETURN(PyValuePtr value, Pop());
    ASSIGN_OR_RETURN(PyValuePtr key, Pop());
    return SetItems({key, value});
  }
  absl::Status Append(std::vector<PyValuePtr> items) {
    ASSIGN_OR_RETURN(PyValuePtr list, Top());
    if (list->kind != Kind::kList) return Corrupt("APPEND on a non-list");
    for (const PyValuePtr& item : items) RETURN_IF_ERROR(Adopt(*list, item));
    list->items.insert(list->items.end(), items.begin(), items.end());
    return absl::OkStatus();
  }
  absl::Status MemoGet(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Corrupt(absl::StrCat("memo ", index, " read before written"));
    Push(it->second);
    return absl::OkStatus();
  }
  absl::Status MemoPut(uint64_t index) {
    ASSIGN_OR_RETURN(PyValuePtr top, Top());
    ++values_;
    memo_[index] = top;
    return absl::OkStatus();
  }

  absl::Status PushGlobal(const std::string& module, const std::string& name) {
    const std::string dotted = absl::StrCat(module, ".", name);
    if (!AllowedStorages().count(dotted) && !AllowedCallables().count(dotted)) {
      return absl::UnimplementedError(
          absl::StrCat("unsupported checkpoint: it references '", dotted,
                       "', which is not part of a plain torch.save state dict"));
    }
    auto v = Make(Kind::kGlobal);
    v->string_value = dotted;
    Push(v);
    return absl::OkStatus();
  }
  absl::Status Global() {
    ASSIGN_OR_RETURN(std::string module, Line());
    ASSIGN_OR_RETURN(std::string name, Line());
    return PushGlobal(module, name);
  }
  absl::Status StackGlobal() {
    ASSIGN_OR_RETURN(PyValuePtr name, Pop());
    ASSIGN_OR_RETURN(PyValuePtr module, Pop());
    if (name->kind != Kind::kString || module->kind != Kind::kString) {
      return Corrupt("STACK_GLOBAL needs two strings");
    }
    return PushGlobal(module->string_value, name->string_value);
  }

  // torch.save writes each storage as ('storage', StorageClass, key, location, numel).
  absl::Status PersistentLoad() {
    ASSIGN_OR_RETURN(PyValuePtr pid, Pop());
    const auto& f = pid->items;
    if (pid->kind != Kind::kTuple || f.size() != 5 || f[0]->kind != Kind::kString ||
        f[0]->string_value != "storage" || f[1]->kind != Kind::kGlobal ||
        !AllowedStorages().count(f[1]->string_value) || f[2]->kind != Kind::kString ||
        f[4]->kind != Kind::kInt) {
      return absl::UnimplementedError(
          "unsupported checkpoint: persistent id is not a torch storage reference");
    }
    auto storage = Make(Kind::kStorage);
    storage->tensor.storage_dtype = f[1]->string_value.substr(strlen("torch."));
    storage->tensor.storage_key = f[2]->string_value;
    storage->tensor.storage_numel = f[4]->int_value;
    Push(storage);
    return absl::OkStatus();
  }

  absl::Status Reduce() {
    ASSIGN_OR_RETURN(PyValuePtr args, Pop());
    ASSIGN_OR_RETURN(PyValuePtr callable, Pop());
    if (callable->kind != Kind::kGlobal || !AllowedCallables().count(callable->string_value)) {
      return absl::UnimplementedError("unsupported checkpoint: REDUCE on a non-callable");
    }
    if (args->kind != Kind::kTuple) return Corrupt("REDUCE arguments are not a tuple");
    const std::string& fn = callable->string_value;
    const auto& a = args->items;
    if (fn == "collections.OrderedDict") {
      Push(Make(Kind::kDict));
    } else if (fn == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Kind::kTensor) return Corrupt("bad _rebuild_parameter");
      Push(a[0]);
    } else {  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
      if (a.size() < 4 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt) {
        return Corrupt("bad _rebuild_tensor_v2 arguments");
      }
      auto tensor = Make(Kind::kTensor);
      tensor->tensor = a[0]->tensor;
      tensor->tensor.offset = a[1]->int_value;
      ASSIGN_OR_RETURN(tensor->tensor.sizes, IntTuple(a[2], "tensor size"));
      ASSIGN_OR_RETURN(tensor->tensor.strides, IntTuple(a[3], "tensor stride"));
      if (tensor->tensor.sizes.size() != tensor->tensor.strides.size()) {
        return Corrupt("tensor size and stride ranks differ");
      }
      Push(tensor);
    }
    return absl::OkStatus();
  }

  // OrderedDict state (its `_metadata` attribute) carries nothing we need.
  absl::Status Build() {
    ASSIGN_OR_RETURN(PyValuePtr state, Pop());
    ASSIGN_OR_RETURN(PyValuePtr target, Top());
    if (target->kind != Kind::kDict) {
      return absl::UnimplementedError("unsupported checkpoint: BUILD on a non-dict object");
    }
    return absl::OkStatus();
  }

  const std::string& data_;
  size_t pos_ = 0;
  std::vector<PyValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyValuePtr> memo_;
  int64_t values_ = 0;  // Values, marks and memo entries made so far.
};

}  // namespace

absl::StatusOr<PyValuePtr> UnpickleCheckpoint(const std::string& pickle) {
  return Unpickler(pickle).Run();
}

}  // namespace codec::io
