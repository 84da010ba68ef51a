// CallControl: one operator command to the coordinator's control endpoint (control_server.h),
// as reflexctl sends it.
//
// One call = a fresh DEALER socket (linger 0, its own zmq::context_t), one request frame, and a
// wait of at most `timeout` for the one ControlReply frame that echoes request.request_id.
// It never hangs: an unreachable or silent coordinator costs `timeout` (plus the close, which
// linger 0 makes immediate). The request is sent once and never retried: control commands such
// as heal or rollback are not idempotent.
// A plain function, safe from any thread (it shares nothing). Units: milliseconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/status.h"
#include "transport/curve_keys.h"
#include "wire/messages.h"

namespace reflex::transport {

// Returns the coordinator's reply; a refusal (reply.error != kOk) is a reply, not a Status.
// Fails with
//   Unavailable: "no reply from the coordinator at <endpoint> within <N> ms (is it running?)";
//   Corruption: the reply could not be decoded, or was not a control_reply (names which);
//   InvalidArgument: a malformed endpoint, a negative timeout, or bad CURVE keys.
// With `curve`, the socket is a CURVE client that only talks to curve->server_public.
Result<wire::ControlReply> CallControl(const std::string& endpoint, const wire::ControlRequest& request,
                                       std::chrono::milliseconds timeout,
                                       const std::optional<CurveClientConfig>& curve = std::nullopt);

}  // namespace reflex::transport
