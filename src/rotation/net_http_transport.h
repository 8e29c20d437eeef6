// NetHttpTransport: the production rotation::HttpTransport, on rekey::net::HttpClient (Beast).
#ifndef REKEY_ROTATION_NET_HTTP_TRANSPORT_H_
#define REKEY_ROTATION_NET_HTTP_TRANSPORT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rotation/rotator.h"

namespace rekey::rotation {

// Sends each call on a fresh connection (rotations are rare; a connection is not worth keeping
// for minutes between steps), so calls share nothing and Send is thread-safe.
//
// The URL must be absolute http:// or https:// without user info; the path and query are sent
// as given (percent-encoding kept), a fragment is dropped. Errors, as HttpTransport promises:
// kInvalidArgument for a bad URL, method, header or ca_file; kUnavailable when the server cannot
// be reached, the connection fails or the response is malformed; kDeadlineExceeded when
// `call.timeout` (connect included) runs out. Messages name the URL's origin only (a query may
// carry tokens), never a header value or body.
class NetHttpTransport final : public HttpTransport {
 public:
  absl::StatusOr<HttpReply> Send(const HttpCall& call) override;
};

// The parts of an http(s) URL the transport needs. kInvalidArgument (naming the origin at most)
// for anything but an absolute http/https URL with a host and no user info.
struct ParsedHttpUrl {
  bool tls = false;
  std::string origin;          // "https://host:port", port always present, host lower-case
  std::string path_and_query;  // "/" when the URL has no path
};
absl::StatusOr<ParsedHttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace rekey::rotation

#endif  // REKEY_ROTATION_NET_HTTP_TRANSPORT_H_
