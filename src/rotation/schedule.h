// Rotation schedules: when a secret is next due. Parses the `schedule` of a rotation config
// (`rate(30d)`, `cron(0 2 * * SUN)`, AWS `cron(0 16 1,15 * ? *)`, `before_expiry(30d)`,
// `at_fraction(2/3)`) and decides, given a due time and a start window, whether a rotation starts
// now, waits, or was missed. Pure computation in UTC: no clock, no storage.
#ifndef REKEY_ROTATION_SCHEDULE_H_
#define REKEY_ROTATION_SCHEDULE_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace rekey::rotation {

// Durations in schedules and rotation config (`window`, `grace`, backoff): one or more
// `<digits><unit>` parts with units d, h, m, s from largest to smallest, each at most once
// ("30d", "12h", "90m", "1d12h", "45s"), or "0". Whole seconds; at most 36500d.
// kInvalidArgument (naming the text and what is wrong) otherwise.
absl::StatusOr<absl::Duration> ParseScheduleDuration(std::string_view text);
// The canonical form ParseScheduleDuration accepts back: "1d12h", "90m" -> "1h30m", zero -> "0s".
// Sub-second, negative or infinite durations (which Parse never yields) are written with
// absl::FormatDuration and do not parse back.
std::string FormatScheduleDuration(absl::Duration d);

// What a schedule is computed from: the secret's history and its current value's validity.
struct ScheduleInput {
  // When the secret was last rotated; absl::InfinitePast() = never rotated: `created` is used.
  absl::Time last_rotated = absl::InfinitePast();
  absl::Time created = absl::InfinitePast();
  // The current value's validity (certificates, expiring API keys), when it has one.
  std::optional<absl::Time> not_before;
  std::optional<absl::Time> not_after;
};

namespace internal {
// A parsed cron expression: one bit per allowed value. Weekdays are 0 = Sunday .. 6 = Saturday
// whatever the written form.
struct CronSpec {
  static constexpr int kMinYear = 1970;  // AWS year field range
  static constexpr int kMaxYear = 2199;

  uint64_t minutes = 0;                        // bit m: minute m, 0-59
  uint32_t hours = 0;                          // bit h: hour h, 0-23
  uint32_t days = 0;                           // bit d: day-of-month d, 1-31
  bool last_day = false;                       // `L` in day-of-month: the month's last day
  uint16_t months = 0;                         // bit m: month m, 1-12
  uint8_t weekdays = 0;                        // bit w: weekday w
  std::array<uint8_t, 7> nth_weekdays{};       // `w#n`: bit n (1-5) of [w], the n-th weekday w
  bool days_restricted = false;                // day-of-month does not match every day
  bool weekdays_restricted = false;            // day-of-week does not match every day
  bool any_year = true;                        // 5-field form, or year `*`
  std::bitset<kMaxYear - kMinYear + 1> years;  // bit y - kMinYear; used when !any_year
};
}  // namespace internal

// A parsed, valid schedule. Cheap to copy; immutable; thread-compatible.
class Schedule {
 public:
  enum class Kind {
    kRate,          // every N minutes/hours/days after the last rotation
    kCron,          // at the times a cron expression matches (UTC, minute resolution)
    kBeforeExpiry,  // a fixed time before the current value's not_after
    kAtFraction,    // a fraction p/q into the current value's lifetime
  };

  // Parses one of:
  //  - `rate(N unit)`: unit m|h|d|minute(s)|hour(s)|day(s), with or without a space
  //    (`rate(30d)`, `rate(1 day)`, `rate(12 hours)`); N >= 1; at most 10 years (3650d).
  //  - `cron(min hour dom month dow)`: standard cron; dow 0-7 (0 and 7 = Sunday) or SUN-SAT.
  //  - `cron(min hour dom month dow year)`: the AWS form; dow 1-7 (1 = SUN) or SUN-SAT; year
  //    1970-2199; `?` in exactly one of dom and dow.
  //    Both forms take `*`, `?` (dom/dow: any), lists `a,b`, ranges `a-b`, steps `*/n`, `a-b/n`
  //    and `a/n` (a to the field's maximum), names JAN-DEC and SUN-SAT (any case), `L` in dom
  //    (last day of the month) and `w#n` in dow (the n-th weekday w of the month, n 1-5).
  //    `W` and `L` in dow are not supported. When both dom and dow are restricted (neither
  //    matches every day), a day matches if EITHER matches (standard cron); otherwise the
  //    restricted one decides. A cron that can never fire (`cron(0 0 31 2 *)`, `cron(0 0 30 2 *)`,
  //    Feb 29 only in non-leap years) is rejected here, so the next-occurrence search always
  //    terminates.
  //  - `before_expiry(D)`: D (a schedule duration > 0, at most 3650d) before not_after.
  //  - `at_fraction(p/q)`: not_before + (not_after - not_before) * p / q; 0 < p < q <= 1000000.
  // kInvalidArgument with a message naming the form, field and value otherwise.
  static absl::StatusOr<Schedule> Parse(std::string_view text);

  // The canonical text, which Parse accepts back as an equal schedule: `rate(Nd|Nh|Nm)` in the
  // largest whole unit, `cron(...)` with single spaces and upper-case names as written,
  // `before_expiry(<FormatScheduleDuration>)`, `at_fraction(p/q)` in lowest terms.
  std::string ToString() const;

  Kind kind() const { return kind_; }
  // True for before_expiry and at_fraction, which follow the value's lifetime and have no
  // recurring occurrences.
  bool lifetime_based() const { return kind_ == Kind::kBeforeExpiry || kind_ == Kind::kAtFraction; }

  // When the secret is next due.
  //  - rate: last rotation (or created) + N.
  //  - cron: the first matching minute strictly after the last rotation (or created).
  //  - before_expiry: not_after - D.
  //  - at_fraction: not_before + (not_after - not_before) * p / q, where not_before defaults to
  //    the last rotation (or created) when the value has none.
  // Errors: kInvalidArgument when the time it counts from is infinite (rate/cron with neither
  // last_rotated nor created set); kFailedPrecondition when a lifetime schedule's value has no
  // not_after, or not_after is not after not_before; kOutOfRange when an AWS cron's year list
  // has no occurrence left.
  absl::StatusOr<absl::Time> NextDue(const ScheduleInput& in) const;

  // The first occurrence strictly after `t`.
  //  - rate: anchor + k*N for the smallest integer k >= 0 with anchor + k*N > t (the grid of
  //    occurrences is fixed by `anchor`, usually the due time or last rotation).
  //  - cron: the first matching minute after `t`; `anchor` is ignored. Efficient: it skips
  //    non-matching years, months, days and hours.
  // absl::InfiniteFuture() when there is none: lifetime-based schedules, an AWS cron whose years
  // are over, or an infinite `t`/`anchor`.
  absl::Time NextOccurrenceAfter(absl::Time anchor, absl::Time t) const;

  // Equal canonical text (so `cron(0 2 * * 0)` and `cron(0 2 * * SUN)` differ).
  friend bool operator==(const Schedule& a, const Schedule& b) {
    return a.ToString() == b.ToString();
  }

 private:
  Schedule() = default;

  Kind kind_ = Kind::kRate;
  absl::Duration duration_;  // rate: the period; before_expiry: the lead time
  int64_t numerator_ = 0;    // at_fraction
  int64_t denominator_ = 1;
  internal::CronSpec cron_;
  std::string cron_text_;  // canonical cron fields, single-spaced
};

// What the scheduler does about a secret whose schedule came due.
struct DueDecision {
  enum Kind {
    kNotDue,  // now < due: wait until `due`
    kStart,   // start a rotation now
    kMissed,  // the start window passed: record a missed rotation and wait until `next_due`
  };
  Kind kind = kNotDue;
  absl::Time due;       // the due time decided on
  absl::Time next_due;  // kMissed: the next occurrence after now; otherwise == due
};

// Decides what to do at `now` for a secret due at `due` (from Schedule::NextDue) with a start
// window of `window` (<= 0: no window, a late rotation always starts):
//  - now < due                         -> kNotDue;
//  - no window, or now <= due + window -> kStart (exactly due + window still starts);
//  - otherwise                         -> kMissed, next_due = schedule.NextOccurrenceAfter(due,
//    now) (for a rate: the next point of the grid due + k*N after now; for a cron: its next
//    match after now). A lifetime-based schedule (before_expiry, at_fraction) has no next
//    occurrence and a certificate must not be left to expire, so its kMissed has
//    next_due == now: the caller records the miss and starts at once.
// One call decides for one due time, however many intervals passed since: a server that was
// down for 100 intervals gets one kStart (or one kMissed), never one per missed interval.
DueDecision Decide(const Schedule& schedule, absl::Time due, absl::Duration window, absl::Time now);

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_SCHEDULE_H_
