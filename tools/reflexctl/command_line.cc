#include "command_line.h"

#include <cctype>

namespace reflex::reflexctl {
namespace {

// An adapter version as the operator types it: decimal digits only.
const CLI::Validator kVersionNumber(
    [](std::string& text) -> std::string {
      if (text.empty() || text.size() > 19) return "expected a version number (0, 1, 2, ...), got '" + text + "'";
      for (unsigned char c : text) {
        if (!std::isdigit(c)) return "expected a version number (0, 1, 2, ...), got '" + text + "'";
      }
      return std::string();
    },
    "VERSION");

}  // namespace

CLI::App* CommandLine::AddPlain(CLI::App& parent, const std::string& name, const std::string& command,
                                const std::string& description) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->callback([this, command] {
    request_.command = command;
    request_.args.clear();
  });
  return sub;
}

void CommandLine::Register(CLI::App& app) {
  app.add_option("--endpoint", endpoint_,
                 std::string("coordinator control endpoint (env ") + kEndpointEnv + " overrides the default)")
      ->envname(kEndpointEnv)
      ->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms_, "how long to wait for the coordinator's reply, in milliseconds")
      ->check(CLI::Range(1, 3600 * 1000))
      ->capture_default_str();
  app.add_flag("--json", json_, "print the reply body as JSON, on one line");
  app.add_option("--curve-keys", curve_keys_,
                 std::string("folder of CURVE keys: talk to the coordinator over CURVE with the operator pair "
                             "<DIR>/<curve-name>.{key,pub} and the server key <DIR>/coordinator.pub (env ") +
                     kCurveKeysEnv + ")")
      ->envname(kCurveKeysEnv);
  app.add_option("--curve-name", curve_name_, "name of reflexctl's key pair in --curve-keys")->capture_default_str();
  app.add_option("--server-key", server_key_, "the coordinator's public key file (default <curve-keys>/coordinator.pub)");
  // At most one command; none is reported by the caller (so an unknown word is named as such).
  app.require_subcommand(0, 1);

  AddPlain(app, "status", "status", "epoch, serving version, mode, drift, replicas and healers");

  CLI::App* policy = app.add_subcommand("policy", "show or change the heal policy");
  policy->require_subcommand(1);
  AddPlain(*policy, "show", "policy-get", "print the heal policy");
  CLI::App* set = policy->add_subcommand("set", "change one heal policy value");
  set->add_option("KEY", policy_key_, "policy key, e.g. lr")->required();
  set->add_option("VALUE", policy_value_, "new value, e.g. 0.01")->required();
  set->callback([this] {
    request_.command = "policy-set";
    request_.args = {policy_key_, policy_value_};
  });

  AddPlain(app, "heal", "heal", "start a heal job now");

  CLI::App* rollback = app.add_subcommand("rollback", "serve an earlier version (the best one when none is given)");
  rollback->add_option("VERSION", version_, "version to go back to")->check(kVersionNumber);
  rollback->callback([this] {
    request_.command = "rollback";
    request_.args.clear();
    if (!version_.empty()) request_.args = {version_};
  });

  CLI::App* pin = app.add_subcommand("pin", "serve this version and stop automatic changes");
  pin->add_option("VERSION", version_, "version to pin")->required()->check(kVersionNumber);
  pin->callback([this] {
    request_.command = "pin";
    request_.args = {version_};
  });

  AddPlain(app, "unpin", "unpin", "drop the pin; automatic healing resumes");
  AddPlain(app, "freeze", "freeze", "stop heals (automatic and commanded) until unfreeze; rollback and pin still work");
  AddPlain(app, "unfreeze", "unfreeze", "undo freeze: back to the mode in force before it");
  AddPlain(app, "history", "history", "every adapter version with its metrics");

  CLI::App* keygen = app.add_subcommand("keygen", "write a new CURVE key pair DIR/NAME.key (secret, 0600) and DIR/NAME.pub");
  keygen->add_option("--out", keygen_dir_, "folder for the key files (created when missing)")->required();
  keygen->add_option("NAME", keygen_name_, "key pair name, e.g. coordinator, replica, operator, client")->required();
  keygen->callback([this] {
    keygen_ = true;
    request_.command.clear();
  });
}

std::string CommandLine::server_key() const {
  if (!server_key_.empty() || curve_keys_.empty()) return server_key_;
  return curve_keys_ + "/coordinator.pub";
}

}  // namespace reflex::reflexctl
