#include "model/frozen_parts.h"

#include <torch/serialize.h>

#include <sstream>

#include "core/atomic_file.h"
#include "model/model_parts.h"

namespace reflex {

Status SaveFrozenParts(const HealableModel& model, const std::string& path) {
  const HealableModel::Parts& parts = model.parts();
  if (parts.torchscript) return Status::FailedPrecondition("SaveFrozenParts: TorchScript models are saved by PyTorch");
  try {
    torch::serialize::OutputArchive archive;
    parts.mlp_backbone->save(archive);
    torch::serialize::OutputArchive head;
    parts.mlp_head->save(head);
    archive.write("head", head);
    std::ostringstream out;
    archive.save_to(out);
    return WriteFileAtomically(path, out.str());
  } catch (const std::exception& e) {
    return Status::Internal(path + ": LibTorch could not save the model: " + e.what());
  }
}

Status LoadFrozenParts(HealableModel& model, const std::string& path) {
  HealableModel::Parts& parts = model.parts();
  if (parts.torchscript) return Status::FailedPrecondition("LoadFrozenParts: TorchScript models are loaded from their manifest");
  Result<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status().WithContext(path + ": cannot read the model archive");
  try {
    std::istringstream in(*bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    parts.mlp_backbone->load(archive);
    torch::serialize::InputArchive head;
    if (!archive.try_read("head", head)) return Status::InvalidArgument(path + ": no 'head' in the archive");
    parts.mlp_head->load(head);
    for (auto& p : parts.mlp_backbone->parameters()) p.set_requires_grad(false);
    for (auto& p : parts.mlp_head->parameters()) p.set_requires_grad(false);
    return Status();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": not a Reflex MLP archive for this manifest: " + std::string(e.what()).substr(0, 300));
  }
}

}  // namespace reflex
