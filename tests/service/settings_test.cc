// The settings table (service/settings.h): every setting is documented,
// parses its own default back, and is found by its Redis name; CONFIG-style
// changes go through RuntimeConfig.
#include "service/settings.h"

#include <sched.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "service/runtime_config.h"

namespace quiver {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SettingsTest, ConfigurationDocsListEverySettingWithItsFlagAndKey) {
  const std::string docs = ReadFile(std::string(QUIVER_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_FALSE(docs.empty());
  for (const Setting& s : Settings()) {
    // A row of the table: | `--flag …` | `key` | …
    EXPECT_NE(docs.find("| `" + s.Flag()), std::string::npos) << s.name << ": no row for its flag";
    EXPECT_NE(docs.find("| `" + std::string(s.name) + "` |"), std::string::npos)
        << s.name << ": its config key is not in the table";
    if (!s.redis_name.empty()) {
      EXPECT_NE(docs.find("`" + std::string(s.redis_name) + "`"), std::string::npos)
          << s.name << ": its Redis name is not documented";
    }
  }
}

TEST(SettingsTest, NamesAreUniqueAndEveryDefaultParsesBackToItself) {
  std::set<std::string_view> names;
  for (const Setting& s : Settings()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;

    ServerOptions o;
    ASSERT_TRUE(s.Parse(s.Default(), &o).ok()) << s.name << " = '" << s.Default() << "'";
    EXPECT_EQ(s.Format(o), s.Default()) << s.name;
  }
}

TEST(SettingsTest, ASettingIsFoundByItsKeyOrRedisNameInAnyCase) {
  ASSERT_NE(FindSetting("maxmemory"), nullptr);
  EXPECT_EQ(FindSetting("MAXMEMORY"), FindSetting("max_memory"));
  EXPECT_EQ(FindSetting("port")->name, "resp_port");  // Redis's port is the RESP port
  EXPECT_EQ(FindSetting("dir")->name, "data_dir");
  EXPECT_EQ(FindSetting("no_such_setting"), nullptr);
}

TEST(SettingsTest, ValuesAreParsedAndFormattedByType) {
  ServerOptions o;
  ASSERT_TRUE(FindSetting("max_memory")->Parse("2gb", &o).ok());
  EXPECT_EQ(o.max_memory, int64_t{2} << 30);
  EXPECT_EQ(FindSetting("max_memory")->Format(o), std::to_string(int64_t{2} << 30));
  ASSERT_TRUE(FindSetting("resp_port")->Parse("off", &o).ok());
  EXPECT_EQ(o.resp_port, -1);
  EXPECT_EQ(FindSetting("resp_port")->Format(o), "off");
  ASSERT_TRUE(FindSetting("stats_window")->Parse("90m", &o).ok());
  EXPECT_EQ(FindSetting("stats_window")->Format(o), "90m");
  EXPECT_EQ(FindSetting("history_cache")->DefaultForPeople(), "256MB");
  EXPECT_EQ(FindSetting("features")->DefaultForPeople(), "none");
  EXPECT_EQ(FindSetting("shards")->Parse("0", &o).message(),
            "shards: expected an integer from 1 to 65536, got '0'");
}

TEST(SettingsTest, IoThreadsDefaultToOnePerUsableCoreButOne) {
  EXPECT_EQ(DefaultIoThreads(1), 1);
  EXPECT_EQ(DefaultIoThreads(2), 1);
  EXPECT_EQ(DefaultIoThreads(8), 7);
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mask), &mask), 0);
  EXPECT_EQ(UsableCores(), CPU_COUNT(&mask));
  ServerOptions o;
  ResolveAutomatic(&o);
  EXPECT_EQ(o.threads, DefaultIoThreads(UsableCores()));
  o.threads = 3;
  ResolveAutomatic(&o);
  EXPECT_EQ(o.threads, 3);  // as set
}

TEST(RuntimeConfigTest, OnlyRuntimeSettingsChangeAndTheirActionsRun) {
  RuntimeConfig config{ServerOptions{}};
  int64_t applied = -1;
  config.OnChange("max_memory", [&](const ServerOptions& o) { applied = o.max_memory; });
  ASSERT_TRUE(config.Set(*FindSetting("maxmemory"), "1mb").ok());
  EXPECT_EQ(applied, 1 << 20);
  EXPECT_EQ(config.Get(*FindSetting("max_memory")), std::to_string(1 << 20));
  const Status immutable = config.Set(*FindSetting("databases"), "32");
  EXPECT_EQ(immutable.message(), "can't set immutable config");
  EXPECT_EQ(config.Snapshot().databases, 16);
  EXPECT_FALSE(config.Set(*FindSetting("maxmemory"), "lots").ok());
  EXPECT_EQ(applied, 1 << 20);  // a refused value changes nothing
}

}  // namespace
}  // namespace quiver
