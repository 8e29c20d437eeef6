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

}  // namespace
}  // namespace rekey::secrets
