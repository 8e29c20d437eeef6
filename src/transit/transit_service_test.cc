// TransitService over a store: key lifecycle, 100 rotations, batches, upsert, several nodes,
// usage counting, export, and encryption at rest under the barrier.
#include "transit/transit_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "core/testing/status_matchers.h"
#include "crypto/keyset.h"
#include "storage/encrypted_store.h"
#include "storage/memory_store.h"
#include "transit/internal/codec.h"

namespace rekey::transit {
namespace {

// A StatusOr that is OK and whose value matches `m`.
MATCHER_P(IsOkAndHolds, m, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

using ::rekey::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

EncryptItem Plain(std::string_view text, std::string_view context = "") {
  EncryptItem item;
  item.plaintext = SecretBytes(text);
  item.context = std::string(context);
  return item;
}

DecryptItem Cipher(std::string_view text, std::string_view context = "") {
  DecryptItem item;
  item.ciphertext = std::string(text);
  item.context = std::string(context);
  return item;
}

class TransitServiceTest : public ::testing::Test {
 protected:
  TransitServiceTest() : service_(store_, clock_, random_) {}

  void CreateAes(std::string_view name) {
    ASSERT_OK_AND_ASSIGN(TransitService::Created c, service_.CreateKey(name, {}));
    ASSERT_TRUE(c.created);
  }
  std::string EncryptOne(std::string_view name, std::string_view text) {
    absl::StatusOr<std::vector<absl::StatusOr<Ciphertext>>> r =
        service_.Encrypt(name, {Plain(text)});
    EXPECT_OK(r.status());
    if (!r.ok() || r->size() != 1 || !(*r)[0].ok()) return "";
    return (*r)[0]->text;
  }
  absl::StatusOr<std::string> DecryptOne(std::string_view name, std::string_view ciphertext) {
    ASSIGN_OR_RETURN(auto r, service_.Decrypt(name, {Cipher(ciphertext)}));
    RETURN_IF_ERROR(r.at(0).status());
    return std::string(r[0]->Reveal());
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  TransitService service_;
};

TEST_F(TransitServiceTest, CreateReadListDelete) {
  KeyCreateOptions opts;
  opts.type = KeyType::kChaCha20Poly1305;
  opts.auto_rotate_period = absl::Hours(24);
  ASSERT_OK_AND_ASSIGN(TransitService::Created c, service_.CreateKey("b-key", opts));
  EXPECT_TRUE(c.created);
  EXPECT_EQ(c.info.type, KeyType::kChaCha20Poly1305);
  EXPECT_EQ(c.info.latest_version, 1u);
  CreateAes("a-key");
  // Creating again returns the existing key unchanged (Vault's upsert).
  ASSERT_OK_AND_ASSIGN(TransitService::Created again, service_.CreateKey("b-key", {}));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.info.type, KeyType::kChaCha20Poly1305);

  ASSERT_OK_AND_ASSIGN(KeyInfo info, service_.GetKey("b-key"));
  EXPECT_EQ(info.auto_rotate_period, absl::Hours(24));
  EXPECT_EQ(info.last_rotated, clock_.Now());
  ASSERT_EQ(info.versions.size(), 1u);
  EXPECT_EQ(info.versions[0].created, clock_.Now());
  EXPECT_THAT(service_.ListKeys(), IsOkAndHolds(ElementsAre("a-key", "b-key")));
  EXPECT_THAT(service_.GetKey("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(service_.KeyExists("a-key"), IsOkAndHolds(true));
  EXPECT_THAT(service_.KeyExists("a"), IsOkAndHolds(false));

  EXPECT_THAT(service_.DeleteKey("a-key"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    "deletion is not allowed for this policy"));
  KeyConfigUpdate allow;
  allow.deletion_allowed = true;
  ASSERT_OK(service_.UpdateKeyConfig("a-key", allow).status());
  ASSERT_OK(service_.DeleteKey("a-key"));
  EXPECT_THAT(service_.GetKey("a-key"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(service_.ListKeys(), IsOkAndHolds(ElementsAre("b-key")));
  EXPECT_THAT(service_.DeleteKey("a-key"), StatusIs(absl::StatusCode::kNotFound));
  // A new key of the same name is a new key.
  CreateAes("a-key");
  EXPECT_THAT(service_.GetKey("a-key"),
              IsOkAndHolds(::testing::Field(&KeyInfo::latest_version, 1u)));
}

TEST_F(TransitServiceTest, EveryOldVersionStillDecryptsAfter100Rotations) {
  CreateAes("k");
  std::vector<std::pair<std::string, std::string>> made;
  for (int i = 0; i <= 100; ++i) {
    const std::string plain = "value-" + std::to_string(i);
    const std::string c = EncryptOne("k", plain);
    EXPECT_THAT(c, StartsWith("vault:v" + std::to_string(i + 1) + ":"));
    made.emplace_back(c, plain);
    if (i < 100) {
      clock_.Advance(absl::Hours(1));
      ASSERT_OK(service_.RotateKey("k").status());
    }
  }
  ASSERT_OK_AND_ASSIGN(KeyInfo info, service_.GetKey("k"));
  EXPECT_EQ(info.latest_version, 101u);
  EXPECT_EQ(info.versions.size(), 101u);
  // Through this service, and through a fresh one reading the store (another process).
  TransitService other(store_, clock_, random_);
  for (const auto& [c, plain] : made) {
    EXPECT_THAT(DecryptOne("k", c), IsOkAndHolds(plain));
    ASSERT_OK_AND_ASSIGN(auto r, other.Decrypt("k", {Cipher(c)}));
    EXPECT_EQ(r[0]->Reveal(), plain);
  }
  // Rewrap moves them all to the latest version without showing the plaintext.
  std::vector<RewrapItem> items;
  for (const auto& [c, plain] : made) items.push_back(RewrapItem{c, "", "", 0});
  ASSERT_OK_AND_ASSIGN(auto rewrapped, service_.Rewrap("k", items));
  for (size_t i = 0; i < made.size(); ++i) {
    ASSERT_OK(rewrapped[i].status());
    EXPECT_THAT(rewrapped[i]->text, StartsWith("vault:v101:"));
    EXPECT_THAT(DecryptOne("k", rewrapped[i]->text), IsOkAndHolds(made[i].second));
  }
}

TEST_F(TransitServiceTest, MinDecryptionVersionAndTrim) {
  CreateAes("k");
  const std::string v1 = EncryptOne("k", "one");
  ASSERT_OK(service_.RotateKey("k").status());
  ASSERT_OK(service_.RotateKey("k").status());
  KeyConfigUpdate u;
  u.min_decryption_version = 2;
  ASSERT_OK(service_.UpdateKeyConfig("k", u).status());
  EXPECT_THAT(DecryptOne("k", v1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "ciphertext or signature version is disallowed by policy (too old)"));
  EXPECT_THAT(service_.Rewrap("k", {RewrapItem{v1, "", "", 0}}),
              IsOkAndHolds(
                  ElementsAre(StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too old")))));

  // Vault's config rules.
  KeyConfigUpdate bad;
  bad.min_decryption_version = 9;
  EXPECT_THAT(service_.UpdateKeyConfig("k", bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cannot set min decryption version of 9, latest key version is 3"));
  bad = {};
  bad.min_encryption_version = 1;
  EXPECT_THAT(service_.UpdateKeyConfig("k", bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be greater than")));
  KeyConfigUpdate zero;
  zero.min_decryption_version = 0;
  ASSERT_OK_AND_ASSIGN(TransitService::Configured forced, service_.UpdateKeyConfig("k", zero));
  EXPECT_EQ(forced.info.min_decryption_version, 1u);
  EXPECT_THAT(forced.warnings, ElementsAre(HasSubstr("forcing minimum to 1")));
  EXPECT_THAT(service_.UpdateKeyConfig("nope", zero),
              StatusIs(absl::StatusCode::kNotFound, "no existing key named nope could be found"));

  // Trim needs min_encryption_version, and deletes the versions below the new minimum.
  EXPECT_THAT(service_.TrimKey("k", 2), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("minimum encryption version is not")));
  u = {};
  u.min_decryption_version = 2;
  u.min_encryption_version = 3;
  ASSERT_OK(service_.UpdateKeyConfig("k", u).status());
  EXPECT_THAT(service_.TrimKey("k", 3), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("greater than minimum decryption")));
  ASSERT_OK_AND_ASSIGN(KeyInfo trimmed, service_.TrimKey("k", 2));
  EXPECT_EQ(trimmed.min_available_version, 2u);
  ASSERT_EQ(trimmed.versions.size(), 2u);
  EXPECT_EQ(trimmed.versions[0].number, 2u);
  EXPECT_THAT(service_.TrimKey("k", 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be decremented")));
  u = {};
  u.min_decryption_version = 1;
  EXPECT_THAT(service_.UpdateKeyConfig("k", u), StatusIs(absl::StatusCode::kInvalidArgument));
  // The trimmed key survives a reload.
  TransitService other(store_, clock_, random_);
  EXPECT_THAT(other.GetKey("k"),
              IsOkAndHolds(::testing::Field(&KeyInfo::min_available_version, 2u)));
}

TEST_F(TransitServiceTest, BatchesReportEachItem) {
  CreateAes("k");
  std::vector<EncryptItem> items;
  items.push_back(Plain("a"));
  EncryptItem too_new = Plain("b");
  too_new.key_version = 7;
  items.push_back(std::move(too_new));
  items.push_back(Plain("c"));
  ASSERT_OK_AND_ASSIGN(auto enc, service_.Encrypt("k", items));
  ASSERT_EQ(enc.size(), 3u);
  EXPECT_OK(enc[0].status());
  EXPECT_THAT(enc[1], StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("higher")));
  EXPECT_OK(enc[2].status());
  ASSERT_OK_AND_ASSIGN(auto dec, service_.Decrypt("k", {Cipher(enc[0]->text), Cipher("junk"),
                                                        Cipher(enc[2]->text)}));
  EXPECT_EQ(dec[0]->Reveal(), "a");
  EXPECT_THAT(dec[1],
              StatusIs(absl::StatusCode::kInvalidArgument, std::string(kInvalidCiphertext)));
  EXPECT_EQ(dec[2]->Reveal(), "c");
  EXPECT_THAT(service_.Encrypt("missing", {Plain("x")}),
              StatusIs(absl::StatusCode::kNotFound, "encryption key not found"));
}

TEST_F(TransitServiceTest, EncryptCreatesAMissingKeyWhenAllowed) {
  KeyCreateOptions upsert;
  upsert.derived = true;
  ASSERT_OK_AND_ASSIGN(auto r, service_.Encrypt("fresh", {Plain("x", "ctx")}, upsert));
  ASSERT_OK(r[0].status());
  ASSERT_OK_AND_ASSIGN(KeyInfo info, service_.GetKey("fresh"));
  EXPECT_TRUE(info.derived);
}

TEST_F(TransitServiceTest, ChangesFromAnotherNodeAreNeverLost) {
  CreateAes("k");
  TransitService node_b(store_, clock_, random_);
  ASSERT_OK(node_b.GetKey("k").status());  // both nodes have it cached at version 1
  ASSERT_OK(service_.RotateKey("k").status());
  // node_b's cache is stale; its rotation detects the conflict, reloads, and adds version 3.
  ASSERT_OK_AND_ASSIGN(KeyInfo b, node_b.RotateKey("k"));
  EXPECT_EQ(b.latest_version, 3u);
  // A ciphertext newer than a node's cache makes it reread the key.
  const std::string v3 = std::string(node_b.Encrypt("k", {Plain("from b")}).value()[0]->text);
  EXPECT_THAT(v3, StartsWith("vault:v3:"));
  EXPECT_THAT(DecryptOne("k", v3), IsOkAndHolds(std::string("from b")));
}

TEST_F(TransitServiceTest, ForgedNewerVersionsRereadTheKeyAtMostOnceASecond) {
  CreateAes("k");
  TransitService node_b(store_, clock_, random_);
  const std::string v1 = EncryptOne("k", "one");
  const std::string forged = "vault:v999:" + v1.substr(std::string("vault:v1:").size());
  // The first forged version rereads the key (nothing newer), then rereads wait a second.
  EXPECT_THAT(DecryptOne("k", forged), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(node_b.RotateKey("k").status());
  const std::string v2 = std::string(node_b.Encrypt("k", {Plain("two")}).value()[0]->text);
  EXPECT_THAT(DecryptOne("k", v2), StatusIs(absl::StatusCode::kInvalidArgument));  // not yet
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(DecryptOne("k", v2), IsOkAndHolds(std::string("two")));
  // A reread that found a newer version lets the next one happen at once.
  ASSERT_OK(node_b.RotateKey("k").status());
  const std::string v3 = std::string(node_b.Encrypt("k", {Plain("three")}).value()[0]->text);
  EXPECT_THAT(DecryptOne("k", v3), IsOkAndHolds(std::string("three")));
}

TEST_F(TransitServiceTest, ConcurrentRotationsAllLand) {
  CreateAes("k");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) EXPECT_OK(service_.RotateKey("k").status());
    });
  }
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const std::string c = EncryptOne("k", "v");
        EXPECT_THAT(DecryptOne("k", c), IsOkAndHolds(std::string("v")));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(service_.GetKey("k"), IsOkAndHolds(::testing::Field(&KeyInfo::latest_version, 41u)));
}

TEST_F(TransitServiceTest, UsageIsCountedAndTheThresholdReported) {
  std::vector<std::pair<uint32_t, uint64_t>> reports;
  TransitOptions options;
  options.usage.block = 10;
  options.usage.rotation_threshold = 25;
  options.usage.hard_limit = 40;
  options.on_rotation_needed = [&](std::string_view name, uint32_t version, uint64_t count) {
    EXPECT_EQ(name, "k");
    reports.emplace_back(version, count);
  };
  TransitService svc(store_, clock_, random_, options);
  ASSERT_OK(svc.CreateKey("k", {}).status());
  for (int i = 0; i < 30; ++i) ASSERT_OK(svc.Encrypt("k", {Plain("x")}).value()[0].status());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].first, 1u);
  ASSERT_OK_AND_ASSIGN(KeyRotationStatus st, svc.RotationStatus("k"));
  EXPECT_TRUE(st.usage_rotation_needed);
  EXPECT_EQ(st.latest_version_encryptions, 30u);
  EXPECT_TRUE(svc.GetKey("k")->rotation_needed);
  // Past the hard limit nothing more is encrypted under version 1 ...
  for (int i = 0; i < 10; ++i) ASSERT_OK(svc.Encrypt("k", {Plain("x")}).value()[0].status());
  EXPECT_THAT(svc.Encrypt("k", {Plain("x")}).value()[0],
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rotate the key")));
  // ... but decryption still works, and a rotation starts a fresh count.
  ASSERT_OK(svc.RotateKey("k").status());
  ASSERT_OK_AND_ASSIGN(auto after, svc.Encrypt("k", {Plain("x")}));
  EXPECT_THAT(after[0]->text, StartsWith("vault:v2:"));
  ASSERT_OK_AND_ASSIGN(st, svc.RotationStatus("k"));
  EXPECT_FALSE(st.usage_rotation_needed);
  EXPECT_EQ(st.latest_version_encryptions, 1u);
  // Rewrap and datakeys count too; flushing leaves exact counts in the store.
  ASSERT_OK(svc.Rewrap("k", {RewrapItem{after[0]->text, "", "", 0}}).status());
  ASSERT_OK(svc.GenerateDataKey("k", {}, false).status());
  ASSERT_OK(svc.FlushUsage());
  TransitService fresh(store_, clock_, random_, options);
  ASSERT_OK_AND_ASSIGN(st, fresh.RotationStatus("k"));
  EXPECT_EQ(st.latest_version_encryptions, 3u);
  ASSERT_OK_AND_ASSIGN(KeyInfo info, fresh.GetKey("k"));
  EXPECT_EQ(info.versions[0].encryptions, 40u);
}

TEST_F(TransitServiceTest, EncryptionsAreStoredInBatchesNotOneWritePerCall) {
  CreateAes("k");
  ASSERT_OK(service_.Encrypt("k", {Plain("warm")}).status());
  const uint64_t before = store_.CommitIndex();
  for (int i = 0; i < 500; ++i) ASSERT_OK(service_.Encrypt("k", {Plain("x")}).status());
  EXPECT_EQ(store_.CommitIndex(), before);
  EXPECT_TRUE(service_.CanServeWithoutStore("k", 1));
  EXPECT_FALSE(service_.CanServeWithoutStore("other", 0));
}

TEST_F(TransitServiceTest, RotationStatusForASchedule) {
  KeyCreateOptions opts;
  opts.auto_rotate_period = absl::Hours(48);
  ASSERT_OK(service_.CreateKey("periodic", opts).status());
  CreateAes("manual");
  const absl::Time created = clock_.Now();
  clock_.Advance(absl::Hours(5));
  ASSERT_OK_AND_ASSIGN(auto all, service_.RotationStatuses());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "manual");
  EXPECT_EQ(all[0].next_periodic_rotation, absl::InfiniteFuture());
  EXPECT_EQ(all[1].next_periodic_rotation, created + absl::Hours(48));
  ASSERT_OK(service_.RotateKey("periodic").status());
  ASSERT_OK_AND_ASSIGN(KeyRotationStatus st, service_.RotationStatus("periodic"));
  EXPECT_EQ(st.last_rotated, clock_.Now());
  EXPECT_EQ(st.next_periodic_rotation, clock_.Now() + absl::Hours(48));
  KeyConfigUpdate off;
  off.auto_rotate_period = absl::ZeroDuration();
  ASSERT_OK(service_.UpdateKeyConfig("periodic", off).status());
  EXPECT_EQ(service_.RotationStatus("periodic")->next_periodic_rotation, absl::InfiniteFuture());
  KeyConfigUpdate short_period;
  short_period.auto_rotate_period = absl::Minutes(5);
  EXPECT_THAT(service_.UpdateKeyConfig("periodic", short_period),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least an hour")));
}

TEST_F(TransitServiceTest, ExportNeedsExportableAndUsesVaultsFormats) {
  CreateAes("k");
  EXPECT_THAT(service_.ExportKey("k", ExportKind::kEncryptionKey, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not exportable")));
  KeyConfigUpdate u;
  u.exportable = true;
  ASSERT_OK(service_.UpdateKeyConfig("k", u).status());
  ASSERT_OK(service_.RotateKey("k").status());
  ASSERT_OK_AND_ASSIGN(ExportedKeys all,
                       service_.ExportKey("k", ExportKind::kEncryptionKey, std::nullopt));
  ASSERT_EQ(all.keys.size(), 2u);
  EXPECT_EQ(internal::Base64Decode(all.keys[0].second.Reveal())->size(), 32u);
  ASSERT_OK_AND_ASSIGN(ExportedKeys latest, service_.ExportKey("k", ExportKind::kHmacKey, 0));
  ASSERT_EQ(latest.keys.size(), 1u);
  EXPECT_EQ(latest.keys[0].first, 2u);
  EXPECT_THAT(service_.ExportKey("k", ExportKind::kSigningKey, std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // exportable cannot be turned off.
  u.exportable = false;
  ASSERT_OK_AND_ASSIGN(TransitService::Configured c, service_.UpdateKeyConfig("k", u));
  EXPECT_TRUE(c.info.exportable);

  KeyCreateOptions ec;
  ec.type = KeyType::kEcdsaP256;
  ec.exportable = true;
  ASSERT_OK(service_.CreateKey("ec", ec).status());
  ASSERT_OK_AND_ASSIGN(ExportedKeys sk, service_.ExportKey("ec", ExportKind::kSigningKey, 1));
  EXPECT_THAT(std::string(sk.keys[0].second.Reveal()), HasSubstr("BEGIN EC PRIVATE KEY"));
  ASSERT_OK_AND_ASSIGN(ExportedKeys pk, service_.ExportKey("ec", ExportKind::kPublicKey, 1));
  EXPECT_THAT(std::string(pk.keys[0].second.Reveal()), HasSubstr("BEGIN PUBLIC KEY"));
}

TEST_F(TransitServiceTest, SignAndVerifyBatchesAndHmacVerify) {
  KeyCreateOptions opts;
  opts.type = KeyType::kEd25519;
  ASSERT_OK(service_.CreateKey("sig", opts).status());
  SignItem a;
  a.input = SecretBytes("one");
  SignItem b;
  b.input = SecretBytes("two");
  ASSERT_OK_AND_ASSIGN(auto sigs, service_.Sign("sig", {}, {a, b}));
  ASSERT_OK(sigs[0].status());
  a.signature = sigs[0]->text;
  b.signature = sigs[0]->text;  // the wrong signature for "two"
  ASSERT_OK_AND_ASSIGN(auto ok, service_.Verify("sig", {}, HashAlgorithm::kSha2_256, {a, b}));
  EXPECT_THAT(ok[0], IsOkAndHolds(true));
  EXPECT_THAT(ok[1], IsOkAndHolds(false));
  HmacItem h;
  h.input = SecretBytes("one");
  ASSERT_OK_AND_ASSIGN(auto macs, service_.Hmac("sig", HashAlgorithm::kSha2_256, {h}));
  SignItem hv;
  hv.input = SecretBytes("one");
  hv.hmac = *macs[0];
  ASSERT_OK_AND_ASSIGN(auto hok, service_.Verify("sig", {}, HashAlgorithm::kSha2_256, {hv}));
  EXPECT_THAT(hok[0], IsOkAndHolds(true));
}

TEST_F(TransitServiceTest, DataKeys) {
  CreateAes("k");
  DataKeyRequest req;
  req.bits = 512;
  ASSERT_OK_AND_ASSIGN(DataKey dk, service_.GenerateDataKey("k", req, true));
  ASSERT_TRUE(dk.plaintext.has_value());
  EXPECT_EQ(dk.plaintext->size(), 64u);
  EXPECT_THAT(DecryptOne("k", dk.ciphertext.text),
              IsOkAndHolds(std::string(dk.plaintext->Reveal())));
  ASSERT_OK_AND_ASSIGN(DataKey wrapped, service_.GenerateDataKey("k", {}, false));
  EXPECT_FALSE(wrapped.plaintext.has_value());
  req.bits = 100;
  EXPECT_THAT(service_.GenerateDataKey("k", req, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bits")));
}

TEST(TransitAtRestTest, KeysAreEncryptedUnderTheBarrier) {
  storage::MemoryStore raw;
  FakeClock clock;
  FakeRandom random;
  std::unique_ptr<crypto::Keyset> keyring = crypto::Keyset::Generate(random, clock);
  storage::EncryptedStore barrier(raw, *keyring);
  TransitService service(barrier, clock, random);
  KeyCreateOptions opts;
  opts.exportable = true;
  ASSERT_OK(service.CreateKey("secret-key", opts).status());
  ASSERT_OK_AND_ASSIGN(ExportedKeys exported,
                       service.ExportKey("secret-key", ExportKind::kEncryptionKey, 1));
  const std::string key_b64(exported.keys[0].second.Reveal());
  ASSERT_OK_AND_ASSIGN(std::vector<storage::Record> records, raw.Scan("", "", 0));
  bool found = false;
  for (const storage::Record& r : records) {
    if (r.key == "transit/keys/secret-key") found = true;
    EXPECT_EQ(r.value.Reveal().find(key_b64), std::string_view::npos) << r.key;
    EXPECT_EQ(r.value.Reveal().find("hkdf_sha256"), std::string_view::npos) << r.key;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace rekey::transit
