// Secure by default (issue 19): every service's [security] schema turns CURVE and TLS on unless
// insecure mode is asked for explicitly, and insecure mode is logged at level warning. Also the
// level and message every JSON log line carries (json_log.h).
#define BOOST_TEST_MODULE services_security_mode
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/common/json_log.h"
#include "services/common/service_start.h"

namespace reflex::services {
namespace {

struct Logged {
  std::string event;
  nlohmann::json fields;
};

ServiceConfig Load(const std::vector<std::string>& sets, bool with_curve = true) {
  ConfigSchema schema;
  if (with_curve) schema.keys.push_back({"security", "curve", true});
  AddTlsKeys(schema, "replica");
  auto cfg = ServiceConfig::Load(schema, "", sets);
  BOOST_REQUIRE_MESSAGE(cfg.ok(), cfg.status().message());
  return *cfg;
}

std::vector<Logged> Mode(const ServiceConfig& cfg, bool has_curve) {
  std::vector<Logged> out;
  LogSecurityMode(cfg, [&](const std::string& e, const nlohmann::json& f) { out.push_back({e, f}); }, has_curve);
  return out;
}

BOOST_AUTO_TEST_CASE(DefaultsRunWithCurveAndTlsAndLogNoWarning) {
  const ServiceConfig cfg = Load({});
  BOOST_TEST(CurveOn(cfg));
  BOOST_TEST(TlsOn(cfg));
  BOOST_TEST(Mode(cfg, true).empty());
}

BOOST_AUTO_TEST_CASE(InsecureTrueTurnsBothOffAndIsLoggedAsAWarning) {
  const ServiceConfig cfg = Load({"security.insecure=true"});
  BOOST_TEST(!CurveOn(cfg));
  BOOST_TEST(!TlsOn(cfg));
  const auto logged = Mode(cfg, true);
  BOOST_REQUIRE_EQUAL(logged.size(), 1u);
  BOOST_TEST(logged[0].event == "insecure_mode");
  BOOST_TEST(logged[0].fields["level"] == "warning");
  BOOST_TEST(logged[0].fields["detail"].get<std::string>().find("INSECURE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(BothKeysFalseIsInsecureModeToo) {
  const ServiceConfig cfg = Load({"security.curve=false", "security.tls=false"});
  const auto logged = Mode(cfg, true);
  BOOST_REQUIRE_EQUAL(logged.size(), 1u);
  BOOST_TEST(logged[0].fields["curve"] == false);
  BOOST_TEST(logged[0].fields["tls"] == false);
}

BOOST_AUTO_TEST_CASE(HealerWithoutCurveWarnsOnlyWhenTlsIsOff) {
  BOOST_TEST(Mode(Load({}, false), false).empty());
  BOOST_TEST(Mode(Load({"security.tls=false"}, false), false).size() == 1u);
}

BOOST_AUTO_TEST_CASE(LevelsFollowTheEventName) {
  BOOST_TEST(LevelOf("start_failed") == "error");
  BOOST_TEST(LevelOf("replica_refused") == "warning");
  BOOST_TEST(LevelOf("healer_lost") == "warning");
  BOOST_TEST(LevelOf("insecure_mode") == "warning");
  BOOST_TEST(LevelOf("version_applied") == "info");
}

}  // namespace
}  // namespace reflex::services
