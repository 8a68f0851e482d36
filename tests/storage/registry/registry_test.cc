#include "storage/registry/registry.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "util/rcu.h"

namespace quiver {
namespace {

std::string ReadExample() {
  std::ifstream in(std::string(QUIVER_SOURCE_DIR) + "/examples/features.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Status ApplyText(Registry& registry, const std::string& yaml) {
  Result<Definitions> defs = ParseDefinitions(yaml);
  if (!defs.ok()) return defs.status();
  return registry.Apply(*defs).status();
}

const char* kUserEntity = "entities: [{name: user, keys: [user_id]}]\n";

class RegistryTest : public ::testing::Test {
 protected:
  rcu::ThreadRegistration registration_;
  Registry registry_;
};

TEST_F(RegistryTest, IssueExampleAppliesAsWritten) {
  Result<Definitions> defs = ParseDefinitions(ReadExample());
  ASSERT_TRUE(defs.ok()) << defs.status().ToString();
  Result<ApplyReport> report = registry_.Apply(*defs);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->created.size(), 6u);

  rcu::ReadLock lock;
  const Catalog& catalog = registry_.current();
  auto view = catalog.Resolve({"user_profile", 0});
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)->version, 2u);
  EXPECT_EQ((*view)->ttl_ms, 7 * 86'400'000LL);
  EXPECT_EQ((*view)->freshness_ms, 5 * 60'000LL);
  EXPECT_EQ((*view)->owner, "recs");
  EXPECT_EQ((*view)->tags, (std::vector<std::string>{"user", "behaviour"}));
  const Field& genres = (*view)->fields[1];
  EXPECT_EQ(genres.type, (TypeSpec{FieldType::kFloat32Vector, 32}));
  EXPECT_EQ(std::get<std::vector<float>>(genres.default_value).size(), 32u);
  EXPECT_EQ(std::get<int32_t>((*view)->fields[3].default_value), 20);
  EXPECT_EQ((*view)->fields[0].expected.mean, 12.5);
  EXPECT_EQ(catalog.FindEntity("user_item")->join_keys.size(), 2u);
}

TEST_F(RegistryTest, ReapplyingIsUnchanged) {
  ASSERT_TRUE(ApplyText(registry_, ReadExample()).ok());
  Result<ApplyReport> again = registry_.Apply(*ParseDefinitions(ReadExample()));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created.empty());
  EXPECT_EQ(again->unchanged.size(), 6u);
}

TEST_F(RegistryTest, ChangedSchemaUnderSameVersionIsRefused) {
  ASSERT_TRUE(
      ApplyText(registry_, std::string(kUserEntity) +
                               "views: [{name: v, entity: user, fields: [{name: a, type: int64}]}]")
          .ok());
  Status s = ApplyText(registry_,
                       std::string(kUserEntity) +
                           "views: [{name: v, entity: user, fields: [{name: a, type: float32}]}]");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
}

TEST_F(RegistryTest, VersionsLiveSideBySideAndLatestWins) {
  ASSERT_TRUE(
      ApplyText(registry_,
                std::string(kUserEntity) +
                    "views:\n"
                    "  - {name: v, version: 1, entity: user, fields: [{name: a, type: int64}]}\n"
                    "  - {name: v, version: 2, entity: user, fields: [{name: b, type: string}]}\n")
          .ok());
  rcu::ReadLock lock;
  const Catalog& c = registry_.current();
  EXPECT_EQ((*c.Resolve({"v", 0}))->version, 2u);
  EXPECT_EQ((*c.Resolve({"v", 1}))->fields[0].name, "a");
  EXPECT_NE((*c.Resolve({"v", 1}))->id, (*c.Resolve({"v", 2}))->id);
  EXPECT_EQ(c.Resolve({"v", 3}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Resolve({"w", 0}).status().code(), StatusCode::kNotFound);
  // As people write them ("v", "v@v1"), which every front end resolves.
  EXPECT_EQ((*c.ResolveName("v"))->version, 2u);
  EXPECT_EQ((*c.ResolveName("v@v1"))->version, 1u);
  EXPECT_EQ(c.JoinKeyCount(**c.ResolveName("v")), 1u);
  EXPECT_EQ(c.ResolveName("v@v3").status().message(), "view 'v' has no version 3");
  EXPECT_EQ(c.ResolveName("w").status().message(), "unknown view 'w'");
  EXPECT_EQ(c.ResolveName("v@x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, MetadataMayChangeInPlace) {
  ASSERT_TRUE(
      ApplyText(registry_,
                std::string(kUserEntity) +
                    "views: [{name: v, entity: user, owner: a, fields: [{name: x, type: int64}]}]")
          .ok());
  uint32_t id;
  {
    rcu::ReadLock lock;
    id = (*registry_.current().Resolve({"v", 1}))->id;
  }
  Result<ApplyReport> r = registry_.Apply(*ParseDefinitions(
      std::string(kUserEntity) +
      "views: [{name: v, entity: user, owner: b, fields: [{name: x, type: int64}]}]"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->updated, std::vector<std::string>{"view v@v1"});
  rcu::ReadLock lock;
  const ViewSchema* v = *registry_.current().Resolve({"v", 1});
  EXPECT_EQ(v->owner, "b");
  EXPECT_EQ(v->id, id) << "an update keeps the view's id (and so its rows)";
}

TEST_F(RegistryTest, ChecksAndDriftThresholdsAreMetadata) {
  const std::string before = std::string(kUserEntity) +
                             "views: [{name: v, entity: user, fields: [{name: g, type: string}]}]";
  const std::string after = std::string(kUserEntity) +
                            "views: [{name: v, entity: user, fields: [{name: g, type: string, "
                            "checks: {allowed: [b, a, b], max_null_rate: 0.1}, drift: {psi: 0.3, "
                            "min_count: 50}}]}]";
  ASSERT_TRUE(ApplyText(registry_, before).ok());
  Result<ApplyReport> r = registry_.Apply(*ParseDefinitions(after));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->updated, std::vector<std::string>{"view v@v1"});
  rcu::ReadLock lock;
  const Field& g = (*registry_.current().Resolve({"v", 1}))->fields[0];
  EXPECT_EQ(g.checks.allowed, (std::vector<std::string>{"a", "b"}));  // sorted, once each
  EXPECT_EQ(g.checks.max_null_rate, 0.1);
  EXPECT_EQ(g.drift.psi, 0.3);
  EXPECT_EQ(g.drift.ks, DriftThresholds{}.ks);  // the default
  EXPECT_EQ(g.drift.min_count, 50u);
}

TEST_F(RegistryTest, FailedApplyChangesNothing) {
  Status s = ApplyText(registry_,
                       std::string(kUserEntity) +
                           "views:\n"
                           "  - {name: good, entity: user, fields: [{name: a, type: int64}]}\n"
                           "  - {name: bad, entity: nobody, fields: [{name: a, type: int64}]}\n");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("nobody"), std::string::npos);
  rcu::ReadLock lock;
  EXPECT_TRUE(registry_.current().views().empty());
  EXPECT_TRUE(registry_.current().entities().empty());
}

TEST_F(RegistryTest, EntityKeysCannotChange) {
  ASSERT_TRUE(ApplyText(registry_, kUserEntity).ok());
  EXPECT_EQ(ApplyText(registry_, "entities: [{name: user, keys: [id]}]").code(),
            StatusCode::kAlreadyExists);
}

TEST_F(RegistryTest, DependsOnMustNameKnownViews) {
  Status s = ApplyText(
      registry_,
      std::string(kUserEntity) +
          "views: [{name: v, entity: user, depends_on: [w], fields: [{name: a, type: int64}]}]");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      ApplyText(registry_, std::string(kUserEntity) +
                               "views:\n"
                               "  - {name: w, entity: user, fields: [{name: a, type: int64}]}\n"
                               "  - {name: v, entity: user, depends_on: ['w@v1'], fields: [{name: "
                               "a, type: int64}]}\n")
          .ok());
}

struct BadDefinition {
  const char* yaml;
  const char* expected_in_message;
};

class DefinitionErrorsTest : public ::testing::TestWithParam<BadDefinition> {};

TEST_P(DefinitionErrorsTest, NamesWhatIsWrong) {
  Result<Definitions> defs = ParseDefinitions(GetParam().yaml);
  ASSERT_FALSE(defs.ok());
  EXPECT_EQ(defs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(defs.status().message().find(GetParam().expected_in_message), std::string::npos)
      << defs.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DefinitionErrorsTest,
    ::testing::Values(
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: strng}]}]",
                      "unknown field type 'strng'"},
        BadDefinition{"views: [{name: v, entity: u, tll: 7d, fields: [{name: a, type: int64}]}]",
                      "unknown key 'tll'"},
        BadDefinition{"views: [{name: v, entity: u, ttl: 7x, fields: [{name: a, type: int64}]}]",
                      "bad duration unit"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64}, {name: a, "
                      "type: int32}]}]",
                      "defined twice"},
        BadDefinition{"views: [{name: v, entity: u, fields: []}]", "needs a list of fields"},
        BadDefinition{
            "views: [{name: v, entity: u, fields: [{name: a, type: int32, default: 1.5}]}]",
            "field a, default: expected an integer"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: 'float32[3]', "
                      "default: [1, 2]}]}]",
                      "list of 3 numbers"},
        BadDefinition{"views: [{name: 'a b', entity: u, fields: [{name: a, type: int64}]}]",
                      "invalid name"},
        BadDefinition{"views: [{name: v, version: 0, entity: u, fields: [{name: a, type: int64}]}]",
                      "version must be >= 1"},
        BadDefinition{"entities: [{name: u}]", "needs at least one key"},
        BadDefinition{"views: {name: v}", "'views' must be a list"},
        BadDefinition{"views: [{name: v, entity: u", "not valid YAML"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, checks: "
                      "{allowed: [x]}}]}]",
                      "field a, checks: allowed needs a string field"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: string, checks: "
                      "{min: 1}}]}]",
                      "min and max need a numeric type"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, checks: "
                      "{min: 5, max: 1}}]}]",
                      "min is greater than max"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, checks: "
                      "{max_null_rate: 1.5}}]}]",
                      "max_null_rate must be in [0, 1]"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, checks: "
                      "{max_nulls: 1}}]}]",
                      "checks: unknown key 'max_nulls'"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, drift: "
                      "{psi: 0}}]}]",
                      "field a, drift: psi must be positive"},
        BadDefinition{"views: [{name: v, entity: u, fields: [{name: a, type: int64, drift: "
                      "{min_count: -1}}]}]",
                      "drift.min_count: expected an integer"}));

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(*ParseDuration("500ms"), 500);
  EXPECT_EQ(*ParseDuration("30s"), 30'000);
  EXPECT_EQ(*ParseDuration("5m"), 300'000);
  EXPECT_EQ(*ParseDuration("2h"), 7'200'000);
  EXPECT_EQ(*ParseDuration("7d"), 604'800'000);
  EXPECT_EQ(*ParseDuration("1w"), 604'800'000);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_FALSE(ParseDuration("7").ok());
  EXPECT_FALSE(ParseDuration("-1d").ok());
  EXPECT_FALSE(ParseDuration("d").ok());
}

TEST(ViewRefTest, ParsesNameAndVersion) {
  EXPECT_EQ(ParseViewRef("user_profile")->version, 0u);
  EXPECT_EQ(ParseViewRef("user_profile@v2")->version, 2u);
  EXPECT_EQ(ParseViewRef("user_profile@v2")->name, "user_profile");
  EXPECT_FALSE(ParseViewRef("x@v0").ok());
  EXPECT_FALSE(ParseViewRef("x@vq").ok());
  EXPECT_FALSE(ParseViewRef("@v1").ok());
}

}  // namespace
}  // namespace quiver
