// Chain building and X509_STORE verification.
#include "pki/verify.h"

#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/x509.h"

namespace rekey::pki {

absl::Status VerifyCertificate(const X509* leaf, const std::vector<internal::X509Ptr>& untrusted,
                               const std::vector<internal::X509Ptr>& trusted,
                               const VerifyOptions& options) {
  internal::X509StorePtr store(X509_STORE_new());
  if (store == nullptr) return internal::OpenSslError("X509_STORE_new");
  for (const internal::X509Ptr& c : trusted) {
    if (X509_STORE_add_cert(store.get(), c.get()) != 1) internal::ClearOpenSslErrors();  // dup
  }
  for (const X509_CRL* crl : options.crls) {
    if (X509_STORE_add_crl(store.get(), const_cast<X509_CRL*>(crl)) != 1) {
      internal::ClearOpenSslErrors();
    }
  }
  internal::X509StackPtr chain(sk_X509_new_null());
  if (chain == nullptr) return internal::OpenSslError("sk_X509_new_null");
  for (const internal::X509Ptr& c : untrusted) {
    if (sk_X509_push(chain.get(), CopyCertificate(c.get()).release()) <= 0) {
      return internal::OpenSslError("sk_X509_push");
    }
  }
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(leaf), chain.get()) != 1) {
    return internal::OpenSslError("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(absl::ToUnixSeconds(options.at)));
  if (!options.crls.empty()) {
    X509_VERIFY_PARAM_set_flags(
        param, X509_V_FLAG_CRL_CHECK | (options.crl_check_all ? X509_V_FLAG_CRL_CHECK_ALL : 0));
  }
  if (!options.name.empty()) {
    const int ok =
        IsIpAddress(options.name)
            ? X509_VERIFY_PARAM_set1_ip_asc(param, options.name.c_str())
            : X509_VERIFY_PARAM_set1_host(param, options.name.c_str(), options.name.size());
    if (ok != 1) return internal::OpenSslError("setting the name to verify");
  }
  const int rc = X509_verify_cert(ctx.get());
  if (rc == 1) return absl::OkStatus();
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  internal::ClearOpenSslErrors();
  return absl::FailedPreconditionError(
      rekey::StrCat("certificate verification failed: ", X509_verify_cert_error_string(err),
                    " at depth ", depth));
}

absl::Status VerifyCertificatePem(std::string_view leaf_pem, std::string_view chain_pem,
                                  std::string_view trusted_pem, const VerifyOptions& options) {
  ASSIGN_OR_RETURN(internal::X509Ptr leaf, ParseCertificatePem(leaf_pem));
  std::vector<internal::X509Ptr> untrusted;
  if (chain_pem.find("-----BEGIN") != std::string_view::npos) {
    ASSIGN_OR_RETURN(untrusted, ParseCertificatesPem(chain_pem));
  }
  ASSIGN_OR_RETURN(std::vector<internal::X509Ptr> trusted, ParseCertificatesPem(trusted_pem));
  return VerifyCertificate(leaf.get(), untrusted, trusted, options);
}

std::vector<internal::X509Ptr> BuildChain(const X509* cert,
                                          const std::vector<internal::X509Ptr>& pool) {
  std::vector<internal::X509Ptr> chain;
  const X509* current = cert;
  for (int depth = 0; depth < 10 && !IssuedBy(current, current); ++depth) {
    const X509* next = nullptr;
    for (const internal::X509Ptr& candidate : pool) {
      if (candidate.get() != current && IssuedBy(current, candidate.get())) {
        next = candidate.get();
        break;
      }
    }
    if (next == nullptr) break;
    chain.push_back(CopyCertificate(next));
    current = next;
  }
  return chain;
}

}  // namespace rekey::pki
