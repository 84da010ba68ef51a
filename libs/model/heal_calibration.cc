#include "model/heal_calibration.h"

#include <algorithm>

#include "model/model_parts.h"

namespace reflex {

Result<HealCalibration> Calibrate(const HealableModel& model, BatchView rows, const uint8_t* labels,
                                  const RuleSet* rules, size_t sample_rows) {
  if (rows.rows < 2) return Status::InvalidArgument("calibration needs at least 2 clean rows");
  if (rows.cols != model.input_dims()) {
    return Status::InvalidArgument("calibration rows have " + std::to_string(rows.cols) +
                                   " features, the model takes " + std::to_string(model.input_dims()));
  }
  HealCalibration cal;
  const size_t dims = rows.cols;
  if (model.parts().multiclass()) {
    try {
      torch::InferenceMode guard;
      const HealableModel::Parts& parts = model.parts();
      AdapterTensors v0 = ToTensors(model.initial_adapter(), false);
      std::vector<torch::Tensor> hidden, outs;
      for (size_t start = 0; start < rows.rows; start += 1000) {
        BatchView chunk{rows.data + start * dims, std::min<size_t>(1000, rows.rows - start), dims};
        hidden.push_back(parts.Backbone(BatchTensor(chunk)));
        outs.push_back(AdapterForward(v0, hidden.back()));
      }
      torch::Tensor h = torch::cat(hidden), out = torch::cat(outs);
      if (parts.spec.image_height > 0) {
        torch::Tensor x = BatchTensor(rows);
        cal.row_mean = x.mean(1).mean().item<double>();
        cal.row_sd = x.std(1, false).mean().item<double>();
        const uint32_t ih = parts.spec.image_height, iw = parts.spec.image_width;
        cal.centre = MeanCentroid(rows.data, rows.rows, ih, iw);
        cal.centre_spread = CentroidSpread(rows.data, rows.rows, ih, iw, cal.centre);
      }
      torch::Tensor pred = parts.HeadLogits(out).argmax(1);
      torch::Tensor rate = torch::bincount(pred, {}, parts.spec.num_classes).to(torch::kFloat64) / static_cast<double>(rows.rows);
      auto put = [](const torch::Tensor& t, std::vector<double>& into) {
        torch::Tensor c = t.to(torch::kFloat64).contiguous();
        into.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
      };
      put(rate, cal.class_rate);
      put(h.mean(0), cal.hidden_mean);
      put(h.var(0, false), cal.hidden_var);
      put(out.mean(0), cal.output_mean);
      put(out.var(0, false), cal.output_var);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("calibration: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
    }
    if (rules != nullptr && rules->multiclass()) {  // class rules: firing rate on clean rows
      RuleSet::BatchStats fired = rules->EvaluateClasses(rows.data, rows.rows, nullptr);
      for (uint64_t f : fired.fired) cal.rule_fire.push_back(static_cast<double>(f) / rows.rows);
    }
    return cal;
  }
  cal.clean.all = FeatureStats(dims);
  cal.clean.class0 = FeatureStats(dims);
  cal.clean.class1 = FeatureStats(dims);
  size_t positives = 0;
  for (size_t r = 0; r < rows.rows; ++r) {
    const float* row = rows.data + r * dims;
    cal.clean.all.AddRow(row);
    (labels[r] ? cal.clean.class1 : cal.clean.class0).AddRow(row);
    positives += labels[r] ? 1 : 0;
  }
  cal.clean.train_prior = static_cast<double>(positives) / rows.rows;
  const size_t take = std::min(sample_rows, rows.rows);
  for (size_t k = 0; k < take; ++k) {
    const size_t r = k * rows.rows / take;
    cal.clean_sample.insert(cal.clean_sample.end(), rows.data + r * dims, rows.data + (r + 1) * dims);
    cal.clean_sample_labels.push_back(labels[r]);
  }
  cal.clean_sample_rows = take;
  try {
    torch::InferenceMode guard;
    const HealableModel::Parts& parts = model.parts();
    AdapterTensors v0 = ToTensors(model.initial_adapter(), false);
    torch::Tensor out = AdapterForward(v0, parts.Backbone(BatchTensor(rows)));
    torch::Tensor probs = torch::sigmoid(parts.HeadLogit(out));
    cal.clean.clean_positive_rate = (probs > 0.5).to(torch::kFloat64).mean().item<double>();
    // Mean posterior per clean class: what the stream's prior estimate reads a prior off
    // (core/shift_diagnosis.h EstimateStreamPrior).
    torch::Tensor p64 = probs.reshape({-1}).to(torch::kFloat64);
    torch::Tensor positive = torch::from_blob(const_cast<uint8_t*>(labels), {static_cast<int64_t>(rows.rows)}, torch::kUInt8)
                                 .to(torch::kBool);
    if (positives > 0 && positives < rows.rows) {
      cal.clean.score_means.positive = p64.masked_select(positive).mean().item<double>();
      cal.clean.score_means.negative = p64.masked_select(positive.logical_not()).mean().item<double>();
    }
    torch::Tensor mean = out.mean(0).to(torch::kFloat64).contiguous();
    torch::Tensor var = out.var(0, /*unbiased=*/false).to(torch::kFloat64).contiguous();
    cal.output_mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
    cal.output_var.assign(var.data_ptr<double>(), var.data_ptr<double>() + var.numel());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("calibration: LibTorch failed: ") + std::string(e.what()).substr(0, 300));
  }
  if (rules != nullptr) {
    for (size_t k = 0; k < rules->size(); ++k) {
      size_t fired = 0, fired0 = 0, fired1 = 0;
      for (size_t r = 0; r < rows.rows; ++r) {
        if (!rules->Fires(k, rows.data + r * dims)) continue;
        ++fired;
        (labels[r] ? fired1 : fired0) += 1;
      }
      size_t n1 = positives, n0 = rows.rows - positives;
      cal.rule_fire.push_back(static_cast<double>(fired) / rows.rows);
      cal.rule_fire_class0.push_back(n0 ? static_cast<double>(fired0) / n0 : 0.0);
      cal.rule_fire_class1.push_back(n1 ? static_cast<double>(fired1) / n1 : 0.0);
    }
  }
  return cal;
}

}  // namespace reflex
