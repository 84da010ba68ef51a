// reflexctl's command line: global options and the commands an operator types, turned into
// the wire::ControlRequest the coordinator's control endpoint understands (PROTOCOL.md §4.9).
//
//   status                  -> "status"      []
//   policy show             -> "policy-get"  []
//   policy set KEY VALUE    -> "policy-set"  [KEY, VALUE]
//   heal                    -> "heal"        []
//   rollback [VERSION]      -> "rollback"    [] or [VERSION]
//   pin VERSION             -> "pin"         [VERSION]
//   unpin | freeze | unfreeze | history -> the same name, []
//   keygen --out DIR NAME   -> no request: writes a CURVE key pair DIR/NAME.key + DIR/NAME.pub
//
// With --curve-keys DIR (env REFLEX_CURVE_KEYS) the request goes over CURVE: reflexctl's own pair
// is DIR/<--curve-name, default "operator">.{key,pub} (its public key must be in the
// coordinator's [security] operators list) and the coordinator's public key is --server-key
// (default DIR/coordinator.pub).
//
// Register() adds the options and subcommands to a CLI11 app; after a successful parse,
// request() holds the command (its request_id is left 0 for the caller to choose).
// Not synchronised; lives as long as the app it registered with.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "wire/messages.h"

namespace reflex::reflexctl {

constexpr const char* kDefaultEndpoint = "tcp://127.0.0.1:7401";
constexpr const char* kEndpointEnv = "REFLEX_CONTROL";  // overrides the default endpoint
constexpr int kDefaultTimeoutMs = 3000;
constexpr const char* kCurveKeysEnv = "REFLEX_CURVE_KEYS";  // default of --curve-keys

class CommandLine {
 public:
  // Adds --endpoint, --timeout-ms, --json and every command to `app`.
  void Register(CLI::App& app);

  const std::string& endpoint() const { return endpoint_; }
  int timeout_ms() const { return timeout_ms_; }
  bool json() const { return json_; }
  const wire::ControlRequest& request() const { return request_; }
  // CURVE: empty curve_keys() means plain TCP.
  const std::string& curve_keys() const { return curve_keys_; }
  const std::string& curve_name() const { return curve_name_; }
  // The coordinator's public key file: --server-key, else <curve_keys>/coordinator.pub.
  std::string server_key() const;
  // keygen: no request is sent.
  bool keygen() const { return keygen_; }
  const std::string& keygen_dir() const { return keygen_dir_; }
  const std::string& keygen_name() const { return keygen_name_; }

 private:
  // Adds a subcommand `name` (to `parent`) that sends `command` with no arguments.
  CLI::App* AddPlain(CLI::App& parent, const std::string& name, const std::string& command,
                     const std::string& description);

  std::string endpoint_ = kDefaultEndpoint;
  int timeout_ms_ = kDefaultTimeoutMs;
  bool json_ = false;
  std::string curve_keys_, curve_name_ = "operator", server_key_;
  bool keygen_ = false;
  std::string keygen_dir_, keygen_name_;
  std::string policy_key_, policy_value_, version_;
  wire::ControlRequest request_;
};

}  // namespace reflex::reflexctl
