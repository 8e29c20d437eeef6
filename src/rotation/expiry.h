// Certificate expiry awareness: finds the certificates a secret's value holds, and warns
// (certificate.expiring / certificate.expired events) as their not_after comes near, once per
// threshold crossed, for every KV secret — whether or not rekey issued or rotates it.
#ifndef REKEY_ROTATION_EXPIRY_H_
#define REKEY_ROTATION_EXPIRY_H_

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/secret_bytes.h"
#include "rotation/events.h"
#include "secrets/secrets_service.h"
#include "storage/store.h"

namespace rekey::rotation {

// The earliest not_after among the certificates in a secret's value; InfiniteFuture when it
// holds none. Looks at: string fields of the value's JSON object (nested objects and arrays
// too, a few levels deep) holding a PEM "-----BEGIN CERTIFICATE-----" block — the first block of
// a field is its leaf, later ones are its chain and are not counted; fields named "not_after"
// (RFC 3339 text or Unix seconds, as before_expiry schedules read them); and a value that is
// itself PEM text rather than JSON. Malformed certificates and fields are skipped. Every copy of
// the value's bytes it makes is wiped.
absl::Time CertificateNotAfter(const SecretBytes& value);

// 30d, 7d, 1d: the default rotation.certificate_expiry_warnings.
std::vector<absl::Duration> DefaultExpiryWarnings();

// What was last said about one secret's certificate; persisted so a restart does not repeat it.
struct ExpiryRecord {
  absl::Time not_after = absl::InfiniteFuture();     // the certificate it is about
  absl::Duration warned = absl::InfiniteDuration();  // smallest threshold warned; none = infinite
  bool expired = false;                              // certificate.expired was sent
};
std::string EncodeExpiryRecord(const ExpiryRecord& record);
absl::StatusOr<ExpiryRecord> DecodeExpiryRecord(std::string_view data);  // kDataLoss if malformed

struct ExpiryNotice {
  std::string type;     // "certificate.expiring" or "certificate.expired"
  std::string message;  // the not_after date and the threshold crossed; never a value
};

// Decides what to say about a certificate expiring at `not_after` at `now`, given the warning
// `thresholds` (any order, positive) and what was said before (`record`, updated in place; it
// starts over when not_after changed, i.e. the certificate was renewed). Past not_after:
// certificate.expired once. Otherwise, within the smallest threshold T with
// not_after - now <= T: certificate.expiring once per T (a scan that finds several thresholds
// crossed at once warns only for the smallest). nullopt when there is nothing new to say.
std::optional<ExpiryNotice> CheckExpiry(absl::Time not_after, absl::Time now,
                                        const std::vector<absl::Duration>& thresholds,
                                        ExpiryRecord& record);

// Scans every KV secret's current value for certificates and emits the events CheckExpiry
// decides on. MaybeScan and NotAfter are thread-safe; ScanAll and Check must not run
// concurrently with each other or with MaybeScan for the same path (tests call them directly).
//
// Why a periodic scan: rekey has no hook on every KV write (values also arrive through the Vault
// and AWS surfaces), and warnings are measured in days, so an hourly pass (the engine's Tick
// calls MaybeScan; the interval is EngineOptions::certificate_scan_interval) is timely enough
// and costs one read per secret per hour. The scan walks the KV tree with List, so it covers
// secrets without a rotation config too. A pass is spread over ticks: each MaybeScan does at
// most `per_call` units of work (one List or one secret read each), so a large store never holds
// the scheduler thread for long; the next pass starts `interval` after the previous one started.
class CertificateWatch {
 public:
  // References must outlive the watch. An empty `thresholds` still reports expiry.
  CertificateWatch(storage::Store& store, secrets::SecretsService& kv, EventLog& events,
                   std::vector<absl::Duration> thresholds, absl::Duration interval,
                   size_t per_call = kDefaultWorkPerCall);

  static constexpr size_t kDefaultWorkPerCall = 500;

  // Continues the pass in progress, or starts one when `interval` has passed since the last one
  // started (the first call always starts one); does at most `per_call` units of work.
  void MaybeScan(absl::Time now);
  // Whether a pass is in progress (it continues at the next MaybeScan).
  bool Scanning() const;
  // One pass over every secret now; returns how many hold a certificate. Errors reading one
  // secret skip it; a failure to list or to commit is returned.
  absl::StatusOr<size_t> ScanAll(absl::Time now);
  // Checks one secret now (its record and events); OK when it holds no certificate.
  absl::Status Check(std::string_view path, absl::Time now);
  // The earliest certificate expiry in the current value of `path`; InfiniteFuture when none
  // or unreadable.
  absl::Time NotAfter(std::string_view path);

 private:
  absl::Status Walk(const std::string& folder, absl::Time now, int depth, size_t& found);
  // Updates the record of `path`, whose certificate expires at `not_after`, and emits what
  // CheckExpiry decides, in one commit.
  absl::Status Note(std::string_view path, absl::Time not_after, absl::Time now);

  // Checks `path` if it holds a certificate; counts it in `found`.
  void CheckOne(const std::string& path, absl::Time now, size_t& found);

  storage::Store& store_;
  secrets::SecretsService& kv_;
  EventLog& events_;
  const std::vector<absl::Duration> thresholds_;
  const absl::Duration interval_;
  const size_t per_call_;
  mutable std::mutex mu_;                        // held by MaybeScan through its work
  absl::Time next_scan_ = absl::InfinitePast();  // guarded by mu_
  // The pass in progress (guarded by mu_): folders still to list, secrets still to read.
  bool in_pass_ = false;
  std::vector<std::string> folders_;
  std::deque<std::string> paths_;
};

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_EXPIRY_H_
