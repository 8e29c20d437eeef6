// Tests of CaService: issuing, signing, roles, TTLs, intermediates, imports and persistence.
#include "pki/ca_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "pki/cert_builder.h"
#include "pki/csr.h"
#include "pki/testing/pki_fixture.h"
#include "pki/verify.h"

namespace rekey::pki {
namespace {

using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class CaServiceTest : public testing::PkiTest {
 protected:
  absl::Status VerifyNow(const IssuedCertificate& issued, std::string_view bundle,
                         std::string_view name = "") {
    VerifyOptions options;
    options.at = clock_.Now();
    options.name = std::string(name);
    return VerifyCertificatePem(issued.certificate, absl::StrJoin(issued.ca_chain, ""), bundle,
                                options);
  }
  IssuedCertificate MustIssue(std::string_view role, IssueRequest req) {
    absl::StatusOr<IssuedCertificate> issued = ca_->Issue(role, req);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? std::move(*issued) : IssuedCertificate{};
  }
  static IssueRequest Req(std::string cn, absl::Duration ttl = absl::ZeroDuration()) {
    IssueRequest req;
    req.common_name = std::move(cn);
    req.ttl = ttl;
    return req;
  }
};

// --- issuing with each key type ---------------------------------------------------------------

class IssueKeyTypeTest : public CaServiceTest, public ::testing::WithParamInterface<KeyType> {};

TEST_P(IssueKeyTypeTest, IssuesAWorkingPairOfTheRoleKeyType) {
  MakeRoot("Root", KeyType::kEcP384);
  MakeRole("web",
           rekey::StrCat(R"({"allowed_domains": "example.com", "allow_subdomains": true,
      "key_type": ")",
                         VaultKeyType(GetParam()), R"(", "key_bits": )", KeyBits(GetParam()), "}"));
  IssuedCertificate issued = MustIssue("web", Req("a.example.com", absl::Hours(1)));

  CertificateInfo info = Describe(issued.certificate);
  EXPECT_EQ(info.key_type, GetParam());
  EXPECT_EQ(info.serial_number, issued.serial_number);
  EXPECT_EQ(info.not_after, issued.expiration);
  EXPECT_EQ(issued.expiration, clock_.Now() + absl::Hours(1));
  EXPECT_EQ(issued.private_key_type, VaultKeyType(GetParam()));
  ASSERT_TRUE(issued.private_key.has_value());
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, ParsePrivateKeyPem(*issued.private_key));
  ASSERT_OK_AND_ASSIGN(X509Ptr cert, ParseCertificatePem(issued.certificate));
  EXPECT_TRUE(CertificateMatchesKey(cert.get(), key.get()));
  EXPECT_THAT(issued.ca_chain, ElementsAre(issued.issuing_ca));
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_->CaChainPem());
  EXPECT_OK(VerifyNow(issued, bundle, "a.example.com"));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, IssueKeyTypeTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kEd25519),
                         [](const auto& info) {
                           std::string name(KeyTypeName(info.param));
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST_F(CaServiceTest, EveryIssueHasANewKeyAndSerial) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssuedCertificate a = MustIssue("web", Req("a.test"));
  IssuedCertificate b = MustIssue("web", Req("a.test"));
  EXPECT_NE(a.serial_number, b.serial_number);
  EXPECT_FALSE(*a.private_key == *b.private_key);
  EXPECT_THAT(a.serial_number, ::testing::MatchesRegex("([0-9a-f]{2}:){15}[0-9a-f]{2}"));
}

TEST_F(CaServiceTest, ConcurrentIssuesAreAllStoredWithDistinctSerials) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &serials] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<IssuedCertificate> issued = ca_->Issue("web", Req("a.test"));
        if (issued.ok()) serials[t].push_back(issued->serial_number);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& list : serials) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> stored, ca_->ListCertificates());
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), all);
}

// --- names ------------------------------------------------------------------------------------

TEST_F(CaServiceTest, SansCarryTheCommonNameAltNamesAndIps) {
  MakeRoot();
  MakeRole("web", R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                      "key_type": "ec"})");
  IssueRequest req = Req("a.example.com");
  req.alt_names = {"b.example.com", "10.0.0.9"};  // an IP in alt_names becomes an IP SAN
  req.ip_sans = {"192.0.2.1", "2001:DB8::1"};
  IssuedCertificate issued = MustIssue("web", req);
  CertificateInfo info = Describe(issued.certificate);
  EXPECT_EQ(info.common_name, "a.example.com");
  EXPECT_THAT(info.dns_names, ElementsAre("a.example.com", "b.example.com"));
  EXPECT_THAT(info.ip_addresses, ElementsAre("10.0.0.9", "192.0.2.1", "2001:db8::1"));

  req.exclude_cn_from_sans = true;
  info = Describe(MustIssue("web", req).certificate);
  EXPECT_THAT(info.dns_names, ElementsAre("b.example.com"));
}

TEST_F(CaServiceTest, RefusedNamesAreAllListedAndNothingIsIssued) {
  MakeRoot();
  MakeRole("web", R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                      "allow_ip_sans": false, "key_type": "ec"})");
  IssueRequest req = Req("evil.net");
  req.alt_names = {"ok.example.com", "other.org"};
  req.ip_sans = {"10.0.0.1"};
  EXPECT_THAT(ca_->Issue("web", req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("evil.net"), HasSubstr("other.org"), HasSubstr("ip_sans"),
                             ::testing::Not(HasSubstr("ok.example.com")))));
  EXPECT_THAT(ca_->CheckIssue("web", req), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> serials, ca_->ListCertificates());
  EXPECT_THAT(serials, IsEmpty());
}

TEST_F(CaServiceTest, UnknownRoleAndMissingIssuer) {
  EXPECT_THAT(ca_->Issue("nope", Req("a.test")), StatusIs(absl::StatusCode::kNotFound));
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  EXPECT_THAT(ca_->Issue("web", Req("a.test")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no issuer")));
  EXPECT_THAT(ca_->CaPem(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CaServiceTest, RoleWithKeyTypeAnyOnlySigns) {
  MakeRoot();
  MakeRole("csr-only", R"({"allow_any_name": true, "key_type": "any"})");
  EXPECT_THAT(ca_->Issue("csr-only", Req("a.test")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("any")));
}

// --- lifetimes --------------------------------------------------------------------------------

TEST_F(CaServiceTest, TtlComesFromRequestThenRoleThenDefault) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec", "ttl": "2h"})");
  EXPECT_EQ(MustIssue("web", Req("a.test")).expiration, clock_.Now() + absl::Hours(2));
  EXPECT_EQ(MustIssue("web", Req("a.test", absl::Minutes(5))).expiration,
            clock_.Now() + absl::Minutes(5));
  MakeRole("plain", R"({"allow_any_name": true, "key_type": "ec"})");
  EXPECT_EQ(MustIssue("plain", Req("a.test")).expiration, clock_.Now() + options_.default_ttl);
}

TEST_F(CaServiceTest, TtlIsCappedByMaxTtlWithAWarning) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec", "max_ttl": "24h"})");
  IssuedCertificate issued = MustIssue("web", Req("a.test", absl::Hours(24 * 30)));
  EXPECT_EQ(issued.expiration, clock_.Now() + absl::Hours(24));
  EXPECT_THAT(issued.warnings, ElementsAre(HasSubstr("maximum")));
  // Without a role max_ttl the CA's max_ttl applies.
  MakeRole("nomax", R"({"allow_any_name": true, "key_type": "ec"})");
  EXPECT_EQ(MustIssue("nomax", Req("a.test", absl::Hours(24 * 3650))).expiration,
            clock_.Now() + options_.max_ttl);
}

TEST_F(CaServiceTest, TtlIsCappedByTheIssuerExpiry) {
  IssuerInfo root = MakeRoot("Root", KeyType::kEcP256, "", absl::Hours(10));
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec", "max_ttl": "720h"})");
  IssuedCertificate issued = MustIssue("web", Req("a.test", absl::Hours(100)));
  EXPECT_EQ(issued.expiration, root.not_after);
  EXPECT_THAT(issued.warnings, ElementsAre(HasSubstr("issuer's expiry")));
  clock_.Advance(absl::Hours(11));
  EXPECT_THAT(ca_->Issue("web", Req("a.test")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("expired")));
}

TEST_F(CaServiceTest, NotBeforeIsBackdatedByTheRoleButNotBeforeTheIssuer) {
  IssuerInfo root = MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec", "not_before_duration": 60})");
  EXPECT_EQ(Describe(MustIssue("web", Req("a.test")).certificate).not_before, root.not_before);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(Describe(MustIssue("web", Req("a.test")).certificate).not_before,
            clock_.Now() - absl::Minutes(1));
}

TEST_F(CaServiceTest, UsagesFollowTheRole) {
  MakeRoot();
  MakeRole("client", R"({"allow_any_name": true, "key_type": "ec", "server_flag": false})");
  IssuedCertificate issued = MustIssue("client", Req("a.test"));
  ASSERT_OK_AND_ASSIGN(X509Ptr cert, ParseCertificatePem(issued.certificate));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & (XKU_SSL_SERVER | XKU_SSL_CLIENT),
            static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_NE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE, 0u);
  EXPECT_EQ(X509_get_key_usage(cert.get()) & KU_KEY_ENCIPHERMENT, 0u);  // not for EC keys
}

// --- sign from a CSR --------------------------------------------------------------------------

TEST_F(CaServiceTest, SignsACsrWithItsNames) {
  MakeRoot();
  MakeRole("web", R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                      "key_type": "ec"})");
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(KeyType::kEcP256));
  ASSERT_OK_AND_ASSIGN(
      std::string csr,
      BuildCsrPem({"api.example.com", {"v2.example.com"}, {"10.1.1.1"}}, key.get()));
  SignRequest req;
  req.csr = csr;
  ASSERT_OK_AND_ASSIGN(IssuedCertificate issued, ca_->Sign("web", req));
  EXPECT_FALSE(issued.private_key.has_value());
  CertificateInfo info = Describe(issued.certificate);
  EXPECT_EQ(info.common_name, "api.example.com");
  EXPECT_THAT(info.dns_names, ElementsAre("api.example.com", "v2.example.com"));
  EXPECT_THAT(info.ip_addresses, ElementsAre("10.1.1.1"));
  ASSERT_OK_AND_ASSIGN(X509Ptr cert, ParseCertificatePem(issued.certificate));
  EXPECT_TRUE(CertificateMatchesKey(cert.get(), key.get()));
  ASSERT_OK_AND_ASSIGN(std::string bundle, ca_->CaChainPem());
  EXPECT_OK(VerifyNow(issued, bundle, "v2.example.com"));
}

TEST_F(CaServiceTest, SignChecksTheCsrAgainstTheRole) {
  MakeRoot();
  MakeRole("web", R"({"allowed_domains": ["example.com"], "allow_subdomains": true,
                      "key_type": "ec"})");
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr rsa, GenerateKey(KeyType::kRsa2048));
  SignRequest req;
  ASSERT_OK_AND_ASSIGN(req.csr, BuildCsrPem({"api.example.com", {}, {}}, rsa.get()));
  EXPECT_THAT(ca_->Sign("web", req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("requires ec-p256")));
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr ec, GenerateKey(KeyType::kEcP256));
  ASSERT_OK_AND_ASSIGN(req.csr, BuildCsrPem({"api.example.com", {"evil.org"}, {}}, ec.get()));
  EXPECT_THAT(ca_->Sign("web", req),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("evil.org")));
  req.csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  EXPECT_THAT(ca_->Sign("web", req), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaServiceTest, RoleAnySignsEveryKeyType) {
  MakeRoot();
  MakeRole("any", R"({"allow_any_name": true, "key_type": "any"})");
  for (KeyType t : {KeyType::kEd25519, KeyType::kRsa3072}) {
    ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(t));
    SignRequest req;
    ASSERT_OK_AND_ASSIGN(req.csr, BuildCsrPem({"a.test", {}, {}}, key.get()));
    ASSERT_OK_AND_ASSIGN(IssuedCertificate issued, ca_->Sign("any", req));
    EXPECT_EQ(Describe(issued.certificate).key_type, t);
  }
}

// --- intermediates and imports ----------------------------------------------------------------

TEST_F(CaServiceTest, IntermediateSignedByTheRootIssuesVerifiableChains) {
  IssuerInfo root = MakeRoot("Root", KeyType::kEcP384, "root");
  IntermediateCsrRequest csr_req;
  csr_req.common_name = "Issuing CA 1";
  csr_req.key_type = KeyType::kEcP256;
  ASSERT_OK_AND_ASSIGN(IntermediateCsr csr, ca_->GenerateIntermediateCsr(csr_req));
  EXPECT_FALSE(csr.private_key.has_value());
  SignIntermediateRequest sign;
  sign.csr = csr.csr;
  sign.issuer_ref = "root";
  sign.ttl = absl::Hours(24 * 100);
  ASSERT_OK_AND_ASSIGN(IssuedCertificate mid_cert, ca_->SignIntermediate(sign));
  EXPECT_TRUE(Describe(mid_cert.certificate).is_ca);
  ASSERT_OK_AND_ASSIGN(IssuerInfo mid, ca_->SetSignedIntermediate(mid_cert.certificate, "mid"));
  EXPECT_THAT(mid.ca_chain, ElementsAre(mid.certificate, root.certificate));
  EXPECT_FALSE(mid.is_default);  // the root was first
  ASSERT_OK(ca_->SetDefaultIssuer("mid"));

  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssuedCertificate leaf = MustIssue("web", Req("a.test"));
  EXPECT_EQ(leaf.issuer_id, mid.issuer_id);
  EXPECT_THAT(leaf.ca_chain, ElementsAre(mid.certificate, root.certificate));
  // A client that trusts only the root accepts the leaf with the chain.
  EXPECT_OK(VerifyNow(leaf, root.certificate, "a.test"));
  // The pending key was used up.
  EXPECT_THAT(ca_->SetSignedIntermediate(mid_cert.certificate),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CaServiceTest, SetSignedRefusesACertificateForAnotherKey) {
  MakeRoot();
  IntermediateCsrRequest csr_req;
  csr_req.common_name = "Mid";
  csr_req.key_type = KeyType::kEcP256;
  ASSERT_OK(ca_->GenerateIntermediateCsr(csr_req).status());
  ASSERT_OK_AND_ASSIGN(std::string root_pem, ca_->CaPem());
  EXPECT_THAT(ca_->SetSignedIntermediate(root_pem),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("pending")));
}

TEST_F(CaServiceTest, ImportsAnExistingCaAndIssuesFromIt) {
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, GenerateKey(KeyType::kRsa2048));
  CertificateSpec spec;
  spec.common_name = "Corp CA";
  spec.serial = RandomSerial(random_);
  spec.not_before = clock_.Now() - absl::Hours(1);
  spec.not_after = clock_.Now() + absl::Hours(24 * 365);
  spec.is_ca = true;
  ASSERT_OK_AND_ASSIGN(X509Ptr cert, SignCertificate(spec, key.get(), nullptr, key.get()));
  ASSERT_OK_AND_ASSIGN(std::string cert_pem, CertificateToPem(cert.get()));
  ASSERT_OK_AND_ASSIGN(SecretBytes key_pem, PrivateKeyToPem(key.get()));

  EXPECT_THAT(ca_->ImportIssuer(SecretBytes(cert_pem)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("private key")));
  ASSERT_OK_AND_ASSIGN(IssuerInfo imported,
                       ca_->ImportIssuer(SecretBytes(StrCat(key_pem.Reveal(), cert_pem)), "corp"));
  EXPECT_TRUE(imported.is_default);
  EXPECT_EQ(imported.common_name, "Corp CA");
  EXPECT_EQ(imported.key_type, "rsa-2048");
  // Importing again gives the same issuer.
  ASSERT_OK_AND_ASSIGN(IssuerInfo again,
                       ca_->ImportIssuer(SecretBytes(StrCat(cert_pem, key_pem.Reveal()))));
  EXPECT_EQ(again.issuer_id, imported.issuer_id);

  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  EXPECT_OK(VerifyNow(MustIssue("web", Req("a.test")), cert_pem));
}

TEST_F(CaServiceTest, ImportRefusesALeafCertificate) {
  MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssuedCertificate leaf = MustIssue("web", Req("a.test"));
  EXPECT_THAT(ca_->ImportIssuer(SecretBytes(StrCat(leaf.private_key->Reveal(), leaf.certificate))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a CA")));
}

TEST_F(CaServiceTest, ExportedRootReturnsItsKeyOnce) {
  GenerateRootRequest req;
  req.common_name = "Root";
  req.key_type = KeyType::kEd25519;
  req.exported = true;
  ASSERT_OK_AND_ASSIGN(GeneratedIssuer root, ca_->GenerateRoot(req));
  ASSERT_TRUE(root.private_key.has_value());
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, ParsePrivateKeyPem(*root.private_key));
  ASSERT_OK_AND_ASSIGN(X509Ptr cert, ParseCertificatePem(root.issuer.certificate));
  EXPECT_TRUE(CertificateMatchesKey(cert.get(), key.get()));
  req.exported = false;
  req.common_name = "Root 2";
  ASSERT_OK_AND_ASSIGN(GeneratedIssuer second, ca_->GenerateRoot(req));
  EXPECT_FALSE(second.private_key.has_value());
}

// --- issuers ----------------------------------------------------------------------------------

TEST_F(CaServiceTest, IssuersAreFoundByIdNameAndDefault) {
  IssuerInfo first = MakeRoot("First", KeyType::kEcP256, "first");
  IssuerInfo second = MakeRoot("Second", KeyType::kEcP256, "second");
  EXPECT_TRUE(first.is_default);
  EXPECT_FALSE(second.is_default);
  ASSERT_OK_AND_ASSIGN(IssuerInfo by_name, ca_->ReadIssuer("second"));
  EXPECT_EQ(by_name.issuer_id, second.issuer_id);
  ASSERT_OK_AND_ASSIGN(IssuerInfo by_id, ca_->ReadIssuer(second.issuer_id));
  EXPECT_EQ(by_id.issuer_name, "second");
  ASSERT_OK_AND_ASSIGN(IssuerInfo def, ca_->ReadIssuer("default"));
  EXPECT_EQ(def.issuer_id, first.issuer_id);
  EXPECT_THAT(ca_->ReadIssuer("third"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<IssuerInfo> all, ca_->ListIssuers());
  ASSERT_THAT(all, SizeIs(2));
  EXPECT_EQ(all[0].issuer_id, first.issuer_id);

  GenerateRootRequest dup;
  dup.common_name = "Dup";
  dup.key_type = KeyType::kEcP256;
  dup.issuer_name = "first";
  EXPECT_THAT(ca_->GenerateRoot(dup), StatusIs(absl::StatusCode::kAlreadyExists));
  dup.issuer_name = "default";
  EXPECT_THAT(ca_->GenerateRoot(dup), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaServiceTest, RoleCanPinAnIssuer) {
  MakeRoot("First", KeyType::kEcP256, "first");
  IssuerInfo second = MakeRoot("Second", KeyType::kEcP256, "second");
  MakeRole("pinned", R"({"allow_any_name": true, "key_type": "ec", "issuer_ref": "second"})");
  EXPECT_EQ(MustIssue("pinned", Req("a.test")).issuer_id, second.issuer_id);
}

TEST_F(CaServiceTest, StateSurvivesANewServiceOnTheSameStore) {
  IssuerInfo root = MakeRoot();
  MakeRole("web", R"({"allow_any_name": true, "key_type": "ec"})");
  IssuedCertificate first = MustIssue("web", Req("a.test"));

  FakeRandom other_random(99);
  CaService reopened(store_, clock_, other_random, options_);
  ASSERT_OK_AND_ASSIGN(IssuerInfo def, reopened.ReadIssuer("default"));
  EXPECT_EQ(def.issuer_id, root.issuer_id);
  ASSERT_OK_AND_ASSIGN(Role role, reopened.ReadRole("web"));
  EXPECT_TRUE(role.allow_any_name);
  ASSERT_OK_AND_ASSIGN(CertificateEntry entry, reopened.ReadCertificate(first.serial_number));
  EXPECT_EQ(entry.certificate, first.certificate);
  ASSERT_OK_AND_ASSIGN(IssuedCertificate second, reopened.Issue("web", Req("b.test")));
  EXPECT_EQ(second.issuer_id, root.issuer_id);
}

// --- roles ------------------------------------------------------------------------------------

TEST_F(CaServiceTest, RoleCrud) {
  MakeRole("b", R"({"allow_any_name": true})");
  MakeRole("a", R"({"allowed_domains": "x.com"})");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ca_->ListRoles());
  EXPECT_THAT(names, ElementsAre("a", "b"));
  ASSERT_OK_AND_ASSIGN(Role a, ca_->ReadRole("a"));
  EXPECT_THAT(a.allowed_domains, ElementsAre("x.com"));
  ASSERT_OK(ca_->DeleteRole("a"));
  EXPECT_THAT(ca_->ReadRole("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(ca_->DeleteRole("a"));
  boost::json::object bad;
  bad["key_bits"] = 1;
  bad["ttl"] = "x";
  EXPECT_THAT(
      ca_->WriteRoleJson("c", bad),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("key_bits"), HasSubstr("ttl"))));
}

}  // namespace
}  // namespace rekey::pki
