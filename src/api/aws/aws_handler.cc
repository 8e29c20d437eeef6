#include "api/aws/aws_handler.h"

#include <boost/json.hpp>

#include "api/aws/aws_call.h"
#include "core/strings.h"
#include "crypto/hash.h"

namespace rekey::api::aws {

bool IsAwsRequest(const http::Request& req) {
  return req.method == "POST" && req.path == "/" && req.GetHeader("x-amz-target").has_value();
}

std::string AccountIdForCluster(std::string_view cluster_id) {
  const std::string digest = crypto::Sha256(cluster_id);
  std::string out;
  for (int i = 0; i < 12; ++i) out += static_cast<char>('0' + static_cast<uint8_t>(digest[i]) % 10);
  return out;
}

AwsHandler::AwsHandler(secrets::SecretsService& kv, rotation::RotationEngine* engine,
                       AccessKeyStore& keys, auth::PolicyStore& policies, const Clock& clock,
                       Random& random, AwsHandlerOptions options)
    : kv_(kv),
      engine_(engine),
      keys_(keys),
      policies_(policies),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

namespace {

http::Response Render(const Reply& reply, const http::Request& req, absl::Time now) {
  http::Response res;
  res.content_type = "application/x-amz-json-1.1";
  res.headers.push_back({"x-amzn-RequestId", req.request_id});
  // SDKs correct their clock skew from it (AWS always sends one).
  res.headers.push_back(
      {"Date", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now, absl::UTCTimeZone())});
  if (reply.error) {
    res.status = reply.error->status;
    res.headers.push_back({"x-amzn-ErrorType", reply.error->type});
    res.body = json::serialize(
        json::object{{"__type", JV(reply.error->type)}, {"Message", JV(reply.error->message)}});
  } else {
    res.body = json::serialize(reply.body);
  }
  return res;
}

}  // namespace

bool IsAwsReadRequest(const http::Request& req) {
  if (!IsAwsRequest(req)) return false;
  constexpr std::string_view kPrefix = "secretsmanager.";
  const std::string_view target = *req.GetHeader("x-amz-target");
  if (!target.starts_with(kPrefix)) return false;
  const std::string_view op = target.substr(kPrefix.size());
  for (std::string_view read : {"GetSecretValue", "DescribeSecret", "ListSecretVersionIds",
                                "ListSecrets", "BatchGetSecretValue", "GetRandomPassword"}) {
    if (op == read) return true;
  }
  return false;
}

bool AwsHandler::MayBlock(const http::Request& req) const {
  // ListSecrets reads every secret's metadata: the blocking pool, like every write.
  return !IsAwsReadRequest(req) || *req.GetHeader("x-amz-target") == "secretsmanager.ListSecrets";
}

http::Response AwsHandler::Handle(http::Request& req) {
  SigV4Options sig_options;
  sig_options.region = options_.region;
  SigV4Auth sig;
  AwsError error;
  if (!ParseSigV4(req, clock_.Now(), sig_options, sig, error))
    return Render(Reply{error, {}}, req, clock_.Now());
  absl::StatusOr<std::shared_ptr<const AccessKey>> key = keys_.Lookup(sig.access_key_id);
  if (!key.ok()) {
    if (key.status().code() != absl::StatusCode::kNotFound) {
      return Render(Err("InternalServiceError", "An error occurred on the server side.", 500), req,
                    clock_.Now());
    }
    return Render(Err("UnrecognizedClientException",
                      "The security token included in the request is invalid."),
                  req, clock_.Now());
  }
  if (!VerifySigV4(req, sig, (*key)->secret, error))
    return Render(Reply{error, {}}, req, clock_.Now());

  std::string_view target = *req.GetHeader("x-amz-target");
  constexpr std::string_view kTargetPrefix = "secretsmanager.";
  if (!target.starts_with(kTargetPrefix)) {
    return Render(Err("UnknownOperationException", "The requested operation is not recognized."),
                  req, clock_.Now());
  }
  boost::system::error_code ec;
  json::value body = json::parse(req.body.empty() ? std::string_view("{}") : req.body, ec);
  if (ec || !body.is_object()) {
    return Render(Err("SerializationException", "The request body is not a JSON object."), req,
                  clock_.Now());
  }
  absl::StatusOr<std::shared_ptr<const auth::PolicySet>> set = policies_.SetFor((*key)->policies);
  if (!set.ok()) {
    return Render(Err("InternalServiceError", "An error occurred on the server side.", 500), req,
                  clock_.Now());
  }
  AwsCall call(kv_, engine_, **set, clock_, random_, options_, StrCat("aws:", (*key)->id));
  return Render(call.Dispatch(target.substr(kTargetPrefix.size()), body.as_object()), req,
                clock_.Now());
}

}  // namespace rekey::api::aws
