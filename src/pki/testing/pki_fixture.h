// Shared pieces of the pki unit tests: a CaService over a MemoryStore with a fake clock and
// random source, and small helpers to build roles and read certificates.
#ifndef REKEY_PKI_TESTING_PKI_FIXTURE_H_
#define REKEY_PKI_TESTING_PKI_FIXTURE_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "pki/ca_service.h"
#include "pki/x509.h"
#include "storage/memory_store.h"

namespace rekey::pki::testing {

class PkiTest : public ::testing::Test {
 protected:
  PkiTest() { ca_ = std::make_unique<CaService>(store_, clock_, random_, options_); }

  // A root issuer of `type` (default ec-p256 for speed) named `name`.
  IssuerInfo MakeRoot(std::string_view cn = "Test Root", KeyType type = KeyType::kEcP256,
                      std::string_view name = "", absl::Duration ttl = absl::Hours(24 * 365)) {
    GenerateRootRequest req;
    req.common_name = std::string(cn);
    req.key_type = type;
    req.issuer_name = std::string(name);
    req.ttl = ttl;
    absl::StatusOr<GeneratedIssuer> root = ca_->GenerateRoot(req);
    EXPECT_TRUE(root.ok()) << root.status();
    return root.ok() ? root->issuer : IssuerInfo{};
  }

  // Writes role `name` from JSON text; fails the test when refused.
  void MakeRole(std::string_view name, std::string_view json_text) {
    boost::json::value v =
        boost::json::parse(boost::json::string_view(json_text.data(), json_text.size()));
    absl::StatusOr<std::vector<std::string>> w = ca_->WriteRoleJson(name, v.as_object());
    ASSERT_TRUE(w.ok()) << w.status();
  }

  static CertificateInfo Describe(std::string_view pem) {
    absl::StatusOr<internal::X509Ptr> cert = ParseCertificatePem(pem);
    EXPECT_TRUE(cert.ok()) << cert.status();
    if (!cert.ok()) return {};
    absl::StatusOr<CertificateInfo> info = DescribeCertificate(cert->get());
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : CertificateInfo{};
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_{7};
  CaOptions options_;
  std::unique_ptr<CaService> ca_;
};

}  // namespace rekey::pki::testing

#endif  // REKEY_PKI_TESTING_PKI_FIXTURE_H_
