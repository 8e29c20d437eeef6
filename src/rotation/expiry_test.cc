// Certificate expiry awareness: finding certificates in values (with certificates made here),
// the once-per-threshold decision, and the engine's scan and status on a fake clock.
#include "rotation/expiry.h"

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pki/cert_builder.h"
#include "pki/keys.h"
#include "pki/x509.h"
#include "rotation/engine.h"
#include "rotation/testing/fault_rotator.h"
#include "secrets/secrets_service.h"
#include "storage/memory_store.h"

namespace rekey::rotation {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kDay = absl::Hours(24);

// A self-signed PEM certificate valid until `not_after` (whole seconds).
std::string CertPem(absl::Time not_after, const std::string& cn = "svc.example") {
  absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateKey(pki::KeyType::kEcP256);
  EXPECT_OK(key.status());
  pki::CertificateSpec spec;
  spec.common_name = cn;
  spec.serial = std::string("\x41\x02\x03\x04\x05\x06\x07\x08", 8);
  spec.not_before = not_after - 400 * kDay;
  spec.not_after = not_after;
  absl::StatusOr<pki::X509Ptr> cert = pki::SignCertificate(spec, key->get(), nullptr, key->get());
  EXPECT_OK(cert.status());
  absl::StatusOr<std::string> pem = pki::CertificateToPem(cert->get());
  EXPECT_OK(pem.status());
  return *pem;
}

SecretBytes Value(const json::object& o) { return SecretBytes(json::serialize(o)); }

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(CertificateNotAfterTest, NoCertificateIsInfiniteFuture) {
  EXPECT_EQ(CertificateNotAfter(SecretBytes(R"({"password":"hunter2"})")), absl::InfiniteFuture());
  EXPECT_EQ(CertificateNotAfter(SecretBytes("not json")), absl::InfiniteFuture());
}

TEST(CertificateNotAfterTest, FindsPemLeafInStringField) {
  json::object o;
  o["certificate"] = CertPem(kT0 + 40 * kDay);
  o["private_key"] = "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(CertificateNotAfter(Value(o)), kT0 + 40 * kDay);
}

TEST(CertificateNotAfterTest, FirstBlockOfAFieldIsTheLeaf) {
  json::object o;
  // Leaf expires later than its (fake) chain certificate: only the leaf counts.
  o["fullchain"] = CertPem(kT0 + 90 * kDay) + CertPem(kT0 + 5 * kDay, "ca.example");
  EXPECT_EQ(CertificateNotAfter(Value(o)), kT0 + 90 * kDay);
}

TEST(CertificateNotAfterTest, EarliestOfSeveralFieldsAndNested) {
  json::object o;
  o["a"] = CertPem(kT0 + 60 * kDay);
  json::object nested;
  nested["cert"] = CertPem(kT0 + 20 * kDay);
  o["b"] = json::array{json::value(nested)};
  EXPECT_EQ(CertificateNotAfter(Value(o)), kT0 + 20 * kDay);
}

TEST(CertificateNotAfterTest, ReadsNotAfterFields) {
  EXPECT_EQ(CertificateNotAfter(SecretBytes(R"({"not_after":"2030-01-02T03:04:05Z"})")),
            absl::FromUnixSeconds(1893553445));
  EXPECT_EQ(CertificateNotAfter(SecretBytes(R"({"not_after":1893553445})")),
            absl::FromUnixSeconds(1893553445));
}

TEST(CertificateNotAfterTest, RawPemValue) {
  EXPECT_EQ(CertificateNotAfter(SecretBytes(CertPem(kT0 + 3 * kDay))), kT0 + 3 * kDay);
}

TEST(CertificateNotAfterTest, MalformedPemIsSkipped) {
  json::object o;
  o["certificate"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(CertificateNotAfter(Value(o)), absl::InfiniteFuture());
}

TEST(CheckExpiryTest, OncePerThresholdThenExpired) {
  const absl::Time na = kT0 + 40 * kDay;
  ExpiryRecord r;
  const std::vector<absl::Duration> th = DefaultExpiryWarnings();
  EXPECT_FALSE(CheckExpiry(na, kT0, th, r).has_value());
  std::optional<ExpiryNotice> n = CheckExpiry(na, kT0 + 11 * kDay, th, r);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->type, "certificate.expiring");
  EXPECT_THAT(n->message, HasSubstr("within 30d"));
  EXPECT_THAT(n->message, HasSubstr("2023-12-24T22:13:20Z"));
  EXPECT_FALSE(CheckExpiry(na, kT0 + 12 * kDay, th, r).has_value());
  n = CheckExpiry(na, kT0 + 34 * kDay, th, r);
  ASSERT_TRUE(n.has_value());
  EXPECT_THAT(n->message, HasSubstr("within 7d"));
  n = CheckExpiry(na, kT0 + 40 * kDay - absl::Hours(2), th, r);
  ASSERT_TRUE(n.has_value());
  EXPECT_THAT(n->message, HasSubstr("within 1d"));
  EXPECT_FALSE(CheckExpiry(na, kT0 + 40 * kDay - absl::Hours(1), th, r).has_value());
  n = CheckExpiry(na, kT0 + 40 * kDay, th, r);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->type, "certificate.expired");
  EXPECT_FALSE(CheckExpiry(na, kT0 + 50 * kDay, th, r).has_value());
}

TEST(CheckExpiryTest, SeveralCrossedAtOnceWarnsForTheSmallest) {
  ExpiryRecord r;
  std::optional<ExpiryNotice> n = CheckExpiry(kT0 + 5 * kDay, kT0, DefaultExpiryWarnings(), r);
  ASSERT_TRUE(n.has_value());
  EXPECT_THAT(n->message, HasSubstr("within 7d"));
  EXPECT_FALSE(CheckExpiry(kT0 + 5 * kDay, kT0 + kDay, DefaultExpiryWarnings(), r).has_value());
}

TEST(CheckExpiryTest, RenewedCertificateStartsOver) {
  ExpiryRecord r;
  ASSERT_TRUE(CheckExpiry(kT0 + 5 * kDay, kT0, DefaultExpiryWarnings(), r).has_value());
  EXPECT_FALSE(CheckExpiry(kT0 + 90 * kDay, kT0, DefaultExpiryWarnings(), r).has_value());
  EXPECT_EQ(r.warned, absl::InfiniteDuration());
  EXPECT_TRUE(CheckExpiry(kT0 + 90 * kDay, kT0 + 61 * kDay, DefaultExpiryWarnings(), r));
}

TEST(ExpiryRecordTest, RoundTrips) {
  ExpiryRecord r{.not_after = kT0, .warned = 7 * kDay, .expired = true};
  ASSERT_OK_AND_ASSIGN(ExpiryRecord back, DecodeExpiryRecord(EncodeExpiryRecord(r)));
  EXPECT_EQ(back.not_after, r.not_after);
  EXPECT_EQ(back.warned, r.warned);
  EXPECT_TRUE(back.expired);
  ASSERT_OK_AND_ASSIGN(back, DecodeExpiryRecord(EncodeExpiryRecord(ExpiryRecord{})));
  EXPECT_EQ(back.not_after, absl::InfiniteFuture());
  EXPECT_EQ(back.warned, absl::InfiniteDuration());
  EXPECT_THAT(DecodeExpiryRecord("{}"), ::rekey::testing::StatusIs(absl::StatusCode::kDataLoss));
}

// ---- the engine's scan -----------------------------------------------------------------------

class NoHttp final : public HttpTransport {
 public:
  absl::StatusOr<HttpReply> Send(const HttpCall&) override {
    return absl::UnavailableError("no network in tests");
  }
};

class EngineExpiryTest : public ::testing::Test {
 protected:
  EngineExpiryTest() {
    auto fault = std::make_unique<testing::FaultRotator>();
    target_ = fault.get();
    EXPECT_OK(registry_.Register("fault", std::move(fault)));
    options_.workers = 0;
    options_.spacing.max_jitter = absl::ZeroDuration();
    NewEngine();
  }

  void NewEngine() {
    engine_.reset();
    kv_ = std::make_unique<secrets::SecretsService>(store_, clock_, random_, "secret");
    engine_ =
        std::make_unique<RotationEngine>(store_, *kv_, registry_, clock_, random_, http_, options_);
    ASSERT_OK(engine_->Start());
  }

  // A configured secret whose value holds a certificate expiring at `not_after`.
  void Provision(const std::string& path, absl::Time not_after) {
    json::object v;
    v["value"] = "initial";
    v["certificate"] = CertPem(not_after);
    ASSERT_OK(kv_->Put(path, Value(v), {}).status());
    target_->Accept("initial");
    ASSERT_OK(engine_->SetConfig(path, json::parse(R"({"rotator":"fault"})").as_object()));
  }

  std::vector<std::string> CertEvents(const std::string& path) {
    std::vector<std::string> out;
    for (const Event& e : engine_->events().Since(0, 100000)) {
      if (e.path == path && e.type.starts_with("certificate.")) {
        out.push_back(rekey::StrCat(e.type, " ", e.message));
      }
    }
    return out;
  }

  // Moves the clock to `t` and lets the scheduler scan.
  void TickAt(absl::Time t) {
    clock_.Set(t);
    engine_->Tick();
  }

  storage::MemoryStore store_;
  FakeClock clock_{kT0};
  FakeRandom random_;
  NoHttp http_;
  RotatorRegistry registry_;
  testing::FaultRotator* target_ = nullptr;
  EngineOptions options_;
  std::unique_ptr<secrets::SecretsService> kv_;
  std::unique_ptr<RotationEngine> engine_;
};

TEST_F(EngineExpiryTest, OneEventPerThresholdNoRepeatsAfterRestartThenExpired) {
  const absl::Time na = kT0 + 40 * kDay;
  Provision("app/tls", na);
  TickAt(kT0);
  EXPECT_THAT(CertEvents("app/tls"), IsEmpty());

  TickAt(kT0 + 11 * kDay);  // 29d left
  TickAt(kT0 + 11 * kDay + absl::Hours(2));
  ASSERT_EQ(CertEvents("app/tls").size(), 1u);
  EXPECT_THAT(CertEvents("app/tls")[0], HasSubstr("certificate.expiring"));
  EXPECT_THAT(CertEvents("app/tls")[0], HasSubstr("within 30d"));

  NewEngine();  // a restart scans at once and must not repeat the 30d warning
  TickAt(kT0 + 12 * kDay);
  EXPECT_EQ(CertEvents("app/tls").size(), 1u);

  TickAt(kT0 + 34 * kDay);                   // 6d left
  TickAt(kT0 + 39 * kDay + absl::Hours(1));  // 23h left
  NewEngine();
  TickAt(kT0 + 39 * kDay + absl::Hours(3));
  TickAt(na + absl::Hours(1));
  TickAt(na + absl::Hours(5));
  std::vector<std::string> ev = CertEvents("app/tls");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_THAT(ev[1], HasSubstr("within 7d"));
  EXPECT_THAT(ev[2], HasSubstr("within 1d"));
  EXPECT_THAT(ev[3], HasSubstr("certificate.expired"));
  for (const std::string& e : ev) EXPECT_THAT(e, ::testing::Not(HasSubstr("BEGIN")));
}

TEST_F(EngineExpiryTest, ScansOnlyEveryInterval) {
  Provision("app/tls", kT0 + 7 * kDay + absl::Minutes(10));
  TickAt(kT0);  // scans: 7d10m left -> the 30d warning
  ASSERT_EQ(CertEvents("app/tls").size(), 1u);
  TickAt(kT0 + absl::Minutes(30));  // the 7d threshold is crossed, but no scan is due yet
  EXPECT_EQ(CertEvents("app/tls").size(), 1u);
  TickAt(kT0 + absl::Hours(1));  // an hour after the last scan
  ASSERT_EQ(CertEvents("app/tls").size(), 2u);
  EXPECT_THAT(CertEvents("app/tls")[1], HasSubstr("within 7d"));
}

TEST_F(EngineExpiryTest, UnconfiguredSecretsAreScannedToo) {
  json::object v;
  v["tls_crt"] = CertPem(kT0 + 3 * kDay);
  ASSERT_OK(kv_->Put("other/deep/cert", Value(v), {}).status());
  TickAt(kT0);
  std::vector<std::string> ev = CertEvents("other/deep/cert");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_THAT(ev[0], HasSubstr("within 7d"));
}

TEST_F(EngineExpiryTest, APassIsSpreadOverCallsWithBoundedWork) {
  EventLog events(store_);
  CertificateWatch watch(store_, *kv_, events, DefaultExpiryWarnings(), absl::Hours(1),
                         /*per_call=*/3);
  for (int i = 0; i < 5; ++i) {
    json::object v;
    v["crt"] = CertPem(kT0 + 2 * kDay);
    ASSERT_OK(kv_->Put(rekey::StrCat("many/c", i), Value(v), {}).status());
  }
  auto count = [&] {
    size_t n = 0;
    for (const Event& e : events.Since(0, 1000)) n += e.type == "certificate.expiring" ? 1 : 0;
    return n;
  };
  // 1 List of the root + 1 List of many/ + 5 reads = 7 units: three calls of 3.
  watch.MaybeScan(kT0);
  EXPECT_TRUE(watch.Scanning());
  EXPECT_EQ(count(), 1u);
  watch.MaybeScan(kT0);
  EXPECT_EQ(count(), 4u);
  watch.MaybeScan(kT0);
  EXPECT_EQ(count(), 5u);
  watch.MaybeScan(kT0);  // nothing left: the pass ends
  EXPECT_FALSE(watch.Scanning());
  watch.MaybeScan(kT0 + absl::Minutes(59));  // not due yet
  EXPECT_FALSE(watch.Scanning());
  watch.MaybeScan(kT0 + absl::Hours(1));
  EXPECT_TRUE(watch.Scanning());
}

TEST_F(EngineExpiryTest, StatusReportsCertificateExpiry) {
  Provision("app/tls", kT0 + 12 * kDay);
  Provision("app/plain", kT0);  // replaced below by a value without a certificate
  ASSERT_OK(kv_->Put("app/plain", SecretBytes(R"({"value":"initial"})"), {}).status());
  ASSERT_OK_AND_ASSIGN(SecretStatus s, engine_->StatusOf("app/tls"));
  EXPECT_EQ(s.cert_not_after, kT0 + 12 * kDay);
  ASSERT_OK_AND_ASSIGN(s, engine_->StatusOf("app/plain"));
  EXPECT_EQ(s.cert_not_after, absl::InfiniteFuture());
}

TEST_F(EngineExpiryTest, CustomThresholds) {
  options_.certificate_expiry_warnings = {absl::Hours(12)};
  NewEngine();
  Provision("app/tls", kT0 + 2 * kDay);
  TickAt(kT0 + kDay);  // 1d left: not within 12h
  EXPECT_THAT(CertEvents("app/tls"), IsEmpty());
  TickAt(kT0 + kDay + absl::Hours(13));
  EXPECT_EQ(CertEvents("app/tls").size(), 1u);
}

}  // namespace
}  // namespace rekey::rotation
