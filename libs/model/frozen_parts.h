// Frozen parts on disk: the backbone and head of a built-in model (MLP or CNN) as one LibTorch
// archive. Model bundles (mlp.pt) and reflex-sim's trained-network cache use it.
//
// Save writes atomically (core/atomic_file.h). Load needs a model of the same architecture,
// made by the same Create* call; it leaves every loaded parameter frozen (requires_grad false).
// Errors name the file: IoError when it cannot be read or written, InvalidArgument when it is
// not an archive of this architecture, FailedPrecondition for TorchScript models (PyTorch saves
// and loads those).
//
// Thread-safety: Save only reads the model; Load changes it and must not run while it scores.
#pragma once

#include <string>

#include "core/status.h"
#include "model/healable_model.h"

namespace reflex {

Status SaveFrozenParts(const HealableModel& model, const std::string& path);
Status LoadFrozenParts(HealableModel& model, const std::string& path);

}  // namespace reflex
