#define BOOST_TEST_MODULE wire_field_errors
#include <boost/test/unit_test.hpp>

// Refusals of message fields: missing, wrong msgpack type or range, non-finite floats,
// inconsistent counts and values (outside score request rows, see score_rows_test.cc).

#include <msgpack.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "frame_edit.h"
#include "wire/codec.h"
#include "wire_expect.h"
#include "wire_samples.h"

using namespace reflex;
using namespace reflex::wire;
using namespace reflex::wire::testing;

BOOST_AUTO_TEST_CASE(RefusesFloatVectorOverArrayLimit) {
  Limits limits;
  limits.max_array = 5;
  const std::string message =
      ExpectRefused(Encode(SampleScoreRequest()), ErrorCode::kTooLarge, limits);  // 6 floats
  BOOST_TEST(message == "score_request.rows: 6 values, over the limit 5");
}

BOOST_AUTO_TEST_CASE(RefusesAdapterDimsWhoseWeightCountWouldOverflow) {
  FrameEdit edit(SampleAdapterUpdate());
  edit.Nested("adapter", [](FrameEdit& adapter) {
    adapter.Set("width", 0xffffffffu).Set("hidden", 0xffffffffu);
  });
  const std::string message = ExpectRefused(edit.Frame(), ErrorCode::kTooLarge);
  BOOST_TEST(message.find("adapter_update.adapter: width 4294967295 x hidden 4294967295") == 0u);
}

BOOST_AUTO_TEST_CASE(RefusesBinThatIsNotWholeFloat32Values) {
  FrameEdit edit(SampleScoreRequest());
  edit.SetBytes("rows", std::string(13, '\0'));
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kMalformed) ==
             "score_request.rows: bin of 13 bytes is not a whole number of float32 values");
}

BOOST_AUTO_TEST_CASE(NamesTheMissingFieldAndMessage) {
  FrameEdit edit(SampleHeartbeat());
  edit.Remove("epoch");
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kMissingField) ==
             "heartbeat: missing field 'epoch'");
}

BOOST_AUTO_TEST_CASE(RequiresEveryFieldExceptTheDeadlineColumnsAndDriftCounters) {
  for (const Message& message : SampleMessages()) {
    const std::string type = MessageTypeName(TypeOf(message));
    for (const std::string& field : FrameEdit(message).FieldNames()) {
      FrameEdit edit(message);
      edit.Remove(field);
      BOOST_TEST_INFO(type << " without " << field);
      const bool optional_counter =
          type == "drift_summary" && (field == "positives" || field.rfind("label_", 0) == 0);
      if (field == "deadline_unix_us" || field == "columns" || optional_counter ||
          (type == "heal_result" && field == "candidate" && !std::get<HealResult>(message).accepted)) {
        BOOST_TEST(Decode(edit.Frame()).ok());
      } else if ((type == "score_request" && field == "cols") ||
                 (type == "heal_result" && field == "candidate")) {
        ExpectRefused(edit.Frame(), ErrorCode::kMissingField);
      } else {
        BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kMissingField) ==
                   type + ": missing field '" + field + "'");
      }
      FrameEdit nil(message);
      nil.SetNil(field);
      BOOST_TEST(Decode(nil.Frame()).ok() == Decode(edit.Frame()).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(RequiresEveryAdapterField) {
  for (const char* field : {"version", "parent", "epoch", "width", "hidden", "weights",
                                   "checksum"}) {
    FrameEdit edit(SampleAdapterUpdate());
    edit.Nested("adapter", [&](FrameEdit& adapter) { adapter.Remove(field); });
    BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kMissingField) ==
               "adapter_update.adapter: missing field '" + std::string(field) + "'");
  }
}

BOOST_AUTO_TEST_CASE(RequiresCandidateWhenHealWasAccepted) {
  FrameEdit edit(SampleHealResult(true));
  edit.Remove("candidate");
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kMissingField) ==
             "heal_result: missing field 'candidate' (required when accepted is true)");
}

BOOST_AUTO_TEST_CASE(RefusesWrongMsgpackTypeInEveryField) {
  for (const Message& message : SampleMessages()) {
    const std::string type = MessageTypeName(TypeOf(message));
    FrameEdit original(message);
    for (const std::string& field : original.FieldNames()) {
      FrameEdit edit(message);
      // A str where anything but a str belongs; a bool where a str belongs.
      if (original.Get(field)->type == msgpack::type::STR) {
        edit.Set(field, true);
      } else {
        edit.Set(field, std::string("oops"));
      }
      BOOST_TEST_INFO(type << "." << field);
      const std::string error = ExpectRefused(edit.Frame(), ErrorCode::kWrongType);
      BOOST_TEST(error.rfind(type + "." + field + ": expected", 0) == 0u, error);
    }
  }
}

BOOST_AUTO_TEST_CASE(RefusesIntegersOutsideTheFieldRange) {
  FrameEdit cols(SampleScoreRequest());
  cols.Set("cols", uint64_t{1} << 32);
  BOOST_TEST(ExpectRefused(cols.Frame(), ErrorCode::kWrongType) ==
             "score_request.cols: 4294967296 does not fit in uint32");
  FrameEdit negative(SampleScoreRequest());
  negative.Set("request_id", -1);
  BOOST_TEST(ExpectRefused(negative.Frame(), ErrorCode::kWrongType) ==
             "score_request.request_id: expected an unsigned integer, got negative integer");
  FrameEdit error(SampleScoreReply());
  error.Set("error", 70000);
  ExpectRefused(error.Frame(), ErrorCode::kWrongType);
  FrameEdit time(SampleHeartbeat());
  time.Set("unix_ms", std::numeric_limits<uint64_t>::max());
  BOOST_TEST(ExpectRefused(time.Frame(), ErrorCode::kWrongType) ==
             "heartbeat.unix_ms: 18446744073709551615 does not fit in int64");
  FrameEdit fractional(SampleHeartbeat());
  fractional.Set("epoch", 4.5);
  ExpectRefused(fractional.Frame(), ErrorCode::kWrongType);
}

BOOST_AUTO_TEST_CASE(RefusesWrongElementTypesInsideCollections) {
  FrameEdit row(SampleScoreRequest());
  row.Remove("cols").Set("rows", std::make_tuple(std::make_tuple(1, 2), std::make_tuple(3, "x")));
  BOOST_TEST(ExpectRefused(row.Frame(), ErrorCode::kWrongType) ==
             "score_request.rows[1][1]: expected a number, got str");
  FrameEdit not_row(SampleScoreRequest());
  not_row.Remove("cols").Set("rows", std::make_tuple(std::make_tuple(1, 2), 3));
  BOOST_TEST(ExpectRefused(not_row.Frame(), ErrorCode::kWrongType) ==
             "score_request.rows[1]: expected an array of numbers, got unsigned integer");
  FrameEdit args(SampleControlRequest());
  args.Set("args", std::make_tuple("a", 2));
  BOOST_TEST(ExpectRefused(args.Frame(), ErrorCode::kWrongType) ==
             "control_request.args[1]: expected a str, got unsigned integer");
  FrameEdit policy(SampleHealJob());
  policy.Set("policy", std::map<std::string, int>{{"lr", 3}});
  BOOST_TEST(ExpectRefused(policy.Frame(), ErrorCode::kWrongType) ==
             "heal_job.policy['lr']: expected a str, got unsigned integer");
  FrameEdit stats(SampleDriftSummary());
  stats.Set("features", std::make_tuple(std::make_tuple(1, 2.0)));
  BOOST_TEST(ExpectRefused(stats.Frame(), ErrorCode::kWrongType) ==
             "drift_summary.features[0]: expected [count, mean, m2], got array of 2 elements");
  FrameEdit key(SampleHeartbeat());
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(3).pack(1).pack(11).pack_map(1).pack(5).pack(std::string("a"));
  BOOST_TEST(ExpectRefused(std::string(buffer.data(), buffer.size()), ErrorCode::kWrongType) ==
             "snapshot_request: key #0 is a unsigned integer, expected a str field name");
}

BOOST_AUTO_TEST_CASE(RefusesAdapterThatIsNotAMap) {
  FrameEdit edit(SampleAdapterUpdate());
  edit.Set("adapter", std::vector<int>{1, 2});
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kWrongType) ==
             "adapter_update.adapter: expected a map of fields, got array");
}

BOOST_AUTO_TEST_CASE(RefusesClusterMessagesWithRaggedRows) {
  HealJob job = SampleHealJob();
  job.rows.pop_back();
  BOOST_TEST(ExpectRefused(Encode(job), ErrorCode::kWrongFeatureCount) ==
             "heal_job.rows: 3 values is not a whole number of rows of 2");
  DriftSummary summary = SampleDriftSummary();
  summary.features.pop_back();
  BOOST_TEST(ExpectRefused(Encode(summary), ErrorCode::kWrongFeatureCount) ==
             "drift_summary.features: 1 features, but cols is 2");
}

BOOST_AUTO_TEST_CASE(NamesTheNonFiniteAdapterWeight) {
  AdapterUpdate update = SampleAdapterUpdate();
  update.adapter.weights[17] = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(ExpectRefused(Encode(update), ErrorCode::kNonFinite) ==
             "adapter_update.adapter.weights[17]: NaN");
  HealJob job = SampleHealJob();
  job.base.weights[0] = std::numeric_limits<float>::infinity();
  BOOST_TEST(ExpectRefused(Encode(job), ErrorCode::kNonFinite) == "heal_job.base.weights[0]: Inf");
}

BOOST_AUTO_TEST_CASE(RefusesNonFiniteValuesInEveryFloatPayload) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ScoreReply reply = SampleScoreReply();
  reply.probabilities[1] = nan;
  BOOST_TEST(ExpectRefused(Encode(reply), ErrorCode::kNonFinite) ==
             "score_reply.probabilities[1]: NaN");
  DriftSummary summary = SampleDriftSummary();
  summary.sample_rows[5] = nan;
  BOOST_TEST(ExpectRefused(Encode(summary), ErrorCode::kNonFinite) ==
             "drift_summary.sample_rows[2][1]: NaN");
  DriftSummary stats = SampleDriftSummary();
  stats.features[1].mean = std::numeric_limits<double>::infinity();
  BOOST_TEST(ExpectRefused(Encode(stats), ErrorCode::kNonFinite) ==
             "drift_summary.features[1].mean: Inf");
  HealResult result = SampleHealResult();
  result.candidate->weights[2] = nan;
  BOOST_TEST(ExpectRefused(Encode(result), ErrorCode::kNonFinite) ==
             "heal_result.candidate.weights[2]: NaN");
}

BOOST_AUTO_TEST_CASE(RefusesLabelsOtherThanZeroOrOne) {
  FrameEdit edit(SampleLabelFeedback());
  edit.Set("label", 2);
  BOOST_TEST(ExpectRefused(edit.Frame(), ErrorCode::kInvalidArgument) ==
             "label_feedback.label: 2 is not 0 or 1");
  HealJob job = SampleHealJob();
  job.labels[1] = -5;  // K-class jobs carry class ids 0..127; -1 is unknown
  BOOST_TEST(ExpectRefused(Encode(job), ErrorCode::kInvalidArgument) ==
             "heal_job.labels[1]: -5 is outside [-1, 127]");
}

BOOST_AUTO_TEST_CASE(RefusesLabelCountThatIsNotOnePerRow) {
  HealJob job = SampleHealJob();
  job.labels.push_back(0);
  BOOST_TEST(ExpectRefused(Encode(job), ErrorCode::kInvalidArgument) ==
             "heal_job.labels: 3 labels for 2 rows (expected none or one per row)");
  job.labels.clear();
  BOOST_TEST(Decode(Encode(job)).ok());
  DriftSummary summary = SampleDriftSummary();
  summary.sample_labels.pop_back();
  ExpectRefused(Encode(summary), ErrorCode::kInvalidArgument);
}

BOOST_AUTO_TEST_CASE(RefusesAdapterWhoseWeightCountDoesNotMatchItsDims) {
  AdapterUpdate update = SampleAdapterUpdate();  // width 5, hidden 4: 50 weights
  update.adapter.weights.pop_back();
  BOOST_TEST(ExpectRefused(Encode(update), ErrorCode::kInvalidArgument) ==
             "adapter_update.adapter.weights: 49 weights, but width 5 hidden 4 needs 50");
}

BOOST_AUTO_TEST_CASE(RefusesInconsistentDriftStatistics) {
  DriftSummary summary = SampleDriftSummary();
  summary.rule_conflicts.pop_back();
  BOOST_TEST(ExpectRefused(Encode(summary), ErrorCode::kInvalidArgument) ==
             "drift_summary.rule_conflicts: 2 entries, but rule_fired has 3");
  DriftSummary negative = SampleDriftSummary();
  negative.features[0].m2 = -1.0;
  ExpectRefused(Encode(negative), ErrorCode::kInvalidArgument);
}
