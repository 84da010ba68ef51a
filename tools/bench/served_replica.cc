#include "served_replica.h"

#include <chrono>
#include <thread>

namespace reflex::bench {

Result<std::unique_ptr<ServedReplica>> ServedReplica::Start(std::shared_ptr<const ModelBundle> bundle, bool batching,
                                                            int workers) {
  std::unique_ptr<ServedReplica> r(new ServedReplica());
  r->context_ = std::make_shared<zmq::context_t>(1);
  transport::WeightPublisherOptions po;
  po.sender_id = "bench-coordinator";
  auto publisher = transport::WeightPublisher::Start(*r->context_, po);
  if (!publisher.ok()) return publisher.status();
  r->publisher_ = std::move(*publisher);
  r->last_ = bundle->model->initial_adapter();
  auto first = r->publisher_->Publish(r->last_);
  if (!first.ok()) return first.status();

  actors::ReplicaOptions ro;
  ro.id = "bench-replica";
  ro.bundle = std::move(bundle);
  ro.scoring_endpoint = "tcp://127.0.0.1:*";
  ro.scoring_workers = workers;
  ro.scoring_batching = batching;
  ro.weights_publish = r->publisher_->publish_endpoint();
  ro.weights_snapshot = r->publisher_->snapshot_endpoint();
  ro.zmq_context = r->context_;
  auto runtime = actors::ReplicaRuntime::Start(ro, nullptr);
  if (!runtime.ok()) return runtime.status();
  r->runtime_ = std::move(*runtime);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!r->runtime_->ready()) {
    if (std::chrono::steady_clock::now() > deadline) return Status::Unavailable("the bench replica did not become ready in 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return r;
}

ServedReplica::~ServedReplica() {
  if (runtime_) runtime_->Stop();
  if (publisher_) publisher_->Stop();
}

Status ServedReplica::PublishNextVersion() {
  std::lock_guard<std::mutex> lock(publish_mu_);
  AdapterVersion next = last_;
  next.parent = last_.version;
  next.version = last_.version + 1;
  // A different value every time (a tiny nudge of the last weight), so the replica compiles
  // and swaps in a new snapshot rather than confirming the one it has.
  next.weights.back() += (next.version % 2 ? 1e-6f : -1e-6f);
  next.Seal();
  auto sent = publisher_->Publish(next);
  if (!sent.ok()) return sent.status();
  last_ = std::move(next);
  return Status();
}

}  // namespace reflex::bench
