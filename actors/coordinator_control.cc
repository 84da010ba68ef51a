// The coordinator's answers to reflexctl (PROTOCOL.md, control section). Runs in the
// coordinator actor; every refusal says why (error kInvalidArgument or kNotReady + message).
#include <algorithm>
#include <cstdlib>

#include "actors/coordinator.h"

namespace reflex::actors {
namespace {

using wire::ControlReply;
using wire::ErrorCode;

ControlReply Ok(const wire::ControlRequest& req, const nlohmann::json& body) {
  ControlReply r;
  r.request_id = req.request_id;
  r.body_json = body.dump();
  return r;
}

ControlReply Refuse(const wire::ControlRequest& req, ErrorCode code, const std::string& why) {
  ControlReply r;
  r.request_id = req.request_id;
  r.error = code;
  r.message = why;
  return r;
}

ErrorCode CodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound: return ErrorCode::kInvalidArgument;
    case StatusCode::kUnavailable:
    case StatusCode::kFailedPrecondition: return ErrorCode::kNotReady;
    default: return ErrorCode::kInternal;
  }
}

bool ParseVersion(const std::string& text, uint64_t* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) return false;
  *out = std::strtoull(text.c_str(), nullptr, 10);
  return true;
}

nlohmann::json PolicyJson(const HealPolicy& p) { return {{"policy", p.ToMap()}}; }

nlohmann::json ModeJson(CoordinatorSelf self) {
  auto& st = self->state;
  return {{"mode", HealModeName(st.policy.mode)},
          {"pinned", st.pinned ? nlohmann::json(*st.pinned) : nlohmann::json(nullptr)}};
}

nlohmann::json StatusJson(CoordinatorSelf self) {
  auto& st = self->state;
  const int64_t now = CoordinatorNowMs();
  const DriftReading r = st.drift->Reading();
  const auto& names = st.options.bundle->model->spec().feature_names;
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& [id, rep] : st.replicas) {
    replicas.push_back({{"id", id},
                        {"version", rep.served_version},
                        {"epoch", rep.served_epoch},
                        {"checksum", rep.served_checksum},
                        {"highest_epoch", rep.highest_epoch},
                        {"fenced", Fenced(rep, st.runtime->epoch())},
                        {"ready", rep.alive && !Fenced(rep, st.runtime->epoch()) && InStep(rep, st.runtime->published())},
                        {"alive", rep.alive},
                        {"rows_scored", rep.rows_scored},
                        {"summary_age_ms", now - rep.last_summary_ms},
                        {"endpoint", rep.endpoint}});
  }
  nlohmann::json healers = nlohmann::json::array();
  for (const auto& [id, h] : st.healers) {
    healers.push_back({{"id", id},
                       {"device", h.device},
                       {"load", h.load},
                       {"alive", h.alive},
                       {"jobs", h.jobs},
                       {"heartbeat_age_ms", now - h.last_beat_ms}});
  }
  nlohmann::json heal = nullptr;
  if (st.heal) heal = {{"job_id", st.heal->job_id}, {"healer", st.heal->healer}, {"trigger", st.heal->trigger}};
  nlohmann::json interrupted = nullptr;
  if (st.interrupted_heal) {
    interrupted = {{"job_id", st.interrupted_heal->job_id}, {"trigger", st.interrupted_heal->trigger},
                   {"healer", st.interrupted_heal->healer}, {"outcome", "abandoned"}};
  }
  return {{"epoch", st.runtime->epoch()},
          {"current_version", st.runtime->registry().active()},
          {"current_checksum", st.runtime->published().checksum},
          {"latest_version", st.runtime->registry().LatestVersion()},
          {"mode", HealModeName(st.policy.mode)},
          {"pinned", st.pinned ? nlohmann::json(*st.pinned) : nlohmann::json(nullptr)},
          {"heal_in_flight", static_cast<bool>(st.heal)},
          {"heal", heal},
          {"interrupted_heal", interrupted},
          {"weights_publish", st.runtime->publisher().publish_endpoint()},
          {"weights_snapshot", st.runtime->publisher().snapshot_endpoint()},
          {"drift",
           {{"max_z", r.max_z},
            {"feature", r.max_feature < names.size() ? names[r.max_feature] : ""},
            {"conflict_rate", r.conflict_rate},
            {"positive_rate", r.positive_rate},
            {"rows", r.rows},
            {"labelled_rows", st.drift->labelled_rows()},
            {"drift", r.max_z > st.policy.fidi_threshold || r.conflict_rate > st.policy.conflict_threshold}}},
          {"replicas", replicas},
          {"healers", healers},
          {"recent_events", nlohmann::json(std::vector<nlohmann::json>(
                                st.events.end() - std::min<ptrdiff_t>(10, static_cast<ptrdiff_t>(st.events.size())),
                                st.events.end()))}};
}

nlohmann::json HistoryJson(CoordinatorSelf self) {
  auto& st = self->state;
  VersionRegistry& reg = st.runtime->registry();
  nlohmann::json versions = nlohmann::json::array();
  for (uint64_t v : reg.Versions()) {
    const VersionRecord* rec = reg.Get(v);
    if (!rec) continue;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [k, val] : rec->metrics) {
      if (std::isfinite(val)) metrics[k] = val;
    }
    nlohmann::json entry = {{"version", v},
                            {"parent", rec->adapter.parent},
                            {"epoch", rec->adapter.epoch},
                            {"reason", rec->reason},
                            {"created_unix_ms", rec->created_unix_ms},
                            {"active", v == reg.active()},
                            {"checksum", rec->adapter.checksum},
                            {"metrics", metrics}};
    auto w = rec->metrics.find("weights_of");
    if (w != rec->metrics.end()) entry["weights_of"] = static_cast<uint64_t>(w->second);
    versions.push_back(std::move(entry));
  }
  return {{"versions", versions}};
}

ControlReply Rollback(CoordinatorSelf self, const wire::ControlRequest& req, bool pin) {
  auto& st = self->state;
  uint64_t target = 0;
  if (!req.args.empty()) {
    if (!ParseVersion(req.args[0], &target)) {
      return Refuse(req, ErrorCode::kInvalidArgument, "'" + req.args[0] + "' is not a version number");
    }
  } else if (pin) {
    return Refuse(req, ErrorCode::kInvalidArgument, "which version? usage: pin VERSION");
  } else {
    const VersionRecord& active = st.runtime->active();
    if (active.adapter.version == 0) return Refuse(req, ErrorCode::kNotReady, "version 0 is active: nothing to roll back to");
    target = active.adapter.parent;
  }
  if (!st.runtime->registry().Get(target)) {
    return Refuse(req, ErrorCode::kInvalidArgument, "version " + std::to_string(target) + " is not in the registry");
  }
  if (!pin && st.pinned) return Refuse(req, ErrorCode::kNotReady, "v" + std::to_string(*st.pinned) + " is pinned; unpin first");
  uint64_t published = st.runtime->registry().active();
  const VersionRecord* active = st.runtime->registry().Get(published);
  const bool same_weights = active && active->adapter.weights == st.runtime->registry().Get(target)->adapter.weights;
  if (!same_weights || !pin) {
    auto record = PublishWeightsOf(self, target,
                                   std::string(pin ? "pinned" : "rollback") + " to v" + std::to_string(target) + " (operator)",
                                   control::Origin::kOperator);
    if (!record.ok()) return Refuse(req, CodeFor(record.status()), record.status().message());
    published = record->adapter.version;
  }
  if (pin) st.pinned = target;
  RecordEvent(self, pin ? "pinned" : "rolled_back", {{"version", published}, {"weights_of", target}});
  if (pin) SaveOperatorState(self);
  return Ok(req, {{"version", published}, {"weights_of", target}});
}

}  // namespace

void SaveOperatorState(CoordinatorSelf self) {
  auto& st = self->state;
  OperatorState o;
  o.mode = HealModeName(st.policy.mode);
  o.mode_before_freeze = HealModeName(st.mode_before_freeze);
  o.pinned = st.pinned;
  o.next_job_id = st.next_job_id;
  o.policy = st.policy_overrides;
  o.policy.erase("mode");  // the mode is saved on its own (freeze changes it too)
  if (st.heal) {
    o.heal = InterruptedHeal{st.heal->job_id, st.heal->parent, st.heal->started_ms, st.heal->trigger, st.heal->healer};
  }
  Status saved = st.runtime->registry().SaveOperatorState(o);
  if (!saved.ok()) RecordEvent(self, "operator_state_not_saved", {{"error", saved.message()}});
}

void RestoreOperatorState(CoordinatorSelf self) {
  auto& st = self->state;
  const OperatorState& o = st.runtime->registry().operator_state();
  for (const auto& [key, value] : o.policy) {
    HealPolicy next = st.policy;
    Status s = next.Set(key, value);
    if (s.ok()) s = next.Validate();
    if (!s.ok()) {
      RecordEvent(self, "operator_policy_dropped", {{"key", key}, {"value", value}, {"why", s.message()}});
      continue;
    }
    st.policy = next;
    st.policy_overrides[key] = value;
  }
  HealPolicy with_mode = st.policy;
  if (o.mode && with_mode.Set("mode", *o.mode).ok()) st.policy.mode = with_mode.mode;
  HealPolicy before = st.policy;
  if (before.Set("mode", o.mode_before_freeze).ok()) st.mode_before_freeze = before.mode;
  if (o.pinned && st.runtime->registry().Get(*o.pinned)) st.pinned = o.pinned;
  st.next_job_id = std::max<uint64_t>(st.next_job_id, o.next_job_id);
  if (o.heal) {
    st.interrupted_heal = o.heal;
    st.next_job_id = std::max(st.next_job_id, o.heal->job_id + 1);
    RecordEvent(self, "heal_interrupted", {{"job", o.heal->job_id}, {"trigger", o.heal->trigger}, {"healer", o.heal->healer},
                                           {"parent", o.heal->parent}, {"started_unix_ms", o.heal->started_unix_ms},
                                           {"outcome", "abandoned: its rows died with the previous coordinator"}});
  }
  if (o.mode || o.pinned || !o.policy.empty() || o.heal) {
    RecordEvent(self, "operator_state_restored", {{"mode", HealModeName(st.policy.mode)},
                                                  {"pinned", st.pinned ? nlohmann::json(*st.pinned) : nlohmann::json(nullptr)},
                                                  {"policy_keys", st.policy_overrides.size()}, {"next_job_id", st.next_job_id}});
  }
  SaveOperatorState(self);  // the interrupted heal is now on record as abandoned
}

wire::ControlReply HandleControl(CoordinatorSelf self, const wire::ControlRequest& req) {
  auto& st = self->state;
  const std::string& cmd = req.command;
  auto want_args = [&](size_t lo, size_t hi) -> std::optional<ControlReply> {
    if (req.args.size() < lo || req.args.size() > hi) {
      return Refuse(req, ErrorCode::kInvalidArgument,
                    "takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                        " arguments, got " + std::to_string(req.args.size()));
    }
    return std::nullopt;
  };
  if (cmd == "status") {
    if (auto bad = want_args(0, 0)) return *bad;
    return Ok(req, StatusJson(self));
  }
  if (cmd == "policy-get") {
    if (auto bad = want_args(0, 0)) return *bad;
    return Ok(req, PolicyJson(st.policy));
  }
  if (cmd == "policy-set") {
    if (auto bad = want_args(2, 2)) return *bad;
    HealPolicy next = st.policy;
    Status s = next.Set(req.args[0], req.args[1]);
    if (s.ok()) s = next.Validate();
    if (!s.ok()) return Refuse(req, ErrorCode::kInvalidArgument, s.message());
    st.policy = next;
    st.policy_overrides[req.args[0]] = req.args[1];
    st.drift->SetRowCapacity(static_cast<size_t>(std::max(1, st.policy.window_rows)));
    RecordEvent(self, "policy_set", {{"key", req.args[0]}, {"value", req.args[1]}});
    SaveOperatorState(self);
    return Ok(req, PolicyJson(st.policy));
  }
  if (cmd == "heal") {
    if (auto bad = want_args(0, 0)) return *bad;
    if (st.policy.mode == HealMode::kFrozen) return Refuse(req, ErrorCode::kNotReady, "heals are frozen; unfreeze first");
    if (st.pinned) return Refuse(req, ErrorCode::kNotReady, "v" + std::to_string(*st.pinned) + " is pinned; unpin first");
    Status s = StartHeal(self, "operator");
    if (!s.ok()) return Refuse(req, CodeFor(s), s.message());
    return Ok(req, {{"job_id", st.heal ? st.heal->job_id : 0}, {"healer", st.heal ? st.heal->healer : ""}});
  }
  if (cmd == "rollback") {
    if (auto bad = want_args(0, 1)) return *bad;
    return Rollback(self, req, false);
  }
  if (cmd == "pin") {
    if (auto bad = want_args(1, 1)) return *bad;
    return Rollback(self, req, true);
  }
  if (cmd == "unpin") {
    if (auto bad = want_args(0, 0)) return *bad;
    st.pinned.reset();
    RecordEvent(self, "unpinned", {});
    SaveOperatorState(self);
    return Ok(req, ModeJson(self));
  }
  if (cmd == "freeze" || cmd == "unfreeze") {
    if (auto bad = want_args(0, 0)) return *bad;
    // Freeze stops heals only (an operator must still be able to roll back or pin during an
    // incident); unfreeze returns to the mode in force before the freeze.
    if (cmd == "freeze") {
      if (st.policy.mode != HealMode::kFrozen) st.mode_before_freeze = st.policy.mode;
      st.policy.mode = HealMode::kFrozen;
    } else if (st.policy.mode == HealMode::kFrozen) {
      st.policy.mode = st.mode_before_freeze;
    }
    RecordEvent(self, cmd == "freeze" ? "frozen" : "unfrozen", {});
    SaveOperatorState(self);
    return Ok(req, ModeJson(self));
  }
  if (cmd == "history") {
    if (auto bad = want_args(0, 0)) return *bad;
    return Ok(req, HistoryJson(self));
  }
  return Refuse(req, ErrorCode::kInvalidArgument,
                "unknown command (known: status, policy-get, policy-set, heal, rollback, pin, unpin, freeze, unfreeze, "
                "history)");
}

}  // namespace reflex::actors
