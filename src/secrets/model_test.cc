#include "secrets/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/testing/status_matchers.h"

namespace rekey::secrets {
namespace {

using ::rekey::testing::StatusIs;

TEST(ModelTest, MetadataRoundTrips) {
  SecretMetadata meta;
  meta.created = absl::FromUnixSeconds(100);
  meta.updated = absl::FromUnixSeconds(200);
  meta.max_versions = 5;
  meta.cas_required = true;
  meta.delete_version_after = absl::Hours(1);
  meta.custom_metadata = {{"owner", "team-a"}};
  meta.last_version = 2;
  VersionInfo v;
  v.number = 2;
  v.id = "id-2";
  v.created = absl::FromUnixNanos(123456789);
  v.deletion_time = absl::FromUnixSeconds(300);
  meta.versions[2] = v;
  meta.labels = {{"current", 2}};

  ASSERT_OK_AND_ASSIGN(SecretMetadata back, DecodeMetadata(EncodeMetadata(meta)));
  EXPECT_EQ(back.max_versions, 5u);
  EXPECT_TRUE(back.cas_required);
  EXPECT_EQ(back.delete_version_after, absl::Hours(1));
  EXPECT_EQ(back.custom_metadata.at("owner"), "team-a");
  EXPECT_EQ(back.versions.at(2).created, absl::FromUnixNanos(123456789));
  EXPECT_EQ(back.versions.at(2).deletion_time, absl::FromUnixSeconds(300));
  EXPECT_EQ(back.CurrentVersion(), 2u);
}

TEST(ModelTest, UnsetDeletionTimeRoundTripsAsInfiniteFuture) {
  SecretMetadata meta;
  meta.versions[1] = VersionInfo{.number = 1, .id = "x"};
  ASSERT_OK_AND_ASSIGN(SecretMetadata back, DecodeMetadata(EncodeMetadata(meta)));
  EXPECT_EQ(back.versions.at(1).deletion_time, absl::InfiniteFuture());
}

SecretMetadata RichMetadata() {
  SecretMetadata meta;
  meta.created = absl::FromUnixSeconds(100);
  meta.updated = absl::FromUnixNanos(200123456789);
  meta.max_versions = 7;
  meta.cas_required = true;
  meta.delete_version_after = absl::Minutes(90);
  meta.custom_metadata = {{"owner", "team-a"}, {"env", "prod"}};
  meta.description = "orders database";
  meta.last_version = 12;
  for (uint64_t n = 9; n <= 12; ++n) {
    VersionInfo v;
    v.number = n;
    v.id = "id-" + std::to_string(n);
    v.created = absl::FromUnixNanos(1000 + n);
    v.created_by = n % 2 == 0 ? "accessor-even" : "accessor-odd";
    if (n == 10) v.deletion_time = absl::FromUnixSeconds(500);
    if (n == 9) v.destroyed = true;
    meta.versions[n] = v;
  }
  meta.labels = {{"current", 12}, {"previous", 11}, {"canary", 10}};
  return meta;
}

void ExpectSameMetadata(const SecretMetadata& a, const SecretMetadata& b) {
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.updated, b.updated);
  EXPECT_EQ(a.max_versions, b.max_versions);
  EXPECT_EQ(a.cas_required, b.cas_required);
  EXPECT_EQ(a.delete_version_after, b.delete_version_after);
  EXPECT_EQ(a.custom_metadata, b.custom_metadata);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.last_version, b.last_version);
  EXPECT_EQ(a.labels, b.labels);
  ASSERT_EQ(a.versions.size(), b.versions.size());
  for (const auto& [n, v] : a.versions) {
    const VersionInfo& w = b.versions.at(n);
    EXPECT_EQ(v.id, w.id);
    EXPECT_EQ(v.created, w.created);
    EXPECT_EQ(v.created_by, w.created_by);
    EXPECT_EQ(v.deletion_time, w.deletion_time);
    EXPECT_EQ(v.destroyed, w.destroyed);
  }
}

TEST(ModelTest, BinaryMetadataRoundTripsEveryField) {
  SecretMetadata meta = RichMetadata();
  ASSERT_OK_AND_ASSIGN(SecretMetadata back, DecodeMetadata(EncodeMetadata(meta)));
  ExpectSameMetadata(meta, back);
}

TEST(ModelTest, JsonRecordsFromTheFirstFormatStillDecode) {
  SecretMetadata meta = RichMetadata();
  ASSERT_OK_AND_ASSIGN(SecretMetadata back, DecodeMetadata(EncodeMetadataJson(meta)));
  ExpectSameMetadata(meta, back);
}

TEST(ModelTest, BinaryMetadataIsLessThanHalfTheJson) {
  SecretMetadata meta = RichMetadata();
  EXPECT_LT(EncodeMetadata(meta).size() * 2, EncodeMetadataJson(meta).size());
}

TEST(ModelTest, EveryTruncationOfABinaryRecordIsDataLoss) {
  const std::string full = EncodeMetadata(RichMetadata());
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_THAT(DecodeMetadata(full.substr(0, n)), StatusIs(absl::StatusCode::kDataLoss)) << n;
  }
  EXPECT_THAT(DecodeMetadata(full + "x"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ModelTest, MalformedMetadataIsDataLoss) {
  EXPECT_THAT(DecodeMetadata("not json"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMetadata("{}"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ModelTest, FormatsTimesLikeVault) {
  EXPECT_EQ(FormatRfc3339(absl::FromUnixNanos(1521685446945319214)),
            "2018-03-22T02:24:06.945319214Z");
  EXPECT_EQ(FormatRfc3339(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(absl::InfiniteFuture()), "");
}

TEST(ModelTest, GoDurations) {
  EXPECT_EQ(FormatGoDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatGoDuration(absl::Minutes(90)), "1h30m0s");
  EXPECT_EQ(*ParseGoDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseGoDuration("45"), absl::Seconds(45));
  EXPECT_EQ(*ParseGoDuration("0s"), absl::ZeroDuration());
  EXPECT_THAT(ParseGoDuration("soon"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGoDuration("-5s"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGoDuration("inf"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FormatRfc3339Test, MatchesAbslFormatTime) {
  const absl::Time base = absl::FromUnixSeconds(1764125400);  // 2025-11-26T02:50:00Z
  for (absl::Duration d :
       {absl::ZeroDuration(), absl::Nanoseconds(1), absl::Milliseconds(120), absl::Microseconds(5),
        absl::Nanoseconds(999999999), absl::Hours(-24 * 365 * 60), absl::Seconds(59)}) {
    const absl::Time t = base + d;
    EXPECT_EQ(FormatRfc3339(t), absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()));
  }
  EXPECT_EQ(FormatRfc3339(absl::InfiniteFuture()), "");
  const absl::Time far =
      absl::FromCivil(absl::CivilSecond(12000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(FormatRfc3339(far), absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", far, absl::UTCTimeZone()));
}

}  // namespace
}  // namespace rekey::secrets
