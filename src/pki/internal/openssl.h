// OpenSSL glue for the pki module: owning pointers with OpenSSL's free functions as deleters, the
// error queue as an absl::Status, memory BIOs, ASN1_TIME <-> absl::Time. Internal to src/pki/.
#ifndef REKEY_PKI_INTERNAL_OPENSSL_H_
#define REKEY_PKI_INTERNAL_OPENSSL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"

namespace rekey::pki::internal {

template <auto FreeFn>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

// Frees an OpenSSL STACK_OF(X509) and the certificates in it.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<&EVP_PKEY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<&BN_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<&X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<&X509_REQ_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<&X509_CRL_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OpenSslDeleter<&X509_REVOKED_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<&X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<&X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<&X509_STORE_CTX_free>>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<&ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<&ASN1_TIME_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<&ASN1_OCTET_STRING_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<&SSL_free>>;

// kInternal "<operation> failed: <reasons from OpenSSL's error queue>", clearing the queue.
// OpenSSL's reason strings describe the library's state, never the data.
absl::Status OpenSslError(std::string_view operation);
// Like OpenSslError but with `code` (e.g. kInvalidArgument for unparseable input).
absl::Status OpenSslErrorWithCode(absl::StatusCode code, std::string_view operation);
// Drops this thread's OpenSSL error queue (after an expected failure).
void ClearOpenSslErrors();

// A read-only memory BIO over `data` (which must outlive it).
BioPtr MemBio(std::string_view data);
// A writable memory BIO; BioContents reads what was written.
BioPtr NewMemBio();
std::string BioContents(BIO* bio);
// A writable BIO that zeroes its buffer when freed, for private keys; read with
// TakeSecretBioContents.
BioPtr NewSecretBio();
SecretBytes TakeSecretBioContents(BIO* bio);

// absl::Time (whole seconds) <-> ASN1_TIME. FromAsn1Time: kInvalidArgument for a malformed time.
absl::Status SetAsn1Time(ASN1_TIME* t, absl::Time when);
absl::StatusOr<absl::Time> FromAsn1Time(const ASN1_TIME* t);

// subjectAltName entries: a dNSName per `dns_names`, an iPAddress per `ip_addresses`.
// kInvalidArgument naming an entry that is not an IP address.
absl::StatusOr<GeneralNamesPtr> BuildGeneralNames(const std::vector<std::string>& dns_names,
                                                  const std::vector<std::string>& ip_addresses);
// The dNSName and iPAddress (as text) entries of `names`, appended in order.
void ReadGeneralNames(const GENERAL_NAMES* names, std::vector<std::string>* dns_names,
                      std::vector<std::string>* ip_addresses);

// An ASN1_STRING's bytes as a string_view (valid while the string lives).
std::string_view Asn1Bytes(const ASN1_STRING* s);

}  // namespace rekey::pki::internal

#endif  // REKEY_PKI_INTERNAL_OPENSSL_H_
