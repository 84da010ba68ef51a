// The [security] section of the coordinator's and replicas' TOML files: whether every ZeroMQ
// socket runs CURVE, and where the keys live (files written by `reflexctl keygen`, format in
// transport/curve_keys.h). Relative paths are relative to the folder the service starts in.
//
//   coordinator: curve, key_dir, key_name (its pair: <key_dir>/<key_name>.key/.pub),
//                bus_clients (allow-list of weight-bus subscribers: a folder of *.pub or a file),
//                operators (allow-list of reflexctl operator keys for the control endpoint)
//   replica:     curve, key_dir, key_name (its pair: serves scoring, subscribes to the bus),
//                coordinator_key (the coordinator's .pub: the only publisher it will hear),
//                scoring_clients (allow-list of scoring clients)
// An allow-list path that is "" means "any client that knows the server's public key"; a
// non-empty path must hold at least one key (curve_keys.h: an empty list is a mistake).
// Keys are read only when curve = true. Errors name the key and the file.
#pragma once

#include <string>
#include <vector>

#include "actors/cluster_options.h"
#include "core/status.h"
#include "services/common/service_config.h"

namespace reflex::services {

// The key pair <key_dir>/<key_name> of `section`.
Result<actors::CurveKeyText> LoadOwnKeys(const ServiceConfig& cfg, const std::string& section);
// The allow-list named by section.key ("" → empty list: no allow-list).
Result<std::vector<std::string>> LoadAllowList(const ServiceConfig& cfg, const std::string& section,
                                               const std::string& key);

}  // namespace reflex::services
