// The one table mapping absl::StatusCode to an HTTP status. Every API surface uses it and renders
// the error body in its own wire shape.
#ifndef REKEY_API_HTTP_STATUS_HTTP_H_
#define REKEY_API_HTTP_STATUS_HTTP_H_

#include "absl/status/status.h"

namespace rekey::http {

// OK                                                   -> 200
// InvalidArgument, FailedPrecondition, OutOfRange,
//   AlreadyExists                                      -> 400  (Vault: "invalid request")
// Unauthenticated, PermissionDenied                    -> 403  (hvac treats 401 as a hard error)
// NotFound                                             -> 404
// Unimplemented                                        -> 405  (Vault: "unsupported operation";
//                                                               501 would read as "not
//                                                               initialized" to hvac)
// Aborted                                              -> 409  (concurrent-modification conflict;
//                                                               a KV check-and-set mismatch must
//                                                               be FailedPrecondition to get
//                                                               Vault's 400)
// ResourceExhausted                                    -> 429
// Unavailable                                          -> 503
// DeadlineExceeded                                     -> 504
// everything else (Unknown, Internal, DataLoss, Cancelled) -> 500
// Thread-safe (pure function).
int HttpStatusFromCode(absl::StatusCode code);

}  // namespace rekey::http

#endif  // REKEY_API_HTTP_STATUS_HTTP_H_
