// Transit authentication: hmac, sign and verify.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "api/transit/internal/item_batch.h"
#include "api/transit/internal/operations.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::api::transit_internal {
namespace {

// The options of a sign or verify request: hash and signature algorithms, prehashed, salt length.
absl::StatusOr<transit::SignOptions> SignOptionsOf(const TransitCall& call) {
  const json::object& body = call.body;
  transit::SignOptions so;
  ASSIGN_OR_RETURN(so.hash,
                   AlgorithmFrom(Segment(call.vreq, 3), body, {"hash_algorithm", "algorithm"}));
  ASSIGN_OR_RETURN(so.prehashed, BoolField(body, "prehashed"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> sig_alg,
                   StringField(body, "signature_algorithm"));
  if (sig_alg.has_value() && *sig_alg == "pkcs1v15") {
    so.rsa_padding = transit::RsaPadding::kPkcs1v15;
  } else if (sig_alg.has_value() && !sig_alg->empty() && *sig_alg != "pss") {
    return absl::InvalidArgumentError(
        rekey::StrCat("unsupported rsa signature algorithm ", sig_alg->substr(0, 32)));
  }
  ASSIGN_OR_RETURN(std::optional<std::string_view> marshaling,
                   StringField(body, "marshaling_algorithm"));
  if (marshaling.has_value() && *marshaling == "jws") {
    so.marshaling = transit::Marshaling::kJws;
  } else if (marshaling.has_value() && !marshaling->empty() && *marshaling != "asn1") {
    return absl::InvalidArgumentError("requested marshaling type is invalid");
  }
  const json::value* salt = body.if_contains("salt_length");
  if (salt != nullptr && !salt->is_null()) {
    std::string text = salt->is_string() ? std::string(salt->get_string()) : json::serialize(*salt);
    int n = 0;
    if (text == "auto") {
      so.salt_length = transit::kPssSaltAuto;
    } else if (text == "hash") {
      so.salt_length = transit::kPssSaltDigest;
    } else if (absl::SimpleAtoi(text, &n) && n >= 0) {
      so.salt_length = n;
    } else {
      return absl::InvalidArgumentError(
          "invalid value for \"salt_length\": expected \"auto\", \"hash\" or a number");
    }
  }
  return so;
}

// Verify's choice between a signature and an hmac: an error unless exactly one is set.
absl::Status CheckOneOf(const std::optional<std::string_view>& signature,
                        const std::optional<std::string_view>& hmac) {
  const bool has_sig = signature.has_value() && !signature->empty();
  const bool has_hmac = hmac.has_value() && !hmac->empty();
  if (has_sig && has_hmac) {
    return absl::InvalidArgumentError("provide one of 'signature' or 'hmac', not both");
  }
  if (!has_sig && !has_hmac) {
    return absl::InvalidArgumentError("missing signature or hmac to verify");
  }
  return absl::OkStatus();
}

}  // namespace

http::Response HandleHmac(const TransitCall& call) {
  absl::StatusOr<transit::HashAlgorithm> algorithm =
      AlgorithmFrom(Segment(call.vreq, 3), call.body, {"algorithm", "hash_algorithm"});
  if (!algorithm.ok()) return Fail(algorithm.status());
  absl::StatusOr<uint32_t> version = VersionField(call.body, "key_version");
  if (!version.ok()) return Fail(version.status());
  absl::StatusOr<ItemBatch> batch = ItemBatch::Of(call.body);
  if (!batch.ok()) return Fail(batch.status());
  std::vector<transit::HmacItem> work;
  for (size_t i = 0; i < batch->size(); ++i) {
    absl::StatusOr<std::optional<std::string_view>> input =
        StringField(batch->item(i), "input", batch->index(i));
    if (!input.ok()) return Fail(input.status());
    absl::StatusOr<SecretBytes> decoded = DecodeSecretField("input", input->value_or(""));
    if (!decoded.ok()) {
      batch->Reject(i, decoded.status());
      continue;
    }
    work.push_back(transit::HmacItem{*std::move(decoded), *version});
  }
  absl::StatusOr<std::vector<absl::StatusOr<std::string>>> results =
      call.transit.Hmac(Segment(call.vreq, 2), *algorithm, work);
  if (!results.ok()) return Fail(results.status());
  return batch->Answer(call.request, call.body, *results,
                       [](const std::string& hmac, json::object& o) { o["hmac"] = hmac; });
}

http::Response HandleSignOrVerify(const TransitCall& call) {
  const bool verify =
      call.route == RouteId::kTransitVerify || call.route == RouteId::kTransitVerifyAlgorithm;
  absl::StatusOr<transit::SignOptions> so = SignOptionsOf(call);
  if (!so.ok()) return Fail(so.status());
  absl::StatusOr<uint32_t> version = VersionField(call.body, "key_version");
  if (!version.ok()) return Fail(version.status());
  absl::StatusOr<ItemBatch> batch = ItemBatch::Of(call.body);
  if (!batch.ok()) return Fail(batch.status());
  std::vector<transit::SignItem> work;
  for (size_t i = 0; i < batch->size(); ++i) {
    absl::StatusOr<std::array<std::optional<std::string_view>, 4>> fields =
        StringFields(batch->item(i), {"input", "context", "signature", "hmac"}, batch->index(i));
    if (!fields.ok()) return Fail(fields.status());
    const auto& [input, context, signature, hmac] = *fields;
    transit::SignItem item;
    item.key_version = *version;
    if (verify) {
      absl::Status which = CheckOneOf(signature, hmac);
      if (!which.ok()) {
        if (!batch->batch()) return Fail(which);
        batch->Reject(i, which);
        continue;
      }
      item.signature = std::string(signature.value_or(""));
      item.hmac = std::string(hmac.value_or(""));
    }
    absl::Status s = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(item.input, DecodeSecretField("input", input.value_or("")));
      ASSIGN_OR_RETURN(item.context, DecodeField("context", context.value_or("")));
      return absl::OkStatus();
    }();
    if (!s.ok()) {
      batch->Reject(i, s);
      continue;
    }
    work.push_back(std::move(item));
  }
  const std::string name(Segment(call.vreq, 2));
  if (verify) {
    absl::StatusOr<std::vector<absl::StatusOr<bool>>> results =
        call.transit.Verify(name, *so, so->hash, work);
    if (!results.ok()) return Fail(results.status());
    return batch->Answer(call.request, call.body, *results,
                         [](bool valid, json::object& o) { o["valid"] = valid; });
  }
  absl::StatusOr<std::vector<absl::StatusOr<transit::Signature>>> results =
      call.transit.Sign(name, *so, work);
  if (!results.ok()) return Fail(results.status());
  return batch->Answer(call.request, call.body, *results,
                       [](const transit::Signature& sig, json::object& o) {
                         o["signature"] = sig.text;
                         o["key_version"] = sig.version;
                         if (!sig.public_key.empty()) o["publickey"] = sig.public_key;
                       });
}

}  // namespace rekey::api::transit_internal
