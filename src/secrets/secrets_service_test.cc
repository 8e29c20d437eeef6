#include "secrets/secrets_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "core/strings.h"
#include "core/testing/status_matchers.h"
#include "storage/memory_store.h"

namespace rekey::secrets {
namespace {

using ::rekey::testing::IsOk;
using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SecretsServiceTest : public ::testing::Test {
 protected:
  SecretBytes Json(std::string_view text) { return SecretBytes(text); }
  absl::StatusOr<WriteResult> Put(std::string_view path, std::string_view json,
                                  std::optional<uint64_t> cas = std::nullopt) {
    return service_.Put(path, Json(json), WriteOptions{.cas = cas, .actor = "tester"});
  }
  std::string ValueOf(const ReadResult& r) {
    return r.value.has_value() ? std::string(r.value->Reveal()) : "<none>";
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  SecretsService service_{store_, clock_, random_, "secret"};
};

TEST_F(SecretsServiceTest, PutThenReadReturnsCurrent) {
  ASSERT_OK_AND_ASSIGN(WriteResult w, Put("app/db", R"({"password":"p1"})"));
  EXPECT_EQ(w.version.number, 1u);
  EXPECT_EQ(w.version.id.size(), 36u);
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("app/db", 0));
  EXPECT_EQ(ValueOf(r), R"({"password":"p1"})");
  EXPECT_EQ(r.version.created_by, "tester");
}

TEST_F(SecretsServiceTest, SecondWriteMovesCurrentAndPrevious) {
  ASSERT_OK(Put("s", R"({"v":"1"})").status());
  ASSERT_OK(Put("s", R"({"v":"2"})").status());
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_EQ(meta.labels.at("current"), 2u);
  EXPECT_EQ(meta.labels.at("previous"), 1u);
  ASSERT_OK_AND_ASSIGN(ReadResult prev, service_.ReadLabel("s", "previous"));
  EXPECT_EQ(ValueOf(prev), R"({"v":"1"})");
  ASSERT_OK_AND_ASSIGN(ReadResult v1, service_.Read("s", 1));
  EXPECT_EQ(ValueOf(v1), R"({"v":"1"})");
}

TEST_F(SecretsServiceTest, RejectsNonObjectValues) {
  EXPECT_THAT(Put("s", "[1,2]"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Put("s", "{bad"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecretsServiceTest, CheckAndSet) {
  EXPECT_THAT(Put("s", R"({"a":"1"})", 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("did not match")));
  ASSERT_OK(Put("s", R"({"a":"1"})", 0).status());
  EXPECT_THAT(Put("s", R"({"a":"2"})", 0), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(Put("s", R"({"a":"2"})", 1).status());
}

TEST_F(SecretsServiceTest, CasRequiredBySecretMetadata) {
  ASSERT_OK(service_.UpdateMetadata("s", MetadataUpdate{.cas_required = true}));
  EXPECT_THAT(Put("s", R"({"a":"1"})"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("required")));
  EXPECT_OK(Put("s", R"({"a":"1"})", 0).status());
}

TEST_F(SecretsServiceTest, CasRequiredByMountConfig) {
  ASSERT_OK(service_.SetConfig(MountConfig{.max_versions = 10, .cas_required = true}));
  EXPECT_THAT(Put("s", R"({"a":"1"})"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SecretsServiceTest, PrunesOldestUnlabelledVersionsAndTheirMaterial) {
  ASSERT_OK(service_.UpdateMetadata("s", MetadataUpdate{.max_versions = 3}));
  for (int i = 1; i <= 5; ++i) ASSERT_OK(Put("s", R"({"a":"x"})").status());
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  std::vector<uint64_t> kept;
  for (const auto& [n, v] : meta.versions) kept.push_back(n);
  EXPECT_THAT(kept, ElementsAre(3, 4, 5));
  EXPECT_THAT(service_.Read("s", 1), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto data_keys, store_.ScanKeys("kv/secret/s/s#", "", 0));
  EXPECT_EQ(data_keys.size(), 3u);
}

TEST_F(SecretsServiceTest, PruningKeepsLabelledVersions) {
  ASSERT_OK(service_.UpdateMetadata("s", MetadataUpdate{.max_versions = 2}));
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK(service_.MoveLabel("s", "pinned", 1, std::nullopt));
  for (int i = 0; i < 3; ++i) ASSERT_OK(Put("s", R"({"a":"x"})").status());
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_TRUE(meta.versions.contains(1));
  EXPECT_TRUE(meta.versions.contains(4));
}

TEST_F(SecretsServiceTest, SoftDeleteHidesValueUntilUndeleted) {
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK(service_.DeleteCurrent("s"));
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("s", 0));
  EXPECT_FALSE(r.value.has_value());
  EXPECT_NE(r.version.deletion_time, absl::InfiniteFuture());
  ASSERT_OK(service_.UndeleteVersions("s", {1}));
  ASSERT_OK_AND_ASSIGN(ReadResult back, service_.Read("s", 0));
  EXPECT_EQ(ValueOf(back), R"({"a":"1"})");
}

TEST_F(SecretsServiceTest, DestroyWipesMaterialForGood) {
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK(Put("s", R"({"a":"2"})").status());
  ASSERT_OK(service_.DestroyVersions("s", {1}));
  ASSERT_OK_AND_ASSIGN(auto record, store_.Get("kv/secret/s/s#00000000000000000001"));
  EXPECT_FALSE(record.has_value());
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("s", 1));
  EXPECT_TRUE(r.version.destroyed);
  EXPECT_FALSE(r.value.has_value());
  ASSERT_OK(service_.UndeleteVersions("s", {1}));
  ASSERT_OK_AND_ASSIGN(ReadResult still, service_.Read("s", 1));
  EXPECT_FALSE(still.value.has_value());
}

TEST_F(SecretsServiceTest, EmptyVersionListIsRejected) {
  EXPECT_THAT(service_.DeleteVersions("s", {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(service_.DestroyVersions("s", {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecretsServiceTest, DeleteVersionAfterExpiresVersions) {
  ASSERT_OK(
      service_.UpdateMetadata("s", MetadataUpdate{.delete_version_after = absl::Minutes(10)}));
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK_AND_ASSIGN(ReadResult fresh, service_.Read("s", 0));
  EXPECT_TRUE(fresh.value.has_value());
  clock_.Advance(absl::Minutes(11));
  ASSERT_OK_AND_ASSIGN(ReadResult expired, service_.Read("s", 0));
  EXPECT_FALSE(expired.value.has_value());
}

TEST_F(SecretsServiceTest, PatchMergesIntoCurrent) {
  ASSERT_OK(Put("s", R"({"a":"1","b":"2"})").status());
  ASSERT_OK_AND_ASSIGN(WriteResult w,
                       service_.Patch("s", Json(R"({"b":null,"c":"3"})"), WriteOptions{}));
  EXPECT_EQ(w.version.number, 2u);
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("s", 0));
  EXPECT_EQ(ValueOf(r), R"({"a":"1","c":"3"})");
}

TEST_F(SecretsServiceTest, PatchOfMissingOrDeletedIsNotFound) {
  EXPECT_THAT(service_.Patch("nope", Json(R"({"a":"1"})"), WriteOptions{}),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK(service_.DeleteCurrent("s"));
  EXPECT_THAT(service_.Patch("s", Json(R"({"a":"2"})"), WriteOptions{}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SecretsServiceTest, ListShowsOneLevelWithFolders) {
  for (const char* p : {"a", "b/c", "b/d/e", "bz", "c/x"}) ASSERT_OK(Put(p, "{}").status());
  ASSERT_OK_AND_ASSIGN(auto root, service_.List(""));
  EXPECT_THAT(root, ElementsAre("a", "b/", "bz", "c/"));
  ASSERT_OK_AND_ASSIGN(auto b, service_.List("b/"));
  EXPECT_THAT(b, ElementsAre("c", "d/"));
  ASSERT_OK_AND_ASSIGN(auto none, service_.List("zzz"));
  EXPECT_TRUE(none.empty());
}

TEST_F(SecretsServiceTest, DeleteAllRemovesEveryRecord) {
  ASSERT_OK(Put("s", R"({"a":"1"})").status());
  ASSERT_OK(Put("s", R"({"a":"2"})").status());
  ASSERT_OK(Put("s2", R"({"a":"3"})").status());
  ASSERT_OK(service_.DeleteAll("s"));
  EXPECT_THAT(service_.GetMetadata("s"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto keys, store_.ScanKeys("kv/secret/", "", 0));
  for (const auto& k : keys) EXPECT_THAT(k, ::testing::Not(HasSubstr("/s#"))) << k;
  EXPECT_OK(service_.Read("s2", 0).status());
}

TEST_F(SecretsServiceTest, MoveLabelMovesAtomicallyAndChecksExpectation) {
  ASSERT_OK(Put("s", R"({"v":"1"})").status());
  ASSERT_OK(Put("s", R"({"v":"2"})").status());
  ASSERT_OK(service_.MoveLabel("s", "canary", 1, 0));
  EXPECT_THAT(service_.MoveLabel("s", "canary", 2, 0),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(service_.MoveLabel("s", "canary", 2, 1));
  ASSERT_OK(service_.MoveLabel("s", "current", 1, 2));
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_EQ(meta.labels.at("current"), 1u);
  EXPECT_EQ(meta.labels.at("previous"), 2u);
  EXPECT_EQ(meta.labels.at("canary"), 2u);
  ASSERT_OK(service_.MoveLabel("s", "canary", std::nullopt, std::nullopt));
  ASSERT_OK_AND_ASSIGN(meta, service_.GetMetadata("s"));
  EXPECT_FALSE(meta.labels.contains("canary"));
  EXPECT_THAT(service_.MoveLabel("s", "x", 9, std::nullopt), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SecretsServiceTest, ConcurrentWritersEachGetTheirOwnVersion) {
  ASSERT_OK(service_.UpdateMetadata("s", MetadataUpdate{.max_versions = 100}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_OK(Put("s", R"({"a":"x"})").status());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_EQ(meta.last_version, 40u);
  EXPECT_EQ(meta.versions.size(), 40u);
}

TEST_F(SecretsServiceTest, StaleCacheOfAnotherWriterIsDetectedAndRefreshed) {
  // Two services over one store stand for two processes: each caches metadata, and the
  // compare-and-set on the metadata record catches the other's writes.
  SecretsService other(store_, clock_, random_, "secret");
  ASSERT_OK(Put("s", R"({"v":"1"})").status());
  ASSERT_OK_AND_ASSIGN(ReadResult seen, other.Read("s", 0));  // `other` caches version 1
  EXPECT_EQ(seen.version.number, 1u);
  ASSERT_OK(Put("s", R"({"v":"2"})").status());
  ASSERT_OK_AND_ASSIGN(WriteResult w, other.Put("s", Json(R"({"v":"3"})"), WriteOptions{}));
  EXPECT_EQ(w.version.number, 3u);
  EXPECT_EQ(w.meta->labels.at("previous"), 2u);
  // The first service's own next write conflicts too, refreshes, and builds on version 3.
  ASSERT_OK_AND_ASSIGN(WriteResult w4, service_.Put("s", Json(R"({"v":"4"})"), WriteOptions{}));
  EXPECT_EQ(w4.version.number, 4u);
  ASSERT_OK_AND_ASSIGN(ReadResult v3, service_.Read("s", 3));
  EXPECT_EQ(ValueOf(v3), R"({"v":"3"})");
}

TEST_F(SecretsServiceTest, ReadersRacingWritersNeverLeaveAStaleCacheBehind) {
  ASSERT_OK(service_.UpdateMetadata("s", MetadataUpdate{.max_versions = 500}));
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      // A fresh service each round starts with an empty cache, so every read fills it.
      while (!done) {
        SecretsService fresh(store_, clock_, random_, "secret");
        (void)fresh.Read("s", 0);
      }
    });
  }
  std::vector<std::thread> readers_same;
  for (int t = 0; t < 2; ++t) {
    readers_same.emplace_back([&] {
      while (!done) (void)service_.Read("s", 0);
    });
  }
  for (int i = 1; i <= 200; ++i) ASSERT_OK(Put("s", R"({"a":"x"})").status());
  done = true;
  for (auto& t : readers) t.join();
  for (auto& t : readers_same) t.join();
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("s", 0));
  EXPECT_EQ(r.version.number, 200u);
}

absl::StatusOr<WriteResult> PutAsyncAndWait(SecretsService& service, std::string_view path,
                                            std::string_view json) {
  std::optional<absl::StatusOr<WriteResult>> out;
  service.PutAsync(path, SecretBytes(json), WriteOptions{.actor = "async"},
                   [&out](absl::StatusOr<WriteResult> r) { out = std::move(r); });
  if (!out.has_value()) return absl::InternalError("callback did not run");  // MemoryStore is sync
  return *std::move(out);
}

TEST_F(SecretsServiceTest, PutAsyncWritesLikePut) {
  ASSERT_OK(Put("s", R"({"v":"1"})").status());
  ASSERT_OK_AND_ASSIGN(WriteResult w, PutAsyncAndWait(service_, "s", R"({"v":"2"})"));
  EXPECT_EQ(w.version.number, 2u);
  EXPECT_EQ(w.meta->labels.at("previous"), 1u);
  ASSERT_OK_AND_ASSIGN(ReadResult r, service_.Read("s", 0));
  EXPECT_EQ(ValueOf(r), R"({"v":"2"})");
  EXPECT_EQ(r.version.created_by, "async");
  SecretsService fresh(store_, clock_, random_, "secret");  // reads the store, not the cache
  ASSERT_OK_AND_ASSIGN(ReadResult stored, fresh.Read("s", 0));
  EXPECT_EQ(ValueOf(stored), R"({"v":"2"})");
}

TEST_F(SecretsServiceTest, PutAsyncValidatesLikePut) {
  EXPECT_THAT(PutAsyncAndWait(service_, "../x", "{}"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PutAsyncAndWait(service_, "s", "[1]"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecretsServiceTest, PutAsyncOnAStaleViewIsAbortedAndPutThenSucceeds) {
  SecretsService other(store_, clock_, random_, "secret");
  ASSERT_OK(Put("s", R"({"v":"1"})").status());
  ASSERT_OK(other.Read("s", 0).status());  // `other` caches version 1
  ASSERT_OK(Put("s", R"({"v":"2"})").status());
  EXPECT_THAT(PutAsyncAndWait(other, "s", R"({"v":"3"})"), StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(WriteResult w, other.Put("s", Json(R"({"v":"3"})"), WriteOptions{}));
  EXPECT_EQ(w.version.number, 3u);
}

TEST_F(SecretsServiceTest, InvalidPathsAreRejected) {
  EXPECT_THAT(Put("../x", "{}"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(service_.Read("a//b", 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecretsServiceTest, StagedVersionGetsTheLabelAndLeavesCurrentAlone) {
  ASSERT_OK(Put("s", R"({"k":"v1"})").status());
  ASSERT_OK_AND_ASSIGN(
      WriteResult w,
      service_.Put("s", Json(R"({"k":"v2"})"),
                   WriteOptions{.cas = 1, .actor = "rotation", .stage_label = "pending"}));
  EXPECT_EQ(w.version.number, 2u);
  ASSERT_OK_AND_ASSIGN(ReadResult current, service_.Read("s", 0));
  EXPECT_EQ(ValueOf(current), R"({"k":"v1"})");
  ASSERT_OK_AND_ASSIGN(ReadResult pending, service_.ReadLabel("s", "pending"));
  EXPECT_EQ(pending.version.number, 2u);
  EXPECT_THAT(service_.ReadLabel("s", "previous"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SecretsServiceTest, StagingAsCurrentOrPreviousIsRejected) {
  EXPECT_THAT(service_.Put("s", Json("{}"), WriteOptions{.stage_label = "current"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(service_.Put("s", Json("{}"), WriteOptions{.stage_label = "previous"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecretsServiceTest, PromoteMovesCurrentAndPreviousAndDropsPendingAtOnce) {
  ASSERT_OK(Put("s", R"({"k":"v1"})").status());
  ASSERT_OK(
      service_.Put("s", Json(R"({"k":"v2"})"), WriteOptions{.stage_label = "pending"}).status());
  ASSERT_OK(service_.Promote("s", 2, /*expected_current=*/1));
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_EQ(meta.labels.at("current"), 2u);
  EXPECT_EQ(meta.labels.at("previous"), 1u);
  EXPECT_EQ(meta.labels.count("pending"), 0u);
  // Idempotent when repeated after a crash.
  EXPECT_OK(service_.Promote("s", 2, 1));
}

TEST_F(SecretsServiceTest, PromoteRefusesWhenSomeoneWroteMeanwhile) {
  ASSERT_OK(Put("s", R"({"k":"v1"})").status());
  ASSERT_OK(
      service_.Put("s", Json(R"({"k":"v2"})"), WriteOptions{.stage_label = "pending"}).status());
  ASSERT_OK(Put("s", R"({"k":"manual"})").status());  // version 3 becomes current
  EXPECT_THAT(service_.Promote("s", 2, 1), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SecretsServiceTest, DiscardDropsTheLabelAndTheMaterial) {
  ASSERT_OK(Put("s", R"({"k":"v1"})").status());
  ASSERT_OK(
      service_.Put("s", Json(R"({"k":"v2"})"), WriteOptions{.stage_label = "pending"}).status());
  ASSERT_OK(service_.Discard("s", "pending", 2));
  ASSERT_OK_AND_ASSIGN(SecretMetadata meta, service_.GetMetadata("s"));
  EXPECT_EQ(meta.labels.count("pending"), 0u);
  EXPECT_TRUE(meta.versions.at(2).destroyed);
  EXPECT_OK(service_.Discard("s", "pending", 2));
  EXPECT_THAT(service_.Discard("s", "pending", 1), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace rekey::secrets
