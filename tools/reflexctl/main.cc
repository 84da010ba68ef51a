// reflexctl: the operator's command-line client for the coordinator's control endpoint
// (README.md in this folder). One command = one ControlRequest, one reply.
// Exit codes: 0 success; 1 the coordinator refused; 2 usage error; 3 unreachable or timed out.
#include <chrono>
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>

#include "command_line.h"
#include "reply_printer.h"
#include "transport/control_client.h"

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

  if (command_line.request().command.empty()) {
    std::cerr << "reflexctl: a command is required (status, policy, heal, rollback, pin, unpin, freeze, "
                 "unfreeze, history)\nRun with --help for more information.\n";
    return kExitUsage;
  }
  reflex::wire::ControlRequest request = command_line.request();
  request.request_id = RandomRequestId();
  auto reply = reflex::transport::CallControl(command_line.endpoint(), request,
                                              std::chrono::milliseconds(command_line.timeout_ms()));
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
