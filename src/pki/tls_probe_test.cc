#include "pki/tls_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "core/testing/status_matchers.h"
#include "pki/testing/pki_fixture.h"

namespace rekey::pki {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::HasSubstr;

class TlsProbeTest : public testing::PkiTest {
 protected:
  void SetUp() override {
    root_ = MakeRoot("Probe Root", KeyType::kEcP256);
    MakeRole("web", R"({"allowed_domains": "example.com", "allow_subdomains": true,
                        "key_type": "any"})");
    MakeRole("rsa", R"({"allowed_domains": "example.com", "allow_subdomains": true,
                        "key_type": "rsa"})");
    MakeRole("ed", R"({"allowed_domains": "example.com", "allow_subdomains": true,
                       "key_type": "ed25519"})");
  }
  TlsProbe ProbeFor(const IssuedCertificate& issued) {
    TlsProbe probe;
    probe.certificate = issued.certificate;
    probe.chain = absl::StrJoin(issued.ca_chain, "");
    probe.private_key = &*issued.private_key;
    probe.trust_bundle = root_.certificate;
    probe.server_name = "www.example.com";
    probe.at = clock_.Now();
    return probe;
  }
  IssuedCertificate Issue(std::string_view role, absl::Duration ttl = absl::Hours(1)) {
    IssueRequest req;
    req.common_name = "www.example.com";
    req.ip_sans = {"127.0.0.1"};
    req.ttl = ttl;
    absl::StatusOr<IssuedCertificate> issued = ca_->Issue(role, req);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? std::move(*issued) : IssuedCertificate{};
  }
  IssuerInfo root_;
};

TEST_F(TlsProbeTest, HandshakeSucceedsForRsaAndEd25519Pairs) {
  for (std::string_view role : {"rsa", "ed"}) {
    IssuedCertificate issued = Issue(role);
    EXPECT_OK(TlsHandshakeInMemory(ProbeFor(issued))) << role;
    TlsProbe by_ip = ProbeFor(issued);
    by_ip.server_name = "127.0.0.1";
    EXPECT_OK(TlsHandshakeInMemory(by_ip)) << role;
  }
}

TEST_F(TlsProbeTest, MismatchedKeyFails) {
  IssuedCertificate a = Issue("rsa");
  IssuedCertificate b = Issue("rsa");
  TlsProbe probe = ProbeFor(a);
  probe.private_key = &*b.private_key;
  EXPECT_THAT(TlsHandshakeInMemory(probe),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not match")));
}

TEST_F(TlsProbeTest, UntrustedWrongNameOrExpiredFails) {
  IssuedCertificate issued = Issue("rsa");
  IssuerInfo stranger = MakeRoot("Stranger", KeyType::kEcP256);
  TlsProbe probe = ProbeFor(issued);
  probe.trust_bundle = stranger.certificate;
  EXPECT_THAT(TlsHandshakeInMemory(probe),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rejected")));
  probe = ProbeFor(issued);
  probe.server_name = "other.example.org";
  EXPECT_THAT(TlsHandshakeInMemory(probe),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mismatch")));
  probe = ProbeFor(issued);
  probe.at = clock_.Now() + absl::Hours(2);
  EXPECT_THAT(TlsHandshakeInMemory(probe),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired")));
}

}  // namespace
}  // namespace rekey::pki
