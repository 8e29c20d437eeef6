// Certificates issued per second by the internal CA (pki::CaService::Issue: role checks, a new
// key, signing, PEM encoding, the certificate record committed to an in-memory store) against raw
// OpenSSL doing the same key generation and signing of a certificate of the same shape (same
// extensions, PEM output of the certificate and the key), in the same run, for ec-p256 and
// rsa-2048 leaves under an ec-p256 root. A third pair signs a CSR (no key generation) to show the
// CA's own overhead.
// Run: build/release/bench/pki_bench [--benchmark_min_time=2]
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "core/clock.h"
#include "crypto/os_random.h"
#include "pki/ca_service.h"
#include "pki/csr.h"
#include "pki/keys.h"
#include "storage/memory_store.h"

namespace {

namespace pki = rekey::pki;

// --- the CA -------------------------------------------------------------------------------------

struct Ca {
  rekey::storage::MemoryStore store;
  rekey::RealClock clock;
  rekey::crypto::OsRandom random;
  std::unique_ptr<pki::CaService> service;

  Ca() {
    service = std::make_unique<pki::CaService>(store, clock, random);
    pki::GenerateRootRequest root;
    root.common_name = "Bench Root";
    root.key_type = pki::KeyType::kEcP256;
    if (!service->GenerateRoot(root).ok()) std::abort();
    for (auto [name, type] : {std::pair{"ec", "ec"}, std::pair{"rsa", "rsa"}}) {
      boost::json::object role;
      role["allowed_domains"] = "example.com";
      role["allow_subdomains"] = true;
      role["key_type"] = type;
      if (!service->WriteRoleJson(name, role).ok()) std::abort();
    }
  }
};

void CaIssue(benchmark::State& state, const char* role) {
  Ca ca;
  pki::IssueRequest req;
  req.common_name = "api.example.com";
  req.alt_names = {"www.example.com"};
  req.ip_sans = {"10.0.0.1"};
  req.ttl = absl::Hours(24 * 30);
  for (auto _ : state) {
    absl::StatusOr<pki::IssuedCertificate> issued = ca.service->Issue(role, req);
    if (!issued.ok()) state.SkipWithError("issue failed");
    benchmark::DoNotOptimize(issued);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_CaIssue_EcP256(benchmark::State& state) { CaIssue(state, "ec"); }
void BM_CaIssue_Rsa2048(benchmark::State& state) { CaIssue(state, "rsa"); }

void BM_CaSignCsr_EcP256(benchmark::State& state) {
  Ca ca;
  absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateKey(pki::KeyType::kEcP256);
  pki::SignRequest req;
  req.csr = *pki::BuildCsrPem({"api.example.com", {"www.example.com"}, {"10.0.0.1"}}, key->get());
  req.ttl = absl::Hours(24 * 30);
  for (auto _ : state) {
    absl::StatusOr<pki::IssuedCertificate> issued = ca.service->Sign("ec", req);
    if (!issued.ok()) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(issued);
  }
  state.SetItemsProcessed(state.iterations());
}

// --- raw OpenSSL --------------------------------------------------------------------------------

struct Issuer {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Issuer() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) std::abort();
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` with the extensions a CA leaf gets, signed by `issuer` (self when null).
X509* RawCert(EVP_PKEY* key, const Issuer* issuer, bool ca) {
  X509* x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] = (serial[0] & 0x3f) | 0x40;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>(ca ? "Raw Root" : "api.example.com"), -1, -1, 0);
  X509_set_subject_name(x, name);
  X509_set_issuer_name(x, issuer == nullptr ? name : X509_get_subject_name(issuer->cert));
  X509_NAME_free(name);
  X509_gmtime_adj(X509_getm_notBefore(x), -30);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509* signer_cert = issuer == nullptr ? x : issuer->cert;
  if (ca) {
    AddExt(x, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(x, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    AddExt(x, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(x, signer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    AddExt(x, signer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
    AddExt(x, signer_cert, NID_subject_alt_name,
           "DNS:api.example.com,DNS:www.example.com,IP:10.0.0.1");
  }
  AddExt(x, signer_cert, NID_subject_key_identifier, "hash");
  AddExt(x, signer_cert, NID_authority_key_identifier, "keyid:always");
  X509_sign(x, issuer == nullptr ? key : issuer->key, EVP_sha256());
  return x;
}

void RawIssue(benchmark::State& state, bool rsa) {
  Issuer root;
  root.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  root.cert = RawCert(root.key, nullptr, true);
  for (auto _ : state) {
    EVP_PKEY* key = rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* cert = RawCert(key, &root, false);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, cert);
    PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    benchmark::DoNotOptimize(BIO_pending(out));
    BIO_free(out);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_RawOpenSsl_EcP256(benchmark::State& state) { RawIssue(state, false); }
void BM_RawOpenSsl_Rsa2048(benchmark::State& state) { RawIssue(state, true); }

void BM_RawOpenSslSignOnly_EcP256(benchmark::State& state) {
  Issuer root;
  root.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  root.cert = RawCert(root.key, nullptr, true);
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  for (auto _ : state) {
    X509* cert = RawCert(key, &root, false);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, cert);
    benchmark::DoNotOptimize(BIO_pending(out));
    BIO_free(out);
    X509_free(cert);
  }
  EVP_PKEY_free(key);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_CaIssue_EcP256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawOpenSsl_EcP256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CaIssue_Rsa2048)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawOpenSsl_Rsa2048)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CaSignCsr_EcP256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawOpenSslSignOnly_EcP256)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
