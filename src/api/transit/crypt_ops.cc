// Transit encryption: encrypt, decrypt, rewrap and datakey.
#include <optional>
#include <string>
#include <vector>

#include "api/transit/internal/item_batch.h"
#include "api/transit/internal/operations.h"
#include "api/transit/internal/request.h"
#include "api/transit/internal/response.h"
#include "api/vault/json_fields.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::api::transit_internal {
namespace {

using transit::KeyType;

// The fields of one encrypt, decrypt or rewrap item, as base64 text (nullopt when absent).
struct CipherFields {
  std::optional<std::string_view> data;  // "plaintext" or "ciphertext"
  std::optional<std::string_view> context;
  std::optional<std::string_view> nonce;
  std::optional<std::string_view> associated_data;
  uint32_t key_version = 0;
};

// Reads `data_field`, context, nonce, associated_data and key_version; a field of the wrong type
// is an error for the whole request.
absl::StatusOr<CipherFields> ReadCipherFields(const json::object& o, std::string_view data_field,
                                              std::optional<size_t> at) {
  CipherFields f;
  ASSIGN_OR_RETURN(f.data, StringField(o, data_field, at));
  ASSIGN_OR_RETURN(f.context, StringField(o, "context", at));
  ASSIGN_OR_RETURN(f.nonce, StringField(o, "nonce", at));
  ASSIGN_OR_RETURN(f.associated_data, StringField(o, "associated_data", at));
  ASSIGN_OR_RETURN(f.key_version, VersionField(o, "key_version", at));
  return f;
}

// The decoded context, nonce and associated data of an item.
struct Extras {
  std::string context;
  std::string nonce;
  std::string associated_data;
};

// Decodes the item's context, nonce and associated_data; the first error (the item's alone).
absl::StatusOr<Extras> DecodeExtras(const CipherFields& f) {
  Extras e;
  ASSIGN_OR_RETURN(e.context, DecodeField("context", f.context.value_or("")));
  ASSIGN_OR_RETURN(e.nonce, DecodeField("nonce", f.nonce.value_or("")));
  ASSIGN_OR_RETURN(e.associated_data,
                   DecodeField("associated_data", f.associated_data.value_or("")));
  return e;
}

void FillCiphertext(const transit::Ciphertext& c, json::object& o) {
  o["ciphertext"] = c.text;
  o["key_version"] = c.version;
}

void FillPlaintext(const SecretBytes& plain, json::object& o) {
  SetBase64Secret(o, "plaintext", plain);
}

// The key an encrypt creates for a missing key (Vault's upsert): the body's type (aes256-gcm96
// by default) and convergent_encryption; `derived` when the items carry a context.
absl::StatusOr<transit::KeyCreateOptions> UpsertOptions(const json::object& body, bool derived) {
  ASSIGN_OR_RETURN(std::optional<std::string_view> type, StringField(body, "type"));
  const std::string_view type_name = type.value_or("aes256-gcm96");
  std::optional<KeyType> t = transit::ParseKeyType(type_name);
  if (!t.has_value()) {
    return absl::InvalidArgumentError(rekey::StrCat("unknown key type ", type_name.substr(0, 32)));
  }
  if (!transit::SupportsEncryption(*t)) {
    return absl::InvalidArgumentError(
        rekey::StrCat("key type ", type_name, " not supported for this operation"));
  }
  ASSIGN_OR_RETURN(bool convergent, BoolField(body, "convergent_encryption"));
  if (convergent && !derived) {
    return absl::InvalidArgumentError(
        "convergent encryption requires derivation to be enabled, so context is required");
  }
  transit::KeyCreateOptions o;
  o.type = *t;
  o.derived = derived;
  o.convergent = convergent;
  return o;
}

}  // namespace

http::Response HandleEncrypt(const TransitCall& call) {
  const std::string name(Segment(call.vreq, 2));
  absl::StatusOr<ItemBatch> batch = ItemBatch::Of(call.body);
  if (!batch.ok()) return Fail(batch.status());
  std::vector<transit::EncryptItem> work;
  std::optional<bool> context_set;
  for (size_t i = 0; i < batch->size(); ++i) {
    absl::StatusOr<CipherFields> f = ReadCipherFields(batch->item(i), "plaintext", batch->index(i));
    if (!f.ok()) return Fail(f.status());
    if (!f->data.has_value()) {
      return BadRequest(batch->batch()
                            ? rekey::StrCat("'[", i, "].plaintext' missing plaintext to encrypt")
                            : std::string("missing plaintext to encrypt"));
    }
    const bool has_context = f->context.has_value() && !f->context->empty();
    if (context_set.has_value() && *context_set != has_context) {
      return BadRequest("context should be set either in all the request blocks or in none");
    }
    context_set = has_context;
    absl::StatusOr<SecretBytes> plaintext = DecodeSecretField("plaintext", *f->data);
    absl::StatusOr<Extras> e = plaintext.ok() ? DecodeExtras(*f) : plaintext.status();
    if (!e.ok()) {
      batch->Reject(i, e.status());
      continue;
    }
    work.push_back(transit::EncryptItem{*std::move(plaintext), std::move(e->context),
                                        std::move(e->nonce), std::move(e->associated_data),
                                        f->key_version});
  }
  // A missing key is created (the caller passed the create check), as Vault upserts.
  std::optional<transit::KeyCreateOptions> upsert;
  absl::StatusOr<bool> exists = call.transit.KeyExists(name);
  if (!exists.ok()) return ErrorFromStatus(exists.status());
  if (!*exists) {
    absl::StatusOr<transit::KeyCreateOptions> o =
        UpsertOptions(call.body, context_set.value_or(false));
    if (!o.ok()) return Fail(o.status());
    upsert = *o;
  }
  absl::StatusOr<std::vector<absl::StatusOr<transit::Ciphertext>>> results =
      call.transit.Encrypt(name, work, upsert);
  if (!results.ok()) return Fail(results.status());
  return batch->Answer(call.request, call.body, *results, FillCiphertext);
}

http::Response HandleDecryptOrRewrap(const TransitCall& call) {
  const bool rewrap = call.route == RouteId::kTransitRewrap;
  const std::string name(Segment(call.vreq, 2));
  absl::StatusOr<ItemBatch> batch = ItemBatch::Of(call.body);
  if (!batch.ok()) return Fail(batch.status());
  std::vector<transit::DecryptItem> decrypts;
  std::vector<transit::RewrapItem> rewraps;
  for (size_t i = 0; i < batch->size(); ++i) {
    absl::StatusOr<CipherFields> f =
        ReadCipherFields(batch->item(i), "ciphertext", batch->index(i));
    if (!f.ok()) return Fail(f.status());
    if (!f->data.has_value() || f->data->empty()) {
      return BadRequest(batch->batch()
                            ? rekey::StrCat("'[", i, "].ciphertext' missing ciphertext to decrypt")
                            : std::string("missing ciphertext to decrypt"));
    }
    absl::StatusOr<Extras> e = DecodeExtras(*f);
    if (!e.ok()) {
      batch->Reject(i, e.status());
      continue;
    }
    if (rewrap) {
      rewraps.push_back(transit::RewrapItem{std::string(*f->data), std::move(e->context),
                                            std::move(e->nonce), f->key_version});
    } else {
      decrypts.push_back(transit::DecryptItem{std::string(*f->data), std::move(e->context),
                                              std::move(e->nonce), std::move(e->associated_data)});
    }
  }
  if (rewrap) {
    absl::StatusOr<std::vector<absl::StatusOr<transit::Ciphertext>>> results =
        call.transit.Rewrap(name, rewraps);
    if (!results.ok()) return Fail(results.status());
    return batch->Answer(call.request, call.body, *results, FillCiphertext);
  }
  absl::StatusOr<std::vector<absl::StatusOr<SecretBytes>>> results =
      call.transit.Decrypt(name, decrypts);
  if (!results.ok()) return Fail(results.status());
  return batch->Answer(call.request, call.body, *results, FillPlaintext, "plaintext");
}

http::Response HandleDataKey(const TransitCall& call) {
  const std::string_view kind = Segment(call.vreq, 2);
  if (kind != "plaintext" && kind != "wrapped") {
    return BadRequest("invalid path: the data key type must be \"plaintext\" or \"wrapped\"");
  }
  transit::DataKeyRequest dk;
  absl::Status parse = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<uint64_t> bits, GetUint(call.body, "bits"));
    dk.bits = bits.value_or(0) == 0 ? 256 : *bits;
    ASSIGN_OR_RETURN(std::optional<std::string_view> context, StringField(call.body, "context"));
    ASSIGN_OR_RETURN(dk.context, DecodeField("context", context.value_or("")));
    ASSIGN_OR_RETURN(std::optional<std::string_view> nonce, StringField(call.body, "nonce"));
    ASSIGN_OR_RETURN(dk.nonce, DecodeField("nonce", nonce.value_or("")));
    ASSIGN_OR_RETURN(dk.key_version, VersionField(call.body, "key_version"));
    return absl::OkStatus();
  }();
  if (!parse.ok()) return Fail(parse);
  absl::StatusOr<transit::DataKey> key =
      call.transit.GenerateDataKey(Segment(call.vreq, 3), dk, kind == "plaintext");
  if (!key.ok()) return Fail(key.status());
  json::object data = NewSecretObject();
  FillCiphertext(key->ciphertext, data);
  if (key->plaintext.has_value()) SetBase64Secret(data, "plaintext", *key->plaintext);
  return DataResponse(call.request, std::move(data));
}

}  // namespace rekey::api::transit_internal
