// Keyset model tests: settings, the status timeline, the signer, the JWK Set, pruning and the
// stored form.
#include "jwt/keyset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/testing/status_matchers.h"

namespace rekey::jwt {
namespace {

namespace json = boost::json;
using ::rekey::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

KeyRecord MakeKey(std::string kid, Algorithm alg = Algorithm::kEs256) {
  KeyRecord k;
  k.kid = std::move(kid);
  k.created = kT0;
  k.published = kT0;
  absl::StatusOr<SigningKey> key = SigningKey::Generate(alg);
  EXPECT_TRUE(key.ok()) << key.status();
  k.key = *std::move(key);
  return k;
}

TEST(KeysetConfigTest, DefaultsAndLimits) {
  ASSERT_OK_AND_ASSIGN(KeysetConfig c, NormalizeConfig(KeysetConfig{}));
  EXPECT_EQ(c.prepublish, absl::Minutes(5) + absl::Seconds(30));
  EXPECT_EQ(DefaultPrepublish(absl::Seconds(2)), absl::Seconds(3));
  EXPECT_EQ(DefaultPrepublish(absl::Seconds(25)), absl::Seconds(28));

  KeysetConfig bad;
  bad.jwks_cache_ttl = absl::Milliseconds(1500);
  bad.max_token_ttl = absl::ZeroDuration();
  EXPECT_THAT(NormalizeConfig(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("jwks_cache_ttl"), HasSubstr("max_token_ttl"))));
  KeysetConfig short_prepublish;
  short_prepublish.jwks_cache_ttl = absl::Seconds(60);
  short_prepublish.prepublish = absl::Seconds(59);
  EXPECT_THAT(NormalizeConfig(short_prepublish),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prepublish")));
  short_prepublish.prepublish = absl::Seconds(60);
  EXPECT_OK(NormalizeConfig(short_prepublish).status());
}

TEST(KeysetNameTest, AllowsPathSafeNamesOnly) {
  EXPECT_OK(ValidateKeysetName("app-1.prod_eu"));
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", ".", "..", "a/b", "a b", "\xc3\xa9", std::string_view("a\0b", 3)}) {
    EXPECT_THAT(ValidateKeysetName(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ValidateKeysetName(std::string(129, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyRecordTest, StatusFollowsTheTimeline) {
  KeyRecord k = MakeKey("k");
  EXPECT_EQ(k.StatusAt(kT0), KeyStatus::kPublished);  // not scheduled
  k.promote_at = kT0 + absl::Seconds(10);
  k.retire_at = kT0 + absl::Seconds(20);
  k.remove_at = kT0 + absl::Seconds(30);
  EXPECT_EQ(k.StatusAt(kT0 + absl::Seconds(9)), KeyStatus::kPublished);
  EXPECT_EQ(k.StatusAt(kT0 + absl::Seconds(10)), KeyStatus::kActive);
  EXPECT_EQ(k.StatusAt(kT0 + absl::Seconds(19)), KeyStatus::kActive);
  EXPECT_EQ(k.StatusAt(kT0 + absl::Seconds(20)), KeyStatus::kRetiring);
  EXPECT_EQ(k.StatusAt(kT0 + absl::Seconds(30)), KeyStatus::kRemoved);
  EXPECT_EQ(KeyStatusName(KeyStatus::kRetiring), "retiring");
}

TEST(KeysetTest, TheSignerHandsOverAtTheSuccessorsPromotion) {
  Keyset ks;
  ks.keys.push_back(MakeKey("old"));
  ks.keys.push_back(MakeKey("new"));
  ks.keys[0].promote_at = kT0;
  ks.keys[0].retire_at = kT0 + absl::Seconds(10);
  ks.keys[1].promote_at = kT0 + absl::Seconds(10);
  EXPECT_EQ(ks.SignerAt(kT0 + absl::Seconds(9))->kid, "old");
  EXPECT_EQ(ks.SignerAt(kT0 + absl::Seconds(10))->kid, "new");
  ks.keys[1].promote_at = absl::InfiniteFuture();
  ks.keys[0].retire_at = absl::InfiniteFuture();
  EXPECT_EQ(ks.SignerAt(kT0 + absl::Hours(1))->kid, "old");
  ks.keys[0].remove_at = kT0;
  EXPECT_EQ(ks.SignerAt(kT0), nullptr);
}

TEST(KeysetTest, JwksShowsEveryKeyNotRemovedWithKidAlgAndUse) {
  Keyset ks;
  ks.config.alg = Algorithm::kEs256;
  ks.keys.push_back(MakeKey("a"));
  ks.keys.push_back(MakeKey("b"));
  ks.keys.push_back(MakeKey("c"));
  ks.keys[0].remove_at = kT0 + absl::Seconds(5);
  json::value doc = json::parse(ks.JwksJson(kT0 + absl::Seconds(5)));
  const json::array& keys = doc.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("kid"), "b");
  EXPECT_EQ(keys[1].at("kid"), "c");
  for (const json::value& k : keys) {
    EXPECT_EQ(k.at("kty"), "EC");
    EXPECT_EQ(k.at("crv"), "P-256");
    EXPECT_EQ(k.at("alg"), "ES256");
    EXPECT_EQ(k.at("use"), "sig");
    EXPECT_TRUE(k.as_object().contains("x"));
    EXPECT_TRUE(k.as_object().contains("y"));
    EXPECT_FALSE(k.as_object().contains("d"));
  }
  EXPECT_EQ(json::parse(ks.JwksJson(kT0)).at("keys").as_array().size(), 3u);
}

TEST(KeysetTest, PruneDropsMaterialOfRemovedKeysAndKeepsTheNewestTombstones) {
  Keyset ks;
  for (int i = 0; i < 5; ++i) ks.keys.push_back(MakeKey(std::to_string(i)));
  for (int i = 0; i < 4; ++i) ks.keys[i].remove_at = kT0;
  ks.Prune(kT0, 2);
  ASSERT_EQ(ks.keys.size(), 3u);
  EXPECT_EQ(ks.keys[0].kid, "2");
  EXPECT_EQ(ks.keys[1].kid, "3");
  EXPECT_FALSE(ks.keys[0].key.has_value());
  EXPECT_FALSE(ks.keys[1].key.has_value());
  EXPECT_TRUE(ks.keys[2].key.has_value());
}

TEST(KeysetCodecTest, RoundTripsEveryField) {
  for (Algorithm alg : {Algorithm::kRs256, Algorithm::kEs256, Algorithm::kEdDsa}) {
    Keyset ks;
    ks.name = "app";
    ks.config.alg = alg;
    ks.config.jwks_cache_ttl = absl::Seconds(7);
    ks.config.max_token_ttl = absl::Seconds(60);
    ks.config.prepublish = absl::Seconds(9);
    ks.config.issuer = "https://issuer.example";
    ks.created = kT0;
    ks.keys.push_back(MakeKey("one", alg));
    ks.keys.push_back(MakeKey("two", alg));
    ks.keys[0].promote_at = kT0;
    ks.keys[0].retire_at = kT0 + absl::Milliseconds(1500);
    ks.keys[0].remove_at = kT0 + absl::Seconds(99);
    ks.keys[1].request_id = "run-1/1";
    ks.keys[1].promote_at = kT0 + absl::Milliseconds(1500);
    ASSERT_OK_AND_ASSIGN(SecretBytes stored, EncodeKeyset(ks));
    ASSERT_OK_AND_ASSIGN(Keyset back, DecodeKeyset(stored));
    EXPECT_EQ(back.name, "app");
    EXPECT_EQ(back.config, ks.config);
    EXPECT_EQ(back.created, kT0);
    ASSERT_EQ(back.keys.size(), 2u);
    EXPECT_EQ(back.keys[0].retire_at, ks.keys[0].retire_at);
    EXPECT_EQ(back.keys[0].remove_at, ks.keys[0].remove_at);
    EXPECT_EQ(back.keys[1].request_id, "run-1/1");
    EXPECT_EQ(back.keys[1].retire_at, absl::InfiniteFuture());
    EXPECT_EQ(back.keys[1].remove_at, absl::InfiniteFuture());
    EXPECT_EQ(back.JwksJson(kT0), ks.JwksJson(kT0));
    ASSERT_OK_AND_ASSIGN(std::string sig, back.keys[1].key->Sign("x"));
    EXPECT_TRUE(ks.keys[1].key->Verify("x", sig));
  }
}

TEST(KeysetCodecTest, ATombstoneHasNoMaterial) {
  Keyset ks;
  ks.name = "app";
  ks.keys.push_back(MakeKey("gone"));
  ks.keys[0].key.reset();
  ks.keys[0].remove_at = kT0;
  ASSERT_OK_AND_ASSIGN(SecretBytes stored, EncodeKeyset(ks));
  EXPECT_THAT(std::string(stored.Reveal()), Not(HasSubstr("\"key\"")));
  ASSERT_OK_AND_ASSIGN(Keyset back, DecodeKeyset(stored));
  EXPECT_FALSE(back.keys[0].key.has_value());
}

TEST(KeysetCodecTest, CorruptRecordsAreDataLoss) {
  for (std::string_view bad : {"", "[]", "{}", R"({"format":1,"name":"a","alg":"HS256"})",
                               R"({"format":2,"name":"a","alg":"ES256"})"}) {
    EXPECT_THAT(DecodeKeyset(SecretBytes(bad)), StatusIs(absl::StatusCode::kDataLoss)) << bad;
  }
}

}  // namespace
}  // namespace rekey::jwt
