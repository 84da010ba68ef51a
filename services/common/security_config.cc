#include "services/common/security_config.h"

#include "transport/curve_keys.h"

namespace reflex::services {

Result<actors::CurveKeyText> LoadOwnKeys(const ServiceConfig& cfg, const std::string& section) {
  auto pair = transport::ReadKeyPair(cfg.String(section, "key_dir"), cfg.String(section, "key_name"));
  if (!pair.ok()) return pair.status().WithContext("[" + section + "] key_dir/key_name");
  return actors::CurveKeyText{pair->public_key, pair->secret_key};
}

Result<std::vector<std::string>> LoadAllowList(const ServiceConfig& cfg, const std::string& section,
                                               const std::string& key) {
  const std::string path = cfg.String(section, key);
  if (path.empty()) return std::vector<std::string>{};
  auto list = transport::ReadAllowList(path);
  if (!list.ok()) return list.status().WithContext("[" + section + "] " + key);
  return list;
}

}  // namespace reflex::services
