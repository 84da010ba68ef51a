// reflexctl: the operator's command-line client for the coordinator's control endpoint
// (README.md in this folder). One command = one ControlRequest, one reply.
// Exit codes: 0 success; 1 the coordinator refused (keygen: the files could not be written);
// 2 usage error (bad keys too); 3 unreachable or timed out (with CURVE: also a key the
// coordinator does not accept, since a refused handshake looks like silence).
#include <chrono>
#include <iostream>
#include <optional>
#include <random>

#include <CLI/CLI.hpp>

#include "command_line.h"
#include "reply_printer.h"
#include "transport/control_client.h"
#include "transport/curve_keys.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

uint64_t RandomRequestId() {
  std::random_device random;
  return ((uint64_t{random()} << 32) ^ random()) | 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("reflexctl: operate a Reflex coordinator (status, policy, heal, rollback, pin, freeze)",
               "reflexctl");
  reflex::reflexctl::CommandLine command_line;
  command_line.Register(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error and a hint
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (command_line.keygen()) {
    auto pair = reflex::transport::GenerateCurveKeyPair();
    reflex::Status written = pair.ok() ? reflex::transport::WriteKeyPair(command_line.keygen_dir(),
                                                                          command_line.keygen_name(), *pair)
                                       : pair.status();
    if (!written.ok()) {
      std::cerr << "reflexctl: keygen: " << written.message() << "\n";
      return written.code() == reflex::StatusCode::kInvalidArgument ? kExitUsage : kExitRefused;
    }
    const std::string base = command_line.keygen_dir() + "/" + command_line.keygen_name();
    std::cout << "wrote " << base << ".key (secret, mode 0600) and " << base << ".pub\n"
              << "public key: " << pair->public_key << "\n";
    return kExitOk;
  }
  std::optional<reflex::transport::CurveClientConfig> curve;
  if (!command_line.curve_keys().empty()) {
    auto own = reflex::transport::ReadKeyPair(command_line.curve_keys(), command_line.curve_name());
    if (!own.ok()) {
      std::cerr << "reflexctl: --curve-keys: " << own.status().message() << "\n";
      return kExitUsage;
    }
    auto server = reflex::transport::ReadPublicKey(command_line.server_key());
    if (!server.ok()) {
      std::cerr << "reflexctl: --server-key: " << server.status().message() << "\n";
      return kExitUsage;
    }
    curve = reflex::transport::CurveClientConfig{*own, *server};
  }
  if (command_line.request().command.empty()) {
    std::cerr << "reflexctl: a command is required (status, policy, heal, rollback, pin, unpin, freeze, "
                 "unfreeze, history)\nRun with --help for more information.\n";
    return kExitUsage;
  }
  reflex::wire::ControlRequest request = command_line.request();
  request.request_id = RandomRequestId();
  auto reply = reflex::transport::CallControl(command_line.endpoint(), request,
                                              std::chrono::milliseconds(command_line.timeout_ms()), curve);
  if (!reply.ok()) {
    std::cerr << "reflexctl: " << reply.status().message() << "\n";
    return reply.status().code() == reflex::StatusCode::kInvalidArgument ? kExitUsage : kExitUnreachable;
  }
  if (reply->error != reflex::wire::ErrorCode::kOk) {
    std::cerr << "reflexctl: " << request.command << " refused: " << reply->message << " ("
              << reflex::wire::ErrorCodeName(reply->error) << ")\n";
    return kExitRefused;
  }
  if (command_line.json()) {
    std::cout << reflex::reflexctl::OneLineJson(reply->body_json) << "\n";
  } else {
    std::cout << reflex::reflexctl::FormatReply(request.command, reply->body_json);
  }
  return kExitOk;
}
