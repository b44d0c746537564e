#include "backends/io/torch_checkpoint.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/io/pickle_reader.h"
#include "backends/io/tensor_bytes.h"
#include "backends/io/zip_reader.h"

namespace codec::io {
namespace {

using Kind = PyValue::Kind;

// Checkpoint configs are small and shallow. The bounds keep a hostile one
// from exhausting the stack, or the time (values shared through the pickle's
// memo are walked once per reference).
constexpr int kMaxConfigDepth = 32;
constexpr int64_t kMostConfigValues = 1 << 16;

absl::StatusOr<nlohmann::json> ToJson(const PyValue& v, int64_t& values_left, int depth = 0) {
  if (depth > kMaxConfigDepth) {
    return absl::UnimplementedError(
        absl::StrCat("checkpoint metadata nests deeper than ", kMaxConfigDepth, " levels"));
  }
  if (--values_left < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("checkpoint metadata holds more than ", kMostConfigValues, " values"));
  }
  switch (v.kind) {
    case Kind::kNone:
      return nlohmann::json();
    case Kind::kBool:
      return nlohmann::json(v.bool_value);
    case Kind::kInt:
      return nlohmann::json(v.int_value);
    case Kind::kFloat:
      return nlohmann::json(v.float_value);
    case Kind::kString:
      return nlohmann::json(v.string_value);
    case Kind::kList:
    case Kind::kTuple: {
      nlohmann::json array = nlohmann::json::array();
      for (const PyValuePtr& item : v.items) {
        ASSIGN_OR_RETURN(nlohmann::json j, ToJson(*item, values_left, depth + 1));
        array.push_back(std::move(j));
      }
      return array;
    }
    case Kind::kDict: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& [key, value] : v.entries) {
        if (key->kind != Kind::kString) {
          return absl::UnimplementedError("checkpoint metadata has a non-string key");
        }
        ASSIGN_OR_RETURN(object[key->string_value], ToJson(*value, values_left, depth + 1));
      }
      return object;
    }
    default:
      return absl::UnimplementedError("checkpoint metadata holds a tensor or class");
  }
}

// Turns the pickled tensor references into tensors, reading each storage
// record once.
class TensorMaterializer {
 public:
  TensorMaterializer(const ZipReader& zip, std::string prefix)
      : zip_(zip), prefix_(std::move(prefix)) {}

  absl::StatusOr<at::Tensor> Materialize(const std::string& name, const PyTensorRef& ref) {
    ASSIGN_OR_RETURN(at::Tensor storage, Storage(ref));
    // The view's last element, in checked arithmetic: sizes and strides come
    // from the file.
    int64_t last = ref.offset;
    std::optional<int64_t> numel = ElementCount(ref.sizes);
    bool overflow = ref.offset < 0 || !numel.has_value();
    for (size_t d = 0; d < ref.sizes.size() && !overflow; ++d) {
      int64_t reach = 0;
      overflow =
          ref.strides[d] < 0 ||
          __builtin_mul_overflow(std::max<int64_t>(ref.sizes[d] - 1, 0), ref.strides[d], &reach) ||
          __builtin_add_overflow(last, reach, &last);
    }
    if (overflow) {
      return absl::DataLossError(
          absl::StrCat("tensor '", name, "' has a negative or overflowing offset, size or stride"));
    }
    if (*numel > 0 && last >= storage.numel()) {
      return absl::DataLossError(absl::StrCat("tensor '", name, "' reaches past its storage of ",
                                              storage.numel(), " elements"));
    }
    return storage.as_strided(ref.sizes, ref.strides, ref.offset)
        .clone(at::MemoryFormat::Contiguous);
  }

 private:
  absl::StatusOr<at::Tensor> Storage(const PyTensorRef& ref) {
    auto it = storages_.find(ref.storage_key);
    if (it != storages_.end()) return it->second;
    std::optional<c10::ScalarType> dtype = DtypeFromTorchStorage(ref.storage_dtype);
    if (!dtype) {
      return absl::UnimplementedError(
          absl::StrCat("unsupported storage type '", ref.storage_dtype, "'"));
    }
    const std::string record = absl::StrCat(prefix_, "data/", ref.storage_key);
    ASSIGN_OR_RETURN(std::string bytes, zip_.Read(record));
    int64_t expected = -1;
    if (ref.storage_numel < 0 ||
        __builtin_mul_overflow(ref.storage_numel, static_cast<int64_t>(c10::elementSize(*dtype)),
                               &expected) ||
        static_cast<int64_t>(bytes.size()) != expected) {
      return absl::DataLossError(absl::StrCat("storage record '", record, "' holds ", bytes.size(),
                                              " bytes, expected ", expected));
    }
    at::Tensor storage = TensorFromBytes(bytes.data(), *dtype, {ref.storage_numel});
    storages_.emplace(ref.storage_key, storage);
    return storage;
  }

  const ZipReader& zip_;
  const std::string prefix_;
  std::map<std::string, at::Tensor> storages_;
};

absl::StatusOr<std::string> FindPicklePrefix(const ZipReader& zip) {
  for (const std::string& name : zip.names()) {
    if (absl::EndsWith(name, "data.pkl") &&
        name.find('/') == name.size() - std::string("/data.pkl").size()) {
      return name.substr(0, name.size() - std::string("data.pkl").size());
    }
  }
  return absl::DataLossError("zip archive has no <name>/data.pkl record: not a torch.save file");
}

// The unpickled root of a torch.save zip, with the archive it came from.
struct Pickled {
  ZipReader zip;
  std::string prefix;
  PyValuePtr root;
};

absl::StatusOr<Pickled> Unpickle(std::string bytes) {
  ASSIGN_OR_RETURN(ZipReader zip, ZipReader::Open(std::move(bytes)));
  ASSIGN_OR_RETURN(std::string prefix, FindPicklePrefix(zip));
  ASSIGN_OR_RETURN(std::string pickle, zip.Read(prefix + "data.pkl"));
  ASSIGN_OR_RETURN(PyValuePtr root, UnpickleCheckpoint(pickle));
  if (root->kind != Kind::kDict) {
    return absl::UnimplementedError("checkpoint does not hold a dict of tensors");
  }
  return Pickled{std::move(zip), std::move(prefix), std::move(root)};
}

// DAC's layout, {"state_dict", "metadata": {"kwargs"}}: the kwargs, or null.
absl::StatusOr<nlohmann::json> EmbeddedConfig(const PyValue& root) {
  if (!root.Get("state_dict")) return nlohmann::json();
  PyValuePtr metadata = root.Get("metadata");
  PyValuePtr kwargs = metadata ? metadata->Get("kwargs") : nullptr;
  if (!kwargs) return nlohmann::json();
  int64_t values_left = kMostConfigValues;
  return ToJson(*kwargs, values_left);
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseTorchCheckpointConfig(std::string bytes) {
  ASSIGN_OR_RETURN(Pickled pickled, Unpickle(std::move(bytes)));
  return EmbeddedConfig(*pickled.root);
}

absl::StatusOr<Checkpoint> ParseTorchCheckpoint(std::string bytes) {
  ASSIGN_OR_RETURN(Pickled pickled, Unpickle(std::move(bytes)));
  const ZipReader& zip = pickled.zip;
  const std::string& prefix = pickled.prefix;
  const PyValuePtr& root = pickled.root;
  Checkpoint checkpoint;
  ASSIGN_OR_RETURN(checkpoint.config, EmbeddedConfig(*root));
  PyValuePtr state = root->Get("state_dict") ? root->Get("state_dict") : root;
  if (state->kind != Kind::kDict) {
    return absl::UnimplementedError("checkpoint's state_dict is not a dict");
  }

  TensorMaterializer materializer(zip, prefix);
  for (const auto& [key, value] : state->entries) {
    if (key->kind != Kind::kString) {
      return absl::UnimplementedError("checkpoint state_dict has a non-string key");
    }
    if (value->kind != Kind::kTensor) {
      std::vector<std::string> top_keys;
      for (const auto& entry : root->entries) {
        if (entry.first->kind == Kind::kString) top_keys.push_back(entry.first->string_value);
      }
      return absl::UnimplementedError(absl::StrCat(
          "checkpoint entry '", key->string_value,
          "' is not a tensor; expected a state dict or {state_dict, metadata}, found keys [",
          absl::StrJoin(top_keys, ", "), "]"));
    }
    ASSIGN_OR_RETURN(checkpoint.tensors[key->string_value],
                     materializer.Materialize(key->string_value, value->tensor));
  }
  return checkpoint;
}

}  // namespace codec::io
