// Tests of CaService over time: revocation and CRLs, tidy, and CA rotation (overlap, default
// switch, retirement).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "core/testing/status_matchers.h"
#include "pki/ca_service.h"
#include "pki/crl.h"
#include "pki/testing/pki_fixture.h"
#include "pki/verify.h"

namespace rekey::pki {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class CaLifecycleTest : public testing::PkiTest {
 protected:
  void SetUp() override {
    root_ = MakeRoot("Root", KeyType::kEcP256, "old");
    MakeRole("web", R"({"allow_any_name": true, "key_type": "ec", "max_ttl": "2160h"})");
  }
  IssuedCertificate Issue(std::string cn, absl::Duration ttl = absl::Hours(24)) {
    IssueRequest req;
    req.common_name = std::move(cn);
    req.ttl = ttl;
    absl::StatusOr<IssuedCertificate> issued = ca_->Issue("web", req);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? std::move(*issued) : IssuedCertificate{};
  }
  CrlInfo CurrentCrl(std::string_view issuer_ref = "default") {
    absl::StatusOr<std::string> pem = ca_->CrlPem(issuer_ref);
    EXPECT_TRUE(pem.ok()) << pem.status();
    absl::StatusOr<internal::X509CrlPtr> crl = ParseCrlPem(pem.value_or(""));
    absl::StatusOr<IssuerInfo> issuer = ca_->ReadIssuer(issuer_ref);
    EXPECT_TRUE(crl.ok() && issuer.ok());
    if (!crl.ok() || !issuer.ok()) return {};
    absl::StatusOr<X509Ptr> cert = ParseCertificatePem(issuer->certificate);
    absl::StatusOr<CrlInfo> info = DescribeCrl(crl->get(), cert->get());
    EXPECT_TRUE(info.ok()) << info.status();  // the issuer's key signed it
    return info.value_or(CrlInfo{});
  }
  static std::vector<std::string> Serials(const CrlInfo& crl) {
    std::vector<std::string> out;
    for (const RevokedEntry& e : crl.revoked) out.push_back(e.serial_number);
    return out;
  }
  absl::Status VerifyAgainst(const IssuedCertificate& leaf, std::string_view bundle) {
    VerifyOptions options;
    options.at = clock_.Now();
    return VerifyCertificatePem(leaf.certificate, absl::StrJoin(leaf.ca_chain, ""), bundle,
                                options);
  }

  IssuerInfo root_;
};

// --- revocation and CRLs ----------------------------------------------------------------------

TEST_F(CaLifecycleTest, RevokedSerialIsInTheSignedCrl) {
  IssuedCertificate revoked = Issue("a.test");
  IssuedCertificate kept = Issue("b.test");
  EXPECT_THAT(Serials(CurrentCrl()), IsEmpty());
  const uint64_t before = CurrentCrl().crl_number;

  // Any serial spelling works.
  std::string dashed = revoked.serial_number;
  for (char& c : dashed) {
    if (c == ':') c = '-';
  }
  ASSERT_OK_AND_ASSIGN(absl::Time at, ca_->Revoke(dashed));
  EXPECT_EQ(at, clock_.Now());
  CrlInfo crl = CurrentCrl();
  EXPECT_THAT(Serials(crl), Contains(revoked.serial_number));
  EXPECT_THAT(Serials(crl), Not(Contains(kept.serial_number)));
  EXPECT_GT(crl.crl_number, before);
  EXPECT_EQ(crl.next_update, crl.this_update + options_.crl_expiry);
  EXPECT_EQ(crl.revoked[0].revoked_at, at);

  ASSERT_OK_AND_ASSIGN(CertificateEntry entry, ca_->ReadCertificate(revoked.serial_number));
  EXPECT_EQ(entry.revoked_at, at);
}

TEST_F(CaLifecycleTest, RevokeIsIdempotentAndUnknownSerialsAreNotFound) {
  IssuedCertificate leaf = Issue("a.test");
  ASSERT_OK_AND_ASSIGN(absl::Time first, ca_->Revoke(leaf.serial_number));
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK_AND_ASSIGN(absl::Time second, ca_->Revoke(leaf.serial_number));
  EXPECT_EQ(first, second);
  EXPECT_THAT(ca_->Revoke("01:02:03"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ca_->Revoke("not-hex"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaLifecycleTest, CrlInDerAndPemAgreeAndVerifiesAChain) {
  IssuedCertificate leaf = Issue("a.test");
  ASSERT_OK(ca_->Revoke(leaf.serial_number).status());
  ASSERT_OK_AND_ASSIGN(std::string der, ca_->CrlDer());
  ASSERT_OK_AND_ASSIGN(std::string pem, ca_->CrlPem());
  ASSERT_OK_AND_ASSIGN(internal::X509CrlPtr from_der, ParseCrlDer(der));
  ASSERT_OK_AND_ASSIGN(internal::X509CrlPtr from_pem, ParseCrlPem(pem));
  EXPECT_EQ(X509_CRL_cmp(from_der.get(), from_pem.get()), 0);
  VerifyOptions options;
  options.at = clock_.Now();
  options.crls = {from_der.get()};
  EXPECT_THAT(VerifyCertificatePem(leaf.certificate, "", root_.certificate, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("revoked")));
}

TEST_F(CaLifecycleTest, CrlIsRebuiltOnceHalfExpired) {
  const uint64_t first = CurrentCrl().crl_number;
  clock_.Advance(options_.crl_expiry / 2 - absl::Minutes(1));
  EXPECT_EQ(CurrentCrl().crl_number, first);
  clock_.Advance(absl::Minutes(2));
  CrlInfo rebuilt = CurrentCrl();
  EXPECT_EQ(rebuilt.crl_number, first + 1);
  EXPECT_EQ(rebuilt.this_update, clock_.Now());
  ASSERT_OK(ca_->RotateCrl());
  EXPECT_EQ(CurrentCrl().crl_number, first + 2);
}

// --- tidy -------------------------------------------------------------------------------------

TEST_F(CaLifecycleTest, TidyDropsExpiredCertificatesAndRevocationsAfterTheBuffer) {
  IssuedCertificate short_lived = Issue("short.test", absl::Hours(1));
  IssuedCertificate long_lived = Issue("long.test", absl::Hours(24 * 30));
  ASSERT_OK(ca_->Revoke(short_lived.serial_number).status());
  ASSERT_OK(ca_->Revoke(long_lived.serial_number).status());

  TidyRequest tidy;
  tidy.safety_buffer = absl::Hours(72);
  clock_.Advance(absl::Hours(2));  // expired, but within the safety buffer
  ASSERT_OK_AND_ASSIGN(TidyResult nothing, ca_->Tidy(tidy));
  EXPECT_EQ(nothing.certificates_deleted, 0);
  EXPECT_EQ(nothing.revocations_deleted, 0);

  clock_.Advance(absl::Hours(72));
  ASSERT_OK_AND_ASSIGN(TidyResult result, ca_->Tidy(tidy));
  EXPECT_EQ(result.certificates_deleted, 1);
  EXPECT_EQ(result.revocations_deleted, 1);
  EXPECT_THAT(ca_->ReadCertificate(short_lived.serial_number),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(ca_->ReadCertificate(long_lived.serial_number).status());
  std::vector<std::string> serials = Serials(CurrentCrl());
  EXPECT_THAT(serials, Not(Contains(short_lived.serial_number)));
  EXPECT_THAT(serials, Contains(long_lived.serial_number));
}

// --- CA rotation ------------------------------------------------------------------------------

TEST_F(CaLifecycleTest, CaRotationOverlapsThenRetiresTheOldIssuer) {
  IssuedCertificate old_leaf = Issue("svc.test", absl::Hours(24 * 10));

  // A new issuer beside the old one: not the default yet, both in the bundle.
  IssuerInfo next = MakeRoot("Root 2", KeyType::kEcP256, "new");
  EXPECT_FALSE(next.is_default);
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_->CaChainPem());
  EXPECT_THAT(bundle, HasSubstr(root_.certificate));
  EXPECT_THAT(bundle, HasSubstr(next.certificate));
  EXPECT_EQ(bundle.find(root_.certificate), 0u);  // the default's chain first

  // Switch: new leaves come from the new issuer; clients trusting the bundle accept both.
  ASSERT_OK(ca_->SetDefaultIssuer("new"));
  IssuedCertificate new_leaf = Issue("svc.test", absl::Hours(24 * 10));
  EXPECT_EQ(new_leaf.issuer_id, next.issuer_id);
  EXPECT_EQ(new_leaf.issuing_ca, next.certificate);
  ASSERT_OK_AND_ASSIGN(bundle, ca_->CaChainPem());
  EXPECT_OK(VerifyAgainst(old_leaf, bundle));
  EXPECT_OK(VerifyAgainst(new_leaf, bundle));
  ASSERT_OK_AND_ASSIGN(std::string ca_pem, ca_->CaPem());
  EXPECT_EQ(ca_pem, next.certificate);
  ASSERT_OK_AND_ASSIGN(std::string ca_der, ca_->CaDer());
  ASSERT_OK_AND_ASSIGN(X509Ptr from_der, ParseCertificateDer(ca_der));
  EXPECT_EQ(Describe(next.certificate).serial_number,
            FormatSerial(X509_get0_serialNumber(from_der.get())));

  // The old issuer cannot retire while its leaf is valid, unless forced.
  ASSERT_OK_AND_ASSIGN(absl::Time last, ca_->LastLeafExpiry("old"));
  EXPECT_EQ(last, old_leaf.expiration);
  EXPECT_THAT(ca_->RetireIssuer("old", false),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("valid until")));
  EXPECT_THAT(ca_->RetireIssuer("new", true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("default")));

  clock_.Advance(absl::Hours(24 * 10) + absl::Seconds(1));
  ASSERT_OK(ca_->RetireIssuer("old", false));
  ASSERT_OK_AND_ASSIGN(bundle, ca_->CaChainPem());
  EXPECT_THAT(bundle, Not(HasSubstr(root_.certificate)));
  EXPECT_THAT(bundle, HasSubstr(next.certificate));
  ASSERT_OK_AND_ASSIGN(IssuerInfo old_info, ca_->ReadIssuer("old"));
  EXPECT_TRUE(old_info.retired);
  EXPECT_THAT(ca_->SetDefaultIssuer("old"), StatusIs(absl::StatusCode::kFailedPrecondition));
  IssueRequest pinned;
  pinned.common_name = "svc.test";
  pinned.issuer_ref = "old";
  EXPECT_THAT(ca_->Issue("web", pinned),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("retired")));
  // Its last CRL is still served.
  EXPECT_OK(ca_->CrlPem("old").status());
}

TEST_F(CaLifecycleTest, RevokedLeavesDoNotHoldBackRetirement) {
  IssuedCertificate leaf = Issue("svc.test", absl::Hours(24 * 10));
  MakeRoot("Root 2", KeyType::kEcP256, "new");
  ASSERT_OK(ca_->SetDefaultIssuer("new"));
  ASSERT_OK(ca_->Revoke(leaf.serial_number).status());
  ASSERT_OK_AND_ASSIGN(absl::Time last, ca_->LastLeafExpiry("old"));
  EXPECT_EQ(last, absl::InfinitePast());
  EXPECT_OK(ca_->RetireIssuer("old", false));
  // The final CRL lists the revocation.
  EXPECT_THAT(Serials(CurrentCrl("old")), Contains(leaf.serial_number));
}

TEST_F(CaLifecycleTest, ForcedRetirementDropsTheIssuerFromTheBundleAtOnce) {
  Issue("svc.test", absl::Hours(24 * 10));
  MakeRoot("Root 2", KeyType::kEcP256, "new");
  ASSERT_OK(ca_->SetDefaultIssuer("new"));
  ASSERT_OK(ca_->RetireIssuer("old", true));
  ASSERT_OK_AND_ASSIGN(std::vector<IssuerInfo> issuers, ca_->ListIssuers());
  ASSERT_THAT(issuers, SizeIs(2));
  EXPECT_TRUE(issuers[0].retired);
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_->CaChainPem());
  EXPECT_THAT(bundle, Not(HasSubstr(root_.certificate)));
}

}  // namespace
}  // namespace rekey::pki
