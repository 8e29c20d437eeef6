// /v1/sys/rotate and /v1/sys/key-status: the storage keyring, as in Vault. Both are rows of the
// route table (surface kStorageKeys).
//
//   POST /v1/sys/rotate      (sudo)  -> 204; a new primary storage key, and a background rewrap
//   GET  /v1/sys/key-status          -> term (number of keys), primary_key_id, install_time,
//                                       encryptions, keys[], rewrap{...}
//
// Nothing here returns key material.
#ifndef REKEY_API_STORAGE_KEYS_STORAGE_KEY_HANDLER_H_
#define REKEY_API_STORAGE_KEYS_STORAGE_KEY_HANDLER_H_

#include "api/http/message.h"
#include "auth/authorizer.h"
#include "crypto/keyset.h"
#include "storage/rewrap.h"

namespace rekey::api {

// Thread-safe. Every reference must outlive the handler.
class StorageKeyHandler final : public http::Handler {
 public:
  StorageKeyHandler(storage::StorageKeyManager& manager, const crypto::Keyset& keyring,
                    auth::Authorizer& authz)
      : manager_(manager), keyring_(keyring), authz_(authz) {}
  bool MayBlock(const http::Request&) const override { return true; }
  http::Response Handle(http::Request& req) override;

 private:
  storage::StorageKeyManager& manager_;
  const crypto::Keyset& keyring_;
  auth::Authorizer& authz_;
};

}  // namespace rekey::api

#endif  // REKEY_API_STORAGE_KEYS_STORAGE_KEY_HANDLER_H_
