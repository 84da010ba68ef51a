#include "transport/control_client.h"

#include <algorithm>
#include <utility>

#include <zmq.hpp>

#include "wire/codec.h"

namespace reflex::transport {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds Until(Clock::time_point t) {
  return std::max(std::chrono::duration_cast<milliseconds>(t - Clock::now()), milliseconds(0));
}

// Replies may carry long JSON bodies (a long history): allow strings up to the frame limit.
wire::Limits ReplyLimits() {
  wire::Limits limits;
  limits.max_string = limits.max_message_bytes;
  return limits;
}

// Waits for the reply on a connected socket that has sent the request.
Result<wire::ControlReply> AwaitReply(zmq::socket_t& socket, const std::string& endpoint, uint64_t request_id,
                                      milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const wire::Limits limits = ReplyLimits();
  // Each pass either returns or consumes one frame that arrived; bounded by the deadline.
  for (;;) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, Until(deadline));
    if (!(item.revents & ZMQ_POLLIN)) {
      return Status::Unavailable("no reply from the coordinator at " + endpoint + " within " +
                                 std::to_string(timeout.count()) + " ms (is it running?)");
    }
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::dontwait)) continue;
    while (frame.more()) {  // a one-frame protocol: the payload is the last frame
      if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
    }
    wire::Decoded decoded = wire::Decode(frame.data(), frame.size(), limits);
    if (!decoded.ok()) {
      return Status::Corruption("malformed reply from the coordinator at " + endpoint + ": " +
                                wire::ErrorCodeName(decoded.error.code) + ": " + decoded.error.message);
    }
    auto* reply = std::get_if<wire::ControlReply>(&*decoded.message);
    if (!reply) {
      return Status::Corruption("unexpected reply from the coordinator at " + endpoint + ": expected control_reply, got " +
                                wire::MessageTypeName(wire::TypeOf(*decoded.message)));
    }
    // The socket is fresh, so any reply is to this request; an id of 0 is a refusal the server
    // could not address.
    if (reply->request_id == request_id || (reply->request_id == 0 && reply->error != wire::ErrorCode::kOk)) {
      return std::move(*reply);
    }
  }
}

}  // namespace

Result<wire::ControlReply> CallControl(const std::string& endpoint, const wire::ControlRequest& request,
                                       milliseconds timeout, const std::optional<CurveClientConfig>& curve) {
  if (timeout.count() < 0) return Status::InvalidArgument("CallControl: negative timeout");
  zmq::context_t context(1);
  Result<wire::ControlReply> result = Status::Internal("CallControl: not run");
  {
    std::optional<zmq::socket_t> socket;
    try {
      socket.emplace(context, zmq::socket_type::dealer);
      socket->set(zmq::sockopt::linger, 0);
      if (curve) {
        Status applied = ApplyCurveClient(*socket, curve->client, curve->server_public);
        if (!applied.ok()) return applied.WithContext("CallControl: CURVE for " + endpoint);
      }
      socket->connect(endpoint);
    } catch (const zmq::error_t& e) {
      return Status::InvalidArgument("CallControl: connect " + endpoint + ": " + e.what() +
                                     " (expected e.g. tcp://127.0.0.1:7401)");
    }
    try {
      // Without ZMQ_IMMEDIATE the DEALER queues the frame until the connection is up, so one
      // send covers a coordinator that is still starting; it never blocks (an empty queue).
      if (!socket->send(zmq::buffer(wire::Encode(wire::Message(request))), zmq::send_flags::dontwait)) {
        return Status::Unavailable("CallControl: could not queue the request to " + endpoint);
      }
      result = AwaitReply(*socket, endpoint, request.request_id, timeout);
    } catch (const zmq::error_t& e) {
      result = Status::Internal("CallControl: " + endpoint + ": " + e.what());
    }
  }  // socket closed (linger 0) before the context
  context.close();
  return result;
}

}  // namespace reflex::transport
