// Early-return helpers over absl::Status / absl::StatusOr (Debian's Abseil 20220623 has none).
#ifndef REKEY_CORE_STATUS_MACROS_H_
#define REKEY_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define REKEY_STATUS_CONCAT_INNER_(a, b) a##b
#define REKEY_STATUS_CONCAT_(a, b) REKEY_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns it when not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status rekey_status_ = (expr);         \
    if (!rekey_status_.ok()) return rekey_status_; \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>); on error returns its
// status, otherwise moves the value into `lhs` (which may be a declaration, e.g. `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  REKEY_ASSIGN_OR_RETURN_IMPL_(REKEY_STATUS_CONCAT_(rekey_statusor_, __LINE__), lhs, expr)

#define REKEY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // REKEY_CORE_STATUS_MACROS_H_
