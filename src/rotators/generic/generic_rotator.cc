#include "rotators/generic/generic_rotator.h"

#include <boost/json.hpp>

#include "core/strings.h"
#include "rotators/common/params.h"

namespace rekey::rotators::generic {
namespace {

namespace json = boost::json;
using rotation::Problem;
using rotation::StepContext;

constexpr size_t kMaxFields = 32;

// params: {"fields": ["api_key", ...]} — the fields of the value's JSON object to regenerate
// (default ["value"]); every other field of the current value is carried over unchanged.
std::vector<std::string> FieldsOf(const json::object& params) {
  std::vector<std::string> fields;
  if (const json::value* f = params.if_contains("fields"); f != nullptr && f->is_array()) {
    for (const json::value& name : f->get_array()) {
      if (name.is_string()) fields.emplace_back(name.get_string());
    }
  }
  if (fields.empty()) fields.push_back("value");
  return fields;
}

class GenericRotator final : public rotation::Rotator {
 public:
  std::vector<Problem> Validate(const json::object& params) const override {
    std::vector<Problem> problems;
    for (const auto& [key, value] : params) {
      if (key != "fields") {
        problems.push_back(Problem{rekey::StrCat("params.", std::string_view(key)),
                                   "unknown field (the generic rotator takes only \"fields\")"});
      }
    }
    if (const json::value* f = params.if_contains("fields"); f != nullptr) {
      if (!f->is_array() || f->get_array().empty() || f->get_array().size() > kMaxFields) {
        problems.push_back(Problem{
            "params.fields", rekey::StrCat("must be a list of 1 to ", kMaxFields, " field names")});
      } else {
        for (const json::value& name : f->get_array()) {
          if (!name.is_string() || name.get_string().empty() || name.get_string().size() > 256) {
            problems.push_back(
                Problem{"params.fields", "each field name must be a non-empty string"});
            break;
          }
        }
      }
    }
    return problems;
  }

  absl::Status Check(StepContext& ctx) override {
    absl::StatusOr<SecretBytes> sample = ctx.Generate();
    return sample.ok() ? absl::OkStatus() : sample.status();
  }

  absl::StatusOr<SecretBytes> Create(StepContext& ctx) override {
    json::value doc = json::object();
    if (ctx.current().has_value() && ctx.current()->value.has_value()) {
      std::string_view text = ctx.current()->value->Reveal();
      boost::system::error_code ec;
      doc = json::parse(json::string_view(text.data(), text.size()), ec);
      if (ec || !doc.is_object()) {
        WipeJsonStrings(doc);
        return absl::FailedPreconditionError(
            rekey::StrCat("the current value of \"", ctx.path(), "\" is not a JSON object"));
      }
    }
    for (const std::string& field : FieldsOf(ctx.params())) {
      absl::StatusOr<SecretBytes> fresh = ctx.Generate();
      if (!fresh.ok()) {
        WipeJsonStrings(doc);
        return fresh.status();
      }
      json::object& o = doc.get_object();
      if (json::value* old = o.if_contains(field); old != nullptr) WipeJsonStrings(*old);
      o[field] = json::string(fresh->Reveal().data(), fresh->Reveal().size());
    }
    std::string text = json::serialize(doc);
    WipeJsonStrings(doc);
    return SecretBytes::TakeFrom(text);
  }

  // No target: the new value is valid once it is stored.
  absl::Status Set(StepContext&) override { return absl::OkStatus(); }

  absl::Status Test(StepContext& ctx) override {
    if (!ctx.pending().has_value() || !ctx.pending()->value.has_value()) {
      return absl::FailedPreconditionError("the pending value is not readable");
    }
    if (ctx.current().has_value() && ctx.current()->value.has_value() &&
        *ctx.current()->value == *ctx.pending()->value) {
      return absl::FailedPreconditionError("the new value equals the current one");
    }
    return absl::OkStatus();
  }

  absl::Status Revoke(StepContext&) override { return absl::OkStatus(); }
  absl::Status Rollback(StepContext&) override { return absl::OkStatus(); }
};

}  // namespace

absl::Status RegisterGenericRotator(rotation::RotatorRegistry& registry) {
  return registry.Register("generic", std::make_unique<GenericRotator>());
}

}  // namespace rekey::rotators::generic
