// The items of an encrypt, decrypt, rewrap, hmac, sign or verify request (the body itself, or
// batch_input's objects), the errors items meet before the service call, and the answer.
#ifndef REKEY_API_TRANSIT_INTERNAL_ITEM_BATCH_H_
#define REKEY_API_TRANSIT_INTERNAL_ITEM_BATCH_H_

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/message.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "api/vault/zeroing_json.h"

namespace rekey::api::transit_internal {

// Not thread-safe. Points into the body it was made from, which must outlive it.
class ItemBatch {
 public:
  // batch_input's objects, or `body` as the one item; an error (Vault's message) for a
  // batch_input that is not a list of 1 to TransitHandler::kMaxBatchItems objects.
  static absl::StatusOr<ItemBatch> Of(const json::object& body);

  // Whether the request had batch_input (the answer is then batch_results).
  bool batch() const { return batch_; }
  size_t size() const { return objects_.size(); }
  const json::object& item(size_t i) const { return *objects_[i]; }
  // The index to name item `i`'s fields by in messages: set only in a batch.
  std::optional<size_t> index(size_t i) const;

  // Records that item `i` failed before the service call; an item keeps its first error.
  void Reject(size_t i, absl::Status error);
  bool rejected(size_t i) const { return !errors_[i].ok(); }

  // Answers from `results`, one per item not rejected, in item order. Without a batch: the
  // item's error (Fail), else Vault's envelope around what `fill(const T&, json::object&)`
  // writes. In a batch: BatchResponse over each item's `fill`ed fields or "error" (preceded by
  // `blank_on_error`: "" when set), then its "reference".
  template <typename T, typename Fill>
  http::Response Answer(const http::Request& req, const json::object& body,
                        const std::vector<absl::StatusOr<T>>& results, Fill fill,
                        std::string_view blank_on_error = {}) const;

 private:
  bool batch_ = false;
  std::vector<const json::object*> objects_;
  std::vector<absl::Status> errors_;  // one per item
};

template <typename T, typename Fill>
http::Response ItemBatch::Answer(const http::Request& req, const json::object& body,
                                 const std::vector<absl::StatusOr<T>>& results, Fill fill,
                                 std::string_view blank_on_error) const {
  if (!batch_) {
    if (!errors_[0].ok()) return Fail(errors_[0]);
    if (!results[0].ok()) return Fail(results[0].status());
    json::object data = NewSecretObject();
    fill(*results[0], data);
    return DataResponse(req, std::move(data));
  }
  json::array out(ZeroingStorage());
  BatchTally tally;
  size_t next = 0;
  for (size_t i = 0; i < objects_.size(); ++i) {
    json::object item = NewSecretObject();
    absl::Status s = errors_[i];
    if (s.ok()) {
      const absl::StatusOr<T>& r = results[next++];
      s = r.status();
      if (r.ok()) fill(*r, item);
    }
    if (!s.ok()) {
      if (!blank_on_error.empty()) item[JsonView(blank_on_error)] = "";
      item["error"] = std::string(s.message());
    }
    item["reference"] = ReferenceOf(*objects_[i]);
    tally.Add(s);
    out.push_back(std::move(item));
  }
  return BatchResponse(req, body, std::move(out), tally);
}

}  // namespace rekey::api::transit_internal

#endif  // REKEY_API_TRANSIT_INTERNAL_ITEM_BATCH_H_
