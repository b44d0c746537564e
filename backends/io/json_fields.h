#ifndef BACKENDS_IO_JSON_FIELDS_H_
#define BACKENDS_IO_JSON_FIELDS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace codec::io {

// Typed reads of a model's config.json fields. Absent fields leave the
// value as it was; a present field of the wrong type is INVALID_ARGUMENT
// naming the model family and the field.
class JsonFields {
 public:
  JsonFields(const nlohmann::json& json, std::string family)
      : json_(json), family_(std::move(family)) {}

  // Reads `field` into `out` when present and not null.
  template <typename T>
  absl::Status Read(const char* field, T& out) const {
    auto it = json_.find(field);
    if (it == json_.end() || it->is_null()) return absl::OkStatus();
    try {
      out = it->get<T>();
    } catch (const nlohmann::json::exception&) {
      return absl::InvalidArgumentError(
          absl::StrCat(family_, " config field '", field, "' has the wrong type: ", it->dump()));
    }
    return absl::OkStatus();
  }

  // As Read, but an explicit null clears `out`.
  template <typename T>
  absl::Status ReadOptional(const char* field, std::optional<T>& out) const {
    auto it = json_.find(field);
    if (it == json_.end()) return absl::OkStatus();
    if (it->is_null()) {
      out.reset();
      return absl::OkStatus();
    }
    T value{};
    absl::Status status = Read(field, value);
    if (status.ok()) out = value;
    return status;
  }

 private:
  const nlohmann::json& json_;
  const std::string family_;
};

}  // namespace codec::io

#endif  // BACKENDS_IO_JSON_FIELDS_H_
