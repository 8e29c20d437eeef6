// EncryptedStore: encrypt on Commit, decrypt on Get and Scan.
#include "storage/encrypted_store.h"

#include <utility>

#include "core/status_macros.h"
#include "core/strings.h"

namespace rekey::storage {

absl::Status EncryptedStore::Decrypt(Record& record) {
  absl::StatusOr<SecretBytes> plaintext = aead_.Decrypt(record.value.Reveal(), record.key);
  if (!plaintext.ok()) {
    // The Aead's message names no key and no content; add the key, never the bytes.
    const absl::StatusCode code = plaintext.status().code() == absl::StatusCode::kInvalidArgument
                                      ? absl::StatusCode::kDataLoss
                                      : plaintext.status().code();
    return absl::Status(code, rekey::StrCat("record '", record.key,
                                            "' failed to decrypt: ", plaintext.status().message()));
  }
  record.value = *std::move(plaintext);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Record>> EncryptedStore::Get(std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<Record> record, inner_.Get(key));
  if (record.has_value()) RETURN_IF_ERROR(Decrypt(*record));
  return record;
}

absl::StatusOr<std::vector<Record>> EncryptedStore::Scan(std::string_view prefix,
                                                         std::string_view start_after,
                                                         size_t limit) {
  ASSIGN_OR_RETURN(std::vector<Record> records, inner_.Scan(prefix, start_after, limit));
  for (Record& record : records) RETURN_IF_ERROR(Decrypt(record));
  return records;
}

absl::StatusOr<std::vector<std::string>> EncryptedStore::ScanKeys(std::string_view prefix,
                                                                  std::string_view start_after,
                                                                  size_t limit) {
  return inner_.ScanKeys(prefix, start_after, limit);
}

absl::StatusOr<WriteBatch> EncryptedStore::Seal(const WriteBatch& batch) {
  WriteBatch sealed;
  for (const WriteBatch::Op& op : batch.ops()) {
    if (!op.value.has_value()) {
      sealed.Delete(op.key);
      continue;
    }
    ASSIGN_OR_RETURN(std::string ciphertext, aead_.Encrypt(op.value->Reveal(), op.key));
    sealed.Put(op.key, SecretBytes::TakeFrom(ciphertext));
  }
  for (const WriteBatch::Condition& condition : batch.conditions()) {
    sealed.ExpectModIndex(condition.key, condition.mod_index);
  }
  return sealed;
}

absl::StatusOr<uint64_t> EncryptedStore::Commit(const WriteBatch& batch) {
  ASSIGN_OR_RETURN(WriteBatch sealed, Seal(batch));
  return inner_.Commit(sealed);
}

void EncryptedStore::CommitAsync(WriteBatch batch, CommitCallback done) {
  absl::StatusOr<WriteBatch> sealed = Seal(batch);
  if (!sealed.ok()) {
    done(sealed.status());
    return;
  }
  inner_.CommitAsync(*std::move(sealed), std::move(done));
}

uint64_t EncryptedStore::CommitIndex() { return inner_.CommitIndex(); }

}  // namespace rekey::storage
