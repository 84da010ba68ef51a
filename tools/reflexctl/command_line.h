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

class CommandLine {
 public:
  // Adds --endpoint, --timeout-ms, --json and every command to `app`.
  void Register(CLI::App& app);

  const std::string& endpoint() const { return endpoint_; }
  int timeout_ms() const { return timeout_ms_; }
  bool json() const { return json_; }
  const wire::ControlRequest& request() const { return request_; }

 private:
  // Adds a subcommand `name` (to `parent`) that sends `command` with no arguments.
  CLI::App* AddPlain(CLI::App& parent, const std::string& name, const std::string& command,
                     const std::string& description);

  std::string endpoint_ = kDefaultEndpoint;
  int timeout_ms_ = kDefaultTimeoutMs;
  bool json_ = false;
  std::string policy_key_, policy_value_, version_;
  wire::ControlRequest request_;
};

}  // namespace reflex::reflexctl
