// What the CA keeps in the store (through the encrypting barrier), their keys and their JSON
// encoding. Internal to src/pki/.
//
//   pki/config                       CaConfigRecord: the default issuer
//   pki/issuer/<id>                  IssuerRecord: certificate, parents, private key
//   pki/role/<name>                  the role as RoleToJson
//   pki/cert/<serial, '-' separated> CertRecord: every stored certificate issued
//   pki/revoked/<issuer id>/<serial> RevokedRecord: the issuer's revocations, for its CRL
//   pki/crl/<issuer id>              CrlRecord: the issuer's last CRL and its number
//   pki/pending/intermediate         PendingKeyRecord: the key of a generated intermediate CSR
#ifndef REKEY_PKI_INTERNAL_RECORDS_H_
#define REKEY_PKI_INTERNAL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"

namespace rekey::pki::internal {

inline constexpr std::string_view kConfigKey = "pki/config";
inline constexpr std::string_view kIssuerPrefix = "pki/issuer/";
inline constexpr std::string_view kRolePrefix = "pki/role/";
inline constexpr std::string_view kCertPrefix = "pki/cert/";
inline constexpr std::string_view kRevokedPrefix = "pki/revoked/";
inline constexpr std::string_view kCrlPrefix = "pki/crl/";
inline constexpr std::string_view kPendingIntermediateKey = "pki/pending/intermediate";

// "pki/cert/4f-0a-..." for the serial "4f:0a:...".
std::string CertKey(std::string_view serial);
std::string RevokedKey(std::string_view issuer_id, std::string_view serial);
// The serial ("4f:0a:...") at the end of a cert or revoked key.
std::string SerialFromKey(std::string_view key);

struct CaConfigRecord {
  std::string default_issuer;  // issuer id; "" = none yet
};

struct IssuerRecord {
  std::string id;
  std::string name;
  std::string certificate;           // PEM
  std::vector<std::string> parents;  // PEM, the certificate's issuers up to the root, as known
  SecretBytes private_key;           // PEM; empty once retired
  bool retired = false;
  absl::Time created_at;
};

struct CertRecord {
  std::string certificate;  // PEM
  std::string issuer_id;
  absl::Time not_after;
  std::optional<absl::Time> revoked_at;
};

struct RevokedRecord {
  absl::Time revoked_at;
  absl::Time not_after;
};

struct CrlRecord {
  uint64_t number = 0;
  std::string der;
  absl::Time this_update;
  absl::Time next_update;
};

struct PendingKeyRecord {
  SecretBytes private_key;  // PEM
  std::string common_name;
};

// Encoders produce JSON text (wiped intermediates for records holding keys); decoders return
// kDataLoss for a record that does not decode.
SecretBytes Encode(const CaConfigRecord& r);
SecretBytes Encode(const IssuerRecord& r);
SecretBytes Encode(const CertRecord& r);
SecretBytes Encode(const RevokedRecord& r);
SecretBytes Encode(const CrlRecord& r);
SecretBytes Encode(const PendingKeyRecord& r);
absl::StatusOr<CaConfigRecord> DecodeConfig(const SecretBytes& b);
absl::StatusOr<IssuerRecord> DecodeIssuer(const SecretBytes& b);
absl::StatusOr<CertRecord> DecodeCert(const SecretBytes& b);
absl::StatusOr<RevokedRecord> DecodeRevoked(const SecretBytes& b);
absl::StatusOr<CrlRecord> DecodeCrl(const SecretBytes& b);
absl::StatusOr<PendingKeyRecord> DecodePendingKey(const SecretBytes& b);

}  // namespace rekey::pki::internal

#endif  // REKEY_PKI_INTERNAL_RECORDS_H_
