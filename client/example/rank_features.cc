// Fetches the features a ranking model needs for one user and its candidate
// items in one round trip (a pipeline of two Gets), as a ranking service
// would. Usage: rank_features [port]  (quiverd with examples/features.yaml)
#include <cstdio>
#include <cstdlib>
#include <string>

#include <quiver/client.h>

int main(int argc, char** argv) {
  quiver::ClientOptions options;
  if (argc > 1) options.port = static_cast<uint16_t>(std::atoi(argv[1]));
  auto client = quiver::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  // Write a user and two items so the example has something to read.
  float genres[32] = {};
  genres[3] = 0.9f;
  quiver::WriteBatch user("user_profile");
  user.Row({"u42"})
      .Set("watch_count_7d", int64_t{17})
      .Set("genre_preferences", std::span<const float>(genres));
  quiver::WriteBatch items("item_stats");
  items.Row({"i1"}).Set("popularity_score", 0.8f).Set("genre", "drama");
  items.Row({"i2"}).Set("popularity_score", 0.1f).Set("genre", "comedy");
  for (auto* batch : {&user, &items}) {
    auto put = (*client)->Put(*batch);
    if (!put.ok()) {
      std::fprintf(stderr, "put: %s\n", put.status().ToString().c_str());
      return 1;
    }
  }

  quiver::Pipeline pipeline(**client);
  pipeline.Get({"user_profile", {"u42"}, {"watch_count_7d", "genre_preferences"}});
  pipeline.Get({"item_stats", {"i1", "i2", "i3"}, {"popularity_score", "genre"}});
  auto replies = pipeline.Run();
  if (!replies.ok() || !(*replies)[0].get || !(*replies)[1].get) {
    std::fprintf(stderr, "get failed\n");
    return 1;
  }
  const quiver::GetResult& u = *(*replies)[0].get;
  std::span<const float> prefs = u.column("genre_preferences")->vector_value(0);
  std::printf("user u42: watch_count_7d=%lld genre_preferences[3]=%.2f\n",
              static_cast<long long>(u.column("watch_count_7d")->int64_value(0)), prefs[3]);
  const quiver::GetResult& it = *(*replies)[1].get;
  for (size_t i = 0; i < it.size(); ++i) {
    std::printf("item %zu: %s popularity=%.2f genre=%.*s\n", i, it.found(i) ? "found" : "missing",
                it.column("popularity_score")->float32_value(i),
                static_cast<int>(it.column("genre")->string_value(i).size()),
                it.column("genre")->string_value(i).data());
  }
  return 0;
}
