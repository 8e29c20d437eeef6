// JwtService tests over a MemoryStore with a fake clock: keysets, sign and verify (each algorithm,
// kid selection, expiry, tampering, a removed key), the rotation phases, and a verifier that
// caches the JWKS for its max-age through many rotations.
#include "jwt/jwt_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>
#include <set>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::jwt {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

MATCHER_P(IsOkAndHolds, inner, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

json::object Claims(std::string_view text) { return json::parse(text).as_object(); }

class JwtServiceTest : public ::testing::Test {
 protected:
  KeysetConfig Config(Algorithm alg = Algorithm::kEs256) {
    KeysetConfig c;
    c.alg = alg;
    c.jwks_cache_ttl = absl::Seconds(10);
    c.max_token_ttl = absl::Seconds(60);
    c.prepublish = absl::Seconds(12);
    return c;
  }
  std::string Create(std::string_view name, Algorithm alg = Algorithm::kEs256) {
    absl::StatusOr<JwtService::Created> c = jwt_.CreateKeyset(name, Config(alg));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->view.active_kid : "";
  }
  std::string SignNow(std::string_view name, absl::Duration ttl = absl::Seconds(30)) {
    absl::StatusOr<SignedToken> t = jwt_.Sign(name, Claims(R"({"sub":"alice"})"), ttl);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->token : "";
  }
  std::string KidOf(std::string_view token) {
    absl::StatusOr<ParsedJws> p = ParseCompact(token);
    return p.ok() ? p->kid : "";
  }
  KeyStatus StatusOf(std::string_view name, std::string_view kid) {
    absl::StatusOr<KeysetView> v = jwt_.GetKeyset(name);
    EXPECT_TRUE(v.ok());
    for (const KeyView& k : v->keys) {
      if (k.kid == kid) return k.status;
    }
    ADD_FAILURE() << "no key " << kid;
    return KeyStatus::kRemoved;
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  JwtService jwt_{store_, clock_, random_};
};

TEST_F(JwtServiceTest, CreateMakesOneActiveKeyAndIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(JwtService::Created c, jwt_.CreateKeyset("app", Config()));
  EXPECT_TRUE(c.created);
  EXPECT_THAT(c.view.keys, SizeIs(1));
  EXPECT_EQ(c.view.keys[0].status, KeyStatus::kActive);
  EXPECT_EQ(c.view.active_kid, c.view.keys[0].kid);
  EXPECT_THAT(c.view.published_kids, ElementsAre(c.view.active_kid));
  ASSERT_OK_AND_ASSIGN(JwtService::Created again, jwt_.CreateKeyset("app", Config()));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.view.active_kid, c.view.active_kid);
  KeysetConfig other = Config();
  other.max_token_ttl = absl::Seconds(61);
  EXPECT_THAT(jwt_.CreateKeyset("app", other), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(jwt_.CreateKeyset("a/b", Config()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(jwt_.GetKeyset("missing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(jwt_.ListKeysets(), IsOkAndHolds(ElementsAre("app")));
}

TEST_F(JwtServiceTest, KeysetsAreStoredAndReadBackByANewService) {
  const std::string kid = Create("app", Algorithm::kRs256);
  const std::string token = SignNow("app");
  JwtService fresh(store_, clock_, random_);
  ASSERT_OK_AND_ASSIGN(KeysetView v, fresh.GetKeyset("app"));
  EXPECT_EQ(v.active_kid, kid);
  EXPECT_EQ(v.config.alg, Algorithm::kRs256);
  EXPECT_OK(fresh.Verify("app", token).status());
  ASSERT_OK_AND_ASSIGN(JwksDocument a, jwt_.Jwks("app"));
  ASSERT_OK_AND_ASSIGN(JwksDocument b, fresh.Jwks("app"));
  EXPECT_EQ(a.body, b.body);
}

TEST_F(JwtServiceTest, TheStoredRecordHoldsNoPlainKeyWhenTheStoreIsTheBarrier) {
  // The service writes only under its prefix; the barrier (EncryptedStore) encrypts it.
  Create("app");
  ASSERT_OK_AND_ASSIGN(std::vector<storage::Record> all, store_.Scan("", "", 0));
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].key, "jwt/keysets/app");
}

class EachAlgServiceTest : public JwtServiceTest,
                           public ::testing::WithParamInterface<Algorithm> {};

TEST_P(EachAlgServiceTest, SignedTokensVerifyWithTheirClaims) {
  const std::string kid = Create("app", GetParam());
  ASSERT_OK_AND_ASSIGN(
      SignedToken t,
      jwt_.Sign("app", Claims(R"({"sub":"alice","aud":["api","web"],"n":{"x":[1,2]}})"),
                absl::Seconds(30)));
  EXPECT_EQ(t.kid, kid);
  EXPECT_EQ(t.issued_at, absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now())));
  EXPECT_EQ(t.expires_at, t.issued_at + absl::Seconds(30));
  EXPECT_FALSE(t.ttl_capped);
  ASSERT_OK_AND_ASSIGN(ParsedJws jws, ParseCompact(t.token));
  EXPECT_EQ(jws.alg, AlgorithmName(GetParam()));
  EXPECT_EQ(jws.kid, kid);
  EXPECT_EQ(jws.header.at("typ"), "JWT");
  ASSERT_OK_AND_ASSIGN(VerifiedToken v, jwt_.Verify("app", t.token, {.audience = "web"}));
  EXPECT_EQ(v.kid, kid);
  EXPECT_EQ(v.claims.at("sub"), "alice");
  EXPECT_EQ(v.claims.at("n").at("x").as_array().size(), 2u);
  EXPECT_EQ(v.claims.at("iat").as_int64(), absl::ToUnixSeconds(t.issued_at));
  EXPECT_EQ(v.claims.at("exp").as_int64(), absl::ToUnixSeconds(t.expires_at));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, EachAlgServiceTest,
                         ::testing::Values(Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEdDsa),
                         [](const ::testing::TestParamInfo<Algorithm>& info) {
                           return std::string(AlgorithmName(info.param));
                         });

TEST_F(JwtServiceTest, TtlDefaultsToAndIsCappedByMaxTokenTtl) {
  Create("app");
  ASSERT_OK_AND_ASSIGN(SignedToken d, jwt_.Sign("app", {}, absl::ZeroDuration()));
  EXPECT_EQ(d.expires_at - d.issued_at, absl::Seconds(60));
  ASSERT_OK_AND_ASSIGN(SignedToken capped, jwt_.Sign("app", {}, absl::Hours(5)));
  EXPECT_TRUE(capped.ttl_capped);
  EXPECT_EQ(capped.expires_at - capped.issued_at, absl::Seconds(60));
  EXPECT_THAT(jwt_.Sign("app", {}, absl::Seconds(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(JwtServiceTest, ReservedAndMalformedClaimsAreRefused) {
  Create("app");
  EXPECT_THAT(jwt_.Sign("app", Claims(R"({"exp":1})"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"exp\"")));
  EXPECT_THAT(jwt_.Sign("app", Claims(R"({"iat":1})"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"iat\"")));
  EXPECT_THAT(jwt_.Sign("app", Claims(R"({"nbf":"soon"})"), absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nbf")));
  json::object big;
  big["blob"] = std::string(kMaxClaimsSize, 'x');
  EXPECT_THAT(jwt_.Sign("app", big, absl::Seconds(5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer")));
}

TEST_F(JwtServiceTest, TheKeysetIssuerIsAddedUnlessTheClaimsHaveOne) {
  KeysetConfig c = Config();
  c.issuer = "https://rekey.example";
  ASSERT_OK(jwt_.CreateKeyset("app", c).status());
  ASSERT_OK_AND_ASSIGN(SignedToken t, jwt_.Sign("app", {}, absl::Seconds(5)));
  ASSERT_OK_AND_ASSIGN(VerifiedToken v,
                       jwt_.Verify("app", t.token, {.issuer = "https://rekey.example"}));
  EXPECT_EQ(v.claims.at("iss"), "https://rekey.example");
  ASSERT_OK_AND_ASSIGN(SignedToken own,
                       jwt_.Sign("app", Claims(R"({"iss":"me"})"), absl::Seconds(5)));
  EXPECT_THAT(jwt_.Verify("app", own.token, {.issuer = "https://rekey.example"}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("iss")));
  EXPECT_THAT(jwt_.Verify("app", t.token, {.audience = "api"}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("aud")));
}

TEST_F(JwtServiceTest, ExpiredAndNotYetValidTokensFail) {
  Create("app");
  const std::string token = SignNow("app", absl::Seconds(30));
  clock_.Advance(absl::Seconds(29));
  EXPECT_OK(jwt_.Verify("app", token).status());
  clock_.Advance(absl::Seconds(1));  // now == exp
  EXPECT_THAT(jwt_.Verify("app", token),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("expired")));
  json::object claims;
  claims["nbf"] = absl::ToUnixSeconds(clock_.Now()) + 10;
  ASSERT_OK_AND_ASSIGN(SignedToken later, jwt_.Sign("app", claims, absl::Seconds(30)));
  EXPECT_THAT(jwt_.Verify("app", later.token),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("nbf")));
  clock_.Advance(absl::Seconds(10));
  EXPECT_OK(jwt_.Verify("app", later.token).status());
}

TEST_F(JwtServiceTest, TamperedForeignAndConfusedTokensFail) {
  const std::string kid = Create("app", Algorithm::kRs256);
  Create("other", Algorithm::kRs256);
  const std::string token = SignNow("app");
  // A changed claim.
  ASSERT_OK_AND_ASSIGN(ParsedJws jws, ParseCompact(token));
  const size_t dot = token.find('.');
  const std::string forged =
      StrCat(token.substr(0, dot), ".", Base64UrlEncode(R"({"sub":"mallory","exp":9999999999})"),
             token.substr(token.rfind('.')));
  EXPECT_THAT(jwt_.Verify("app", forged),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("signature")));
  // Another keyset's token: its kid is unknown here.
  EXPECT_THAT(jwt_.Verify("app", SignNow("other")),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("unknown kid")));
  // The right kid with another algorithm ("alg":"EdDSA" signed by an Ed25519 key).
  ASSERT_OK_AND_ASSIGN(SigningKey ed, SigningKey::Generate(Algorithm::kEdDsa));
  ASSERT_OK_AND_ASSIGN(std::string confused, SignCompact(ed, kid, jws.payload));
  EXPECT_THAT(jwt_.Verify("app", confused),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("alg")));
  // "alg":"none" with an empty signature.
  const std::string none = StrCat(Base64UrlEncode(StrCat(R"({"alg":"none","kid":")", kid, R"("})")),
                                  ".", Base64UrlEncode(jws.payload), ".");
  EXPECT_THAT(jwt_.Verify("app", none), StatusIs(absl::StatusCode::kUnauthenticated));
  // No kid.
  const std::string no_kid = StrCat(Base64UrlEncode(R"({"alg":"RS256"})"), ".",
                                    Base64UrlEncode(jws.payload), ".", Base64UrlEncode("x"));
  EXPECT_THAT(jwt_.Verify("app", no_kid),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("kid")));
  EXPECT_THAT(jwt_.Verify("app", "not.a-token"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(jwt_.Verify("missing", token), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(JwtServiceTest, APublishedKeyIsInTheJwksButSignsOnlyAfterThePrepublicationPeriod) {
  const std::string old_kid = Create("app");
  ASSERT_OK_AND_ASSIGN(JwksDocument before, jwt_.Jwks("app"));
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "run-1/1"));
  EXPECT_EQ(fresh.status, KeyStatus::kPublished);
  ASSERT_OK_AND_ASSIGN(JwksDocument after, jwt_.Jwks("app"));
  EXPECT_NE(before.etag, after.etag);
  EXPECT_EQ(after.max_age, absl::Seconds(10));
  EXPECT_THAT(after.body, HasSubstr(fresh.kid));
  EXPECT_EQ(KidOf(SignNow("app")), old_kid);

  clock_.Advance(absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(KeyView scheduled, jwt_.SchedulePromotion("app", fresh.kid));
  EXPECT_EQ(scheduled.promoted, fresh.published + absl::Seconds(12));
  EXPECT_EQ(scheduled.status, KeyStatus::kPublished);
  clock_.Advance(absl::Seconds(6));  // 11 s after publication
  EXPECT_EQ(KidOf(SignNow("app")), old_kid);
  clock_.Advance(absl::Seconds(1));  // 12 s: the new key signs, the old one retires
  EXPECT_EQ(KidOf(SignNow("app")), fresh.kid);
  EXPECT_EQ(StatusOf("app", fresh.kid), KeyStatus::kActive);
  EXPECT_EQ(StatusOf("app", old_kid), KeyStatus::kRetiring);
  ASSERT_OK_AND_ASSIGN(KeysetView v, jwt_.GetKeyset("app"));
  EXPECT_EQ(v.active_kid, fresh.kid);
  EXPECT_THAT(v.published_kids, ElementsAre(old_kid, fresh.kid));
}

TEST_F(JwtServiceTest, PromotionIsNeverEarlierThanPrepublishEvenWhenScheduledLate) {
  Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "r"));
  clock_.Advance(absl::Seconds(100));
  ASSERT_OK_AND_ASSIGN(KeyView scheduled, jwt_.SchedulePromotion("app", fresh.kid));
  EXPECT_EQ(scheduled.promoted, clock_.Now());  // already published long enough
  EXPECT_EQ(scheduled.status, KeyStatus::kActive);
  // Idempotent: asking again keeps the time.
  clock_.Advance(absl::Seconds(3));
  ASSERT_OK_AND_ASSIGN(KeyView again, jwt_.SchedulePromotion("app", fresh.kid));
  EXPECT_EQ(again.promoted, scheduled.promoted);
}

TEST_F(JwtServiceTest, PublishKeyIsIdempotentPerRequest) {
  Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView a, jwt_.PublishKey("app", "run-7/1"));
  ASSERT_OK_AND_ASSIGN(KeyView b, jwt_.PublishKey("app", "run-7/1"));
  EXPECT_EQ(a.kid, b.kid);
  ASSERT_OK_AND_ASSIGN(KeyView c, jwt_.PublishKey("app", "run-7/2"));
  EXPECT_NE(a.kid, c.kid);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyView> found, jwt_.FindKeyByRequest("app", "run-7/1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->kid, a.kid);
  ASSERT_OK_AND_ASSIGN(std::optional<KeyView> none, jwt_.FindKeyByRequest("app", "nope"));
  EXPECT_FALSE(none.has_value());
}

TEST_F(JwtServiceTest, RemovalWaitsForTheOldKeysTokensToExpire) {
  const std::string old_kid = Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "r"));
  EXPECT_THAT(jwt_.ScheduleRemoval("app", old_kid),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("still signs")));
  ASSERT_OK(jwt_.SchedulePromotion("app", fresh.kid).status());
  clock_.Advance(absl::Seconds(11));
  const std::string last_old = SignNow("app", absl::Seconds(60));  // signed 1 s before retiring
  EXPECT_EQ(KidOf(last_old), old_kid);
  clock_.Advance(absl::Seconds(1));
  const absl::Time retired = clock_.Now();
  ASSERT_OK_AND_ASSIGN(std::vector<KeyView> removed, jwt_.ScheduleRemoval("app", old_kid));
  ASSERT_THAT(removed, SizeIs(1));
  EXPECT_EQ(removed[0].kid, old_kid);
  EXPECT_EQ(removed[0].removed, retired + absl::Seconds(60));
  // Idempotent.
  EXPECT_THAT(jwt_.ScheduleRemoval("app", old_kid), IsOkAndHolds(SizeIs(0)));
  clock_.Advance(absl::Seconds(58));
  EXPECT_OK(jwt_.Verify("app", last_old).status());  // still valid, still in the JWKS
  EXPECT_EQ(StatusOf("app", old_kid), KeyStatus::kRetiring);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(StatusOf("app", old_kid), KeyStatus::kRemoved);
  ASSERT_OK_AND_ASSIGN(JwksDocument jwks, jwt_.Jwks("app"));
  EXPECT_THAT(jwks.body, Not(HasSubstr(old_kid)));
  EXPECT_THAT(jwt_.Verify("app", last_old),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("unknown kid")));
}

TEST_F(JwtServiceTest, ATokenOfARemovedKeyFailsEvenBeforeItExpires) {
  Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "run-9/1"));
  ASSERT_OK_AND_ASSIGN(SignedToken t, jwt_.SignWithKey("app", fresh.kid, Claims(R"({"sub":"t"})"),
                                                       absl::Seconds(60)));
  EXPECT_OK(jwt_.Verify("app", t.token).status());
  ASSERT_OK(jwt_.CancelKey("app", "run-9/1"));
  EXPECT_EQ(StatusOf("app", fresh.kid), KeyStatus::kRemoved);
  EXPECT_THAT(jwt_.Verify("app", t.token),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("unknown kid")));
  EXPECT_THAT(jwt_.SignWithKey("app", fresh.kid, {}, absl::Seconds(5)),
              StatusIs(absl::StatusCode::kNotFound));
  // The material is gone from the stored record too.
  JwtService fresh_service(store_, clock_, random_);
  ASSERT_OK_AND_ASSIGN(KeysetView v, fresh_service.GetKeyset("app"));
  EXPECT_THAT(v.published_kids, SizeIs(1));
}

TEST_F(JwtServiceTest, CancellingAScheduledKeyKeepsThePredecessorSigning) {
  const std::string old_kid = Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "r"));
  ASSERT_OK(jwt_.SchedulePromotion("app", fresh.kid).status());
  ASSERT_OK(jwt_.CancelKey("app", "r"));
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(KidOf(SignNow("app")), old_kid);
  EXPECT_EQ(StatusOf("app", old_kid), KeyStatus::kActive);
  EXPECT_OK(jwt_.CancelKey("app", "r"));        // idempotent
  EXPECT_OK(jwt_.CancelKey("app", "unknown"));  // nothing to undo
}

TEST_F(JwtServiceTest, CancellingAKeyThatAlreadySignsHandsBackAndKeepsItsTokensValid) {
  const std::string old_kid = Create("app");
  ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", "r"));
  ASSERT_OK(jwt_.SchedulePromotion("app", fresh.kid).status());
  clock_.Advance(absl::Seconds(12));
  const std::string by_new = SignNow("app");
  ASSERT_EQ(KidOf(by_new), fresh.kid);
  ASSERT_OK(jwt_.CancelKey("app", "r"));
  EXPECT_EQ(KidOf(SignNow("app")), old_kid);
  EXPECT_EQ(StatusOf("app", fresh.kid), KeyStatus::kRetiring);
  EXPECT_OK(jwt_.Verify("app", by_new).status());
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(StatusOf("app", fresh.kid), KeyStatus::kRemoved);
}

// The Done-when of issue 6 at unit scale: a verifier that refreshes its JWKS only when its cached
// copy is older than max-age (and never on an unknown kid) accepts every token signed before,
// during and after 20 rotations, each token checked when minted and again just before it expires.
TEST_F(JwtServiceTest, ACachingVerifierSeesNoFailureThrough20Rotations) {
  Create("app");
  const absl::Duration step = absl::Milliseconds(500);
  std::set<std::string> cached;
  absl::Time fetched = absl::InfinitePast();
  auto verify = [&](const std::string& token) {
    if (clock_.Now() - fetched >= absl::Seconds(10)) {
      absl::StatusOr<JwksDocument> doc = jwt_.Jwks("app");
      ASSERT_OK(doc.status());
      cached.clear();
      const json::value parsed = json::parse(doc->body);
      for (const json::value& k : parsed.at("keys").as_array()) {
        cached.insert(std::string(k.at("kid").as_string()));
      }
      fetched = clock_.Now();
    }
    EXPECT_TRUE(cached.contains(KidOf(token)))
        << "kid not in the cached JWKS at " << absl::FormatTime(clock_.Now());
    EXPECT_OK(jwt_.Verify("app", token).status());
  };
  struct Pending {
    std::string token;
    absl::Time recheck;
  };
  std::deque<Pending> pending;
  int verified = 0;
  std::set<std::string> signers;
  auto tick = [&] {
    clock_.Advance(step);
    const std::string token = SignNow("app", absl::Seconds(60));
    signers.insert(KidOf(token));
    verify(token);
    pending.push_back({token, clock_.Now() + absl::Seconds(59)});
    while (!pending.empty() && pending.front().recheck <= clock_.Now()) {
      verify(pending.front().token);
      pending.pop_front();
    }
    verified += 1;
  };
  for (int rotation = 1; rotation <= 20; ++rotation) {
    const std::string request = StrCat("run-", rotation, "/1");
    ASSERT_OK_AND_ASSIGN(KeyView fresh, jwt_.PublishKey("app", request));
    for (int i = 0; i < 4; ++i) tick();
    ASSERT_OK(jwt_.SchedulePromotion("app", fresh.kid).status());
    while (StatusOf("app", fresh.kid) != KeyStatus::kActive) tick();
    for (int i = 0; i < 120; ++i) tick();  // grace >= max_token_ttl
    ASSERT_OK(jwt_.ScheduleRemoval("app", "").status());
  }
  for (int i = 0; i < 150; ++i) tick();
  EXPECT_EQ(signers.size(), 21u);
  EXPECT_GT(verified, 2000);
  ASSERT_OK_AND_ASSIGN(KeysetView v, jwt_.GetKeyset("app"));
  EXPECT_THAT(v.published_kids, SizeIs(1));
}

}  // namespace
}  // namespace rekey::jwt
