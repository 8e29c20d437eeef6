// Vault's response envelope around a `data` object, for handlers whose data may hold secrets
// (transit plaintexts and data keys, PKI private keys, JWT tokens): built in zeroing storage and
// serialized without leaving an unwiped copy behind.
#ifndef REKEY_API_VAULT_DATA_RESPONSE_H_
#define REKEY_API_VAULT_DATA_RESPONSE_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "api/http/message.h"

namespace rekey::api {

// An empty object in ZeroingStorage(), for building `data`.
boost::json::object NewSecretObject();

// Serializes `v` in one pass; every buffer it outgrows is wiped before it is freed, so the only
// copy left is the returned string (the server wipes response bodies after writing them).
std::string SerializeWiped(const boost::json::value& v);

// {"request_id", "lease_id": "", "renewable": false, "lease_duration": 0, "data", "wrap_info":
// null, "warnings": null or [...], "auth": null} with `status`.
http::Response DataResponse(const http::Request& req, boost::json::object data,
                            const std::vector<std::string>& warnings = {}, int status = 200);

}  // namespace rekey::api

#endif  // REKEY_API_VAULT_DATA_RESPONSE_H_
