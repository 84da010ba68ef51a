// Logit offset: moves every logit of a model by exactly δ by changing the adapter's b2 alone.
//
// The head is affine in the adapter's output y (logit = w·y + c), and y = x + scale * W2 *
// tanh(W1 x + b1) + b2, so adding δ·w/|w|² to b2 adds δ to every row's logit and changes
// nothing else: the backbone, the head and W1, b1, W2, scale stay bitwise as they were. A heal
// uses it to put its decision threshold at the operating point the policy asks for
// (core/operating_point.h).
//
// The built-in MLP head is linear by construction. A TorchScript head is checked: its gradient
// with respect to y must be the same on every probe row (an affine head), else the shift is
// refused with FailedPrecondition, since no b2 change would move every logit by the same δ.
//
// Ownership: returns a new value; the input version is not changed. Thread-safety: only reads
// the model, so it may run concurrently with scoring and other heals. Units: δ is in logits
// (nats of odds).
#pragma once

#include "core/adapter_version.h"
#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

// The head's direction w (dims().width floats): logit(y + v) = logit(y) + w·v for every y.
// `probe` rows (backbone inputs) are used to check that the head is affine.
Result<std::vector<float>> HeadDirection(const HealableModel& model, BatchView probe);

// The head's bias c: logit(y) = w·y + c, given its direction w (HeadDirection). Measured on
// `probe` rows (the mean of logit - w·y over the backbone's outputs), so it holds for TorchScript
// heads as well as the built-in one.
Result<double> HeadBias(const HealableModel& model, BatchView probe, const std::vector<float>& head_direction);

// `adapter` with b2 += δ·w/|w|², Seal()ed again (same version, parent and epoch).
// InvalidArgument: adapter does not fit the model, δ not finite, or |w| = 0.
Result<AdapterVersion> ShiftLogits(const AdapterVersion& adapter, const std::vector<float>& head_direction, double delta);

}  // namespace reflex
