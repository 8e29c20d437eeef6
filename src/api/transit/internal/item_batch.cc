#include "api/transit/internal/item_batch.h"

#include "api/transit/transit_handler.h"
#include "core/strings.h"

namespace rekey::api::transit_internal {

absl::StatusOr<ItemBatch> ItemBatch::Of(const json::object& body) {
  ItemBatch out;
  const json::value* batch = body.if_contains("batch_input");
  if (batch == nullptr || batch->is_null()) {
    out.objects_.push_back(&body);
    out.errors_.resize(1);
    return out;
  }
  out.batch_ = true;
  if (!batch->is_array()) {
    return absl::InvalidArgumentError(
        "invalid value for \"batch_input\": expected a list of objects");
  }
  if (batch->get_array().empty()) {
    return absl::InvalidArgumentError("missing batch input to process");
  }
  if (batch->get_array().size() > TransitHandler::kMaxBatchItems) {
    return absl::InvalidArgumentError(
        rekey::StrCat("batch_input has more than ", TransitHandler::kMaxBatchItems, " items"));
  }
  for (size_t i = 0; i < batch->get_array().size(); ++i) {
    const json::value& item = batch->get_array()[i];
    if (!item.is_object()) {
      return absl::InvalidArgumentError(rekey::StrCat("'[", i, "]' expected a map"));
    }
    out.objects_.push_back(&item.get_object());
  }
  out.errors_.resize(out.objects_.size());
  return out;
}

std::optional<size_t> ItemBatch::index(size_t i) const {
  return batch_ ? std::optional<size_t>(i) : std::nullopt;
}

void ItemBatch::Reject(size_t i, absl::Status error) {
  if (errors_[i].ok()) errors_[i] = std::move(error);
}

}  // namespace rekey::api::transit_internal
