#include "bench/workloads.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "protocol/frame.h"
#include "quiver/client.h"

namespace quiver::bench {

namespace {

constexpr int kGenres = 32;
constexpr const char* kItemGenres[] = {"drama", "comedy", "action", "documentary", "thriller"};

// The values of one user or item, derived from its number so that every
// loader writes the same data.
struct UserValues {
  int64_t watch_count_7d;
  std::array<float, kGenres> genre_preferences;
  float avg_watch_duration_min;
  int32_t preferred_hour;
};
struct ItemValues {
  float popularity_score;
  const char* genre;
};

UserValues MakeUser(int64_t n) {
  std::mt19937_64 rng(static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ull);
  std::uniform_real_distribution<float> unit(0, 1);
  UserValues u;
  u.watch_count_7d = static_cast<int64_t>(rng() % 200);
  for (float& g : u.genre_preferences)
    g = unit(rng);
  u.avg_watch_duration_min = unit(rng) * 120;
  u.preferred_hour = static_cast<int32_t>(rng() % 24);
  return u;
}

ItemValues MakeItem(int64_t n) {
  std::mt19937_64 rng(static_cast<uint64_t>(n) * 0xbf58476d1ce4e5b9ull + 1);
  return {std::uniform_real_distribution<float>(0, 1)(rng), kItemGenres[rng() % 5]};
}

std::string UserKey(int64_t n) {
  return "u" + std::to_string(n);
}
std::string ItemKey(int64_t n) {
  return "i" + std::to_string(n);
}

// ---- quiver ----

Status PutAll(Client& client, int64_t count, const std::function<void(WriteBatch&, int64_t)>& add,
              const std::string& view) {
  constexpr int64_t kRowsPerBatch = 1000;
  constexpr int kBatchesPerTrip = 8;
  for (int64_t start = 0; start < count;) {
    Pipeline pipeline(client);
    for (int b = 0; b < kBatchesPerTrip && start < count; ++b) {
      WriteBatch batch(view);
      for (int64_t n = start; n < std::min(count, start + kRowsPerBatch); ++n)
        add(batch, n);
      start = std::min(count, start + kRowsPerBatch);
      pipeline.Put(batch);
    }
    QUIVER_ASSIGN_OR_RETURN(auto replies, pipeline.Run());
    for (const auto& r : replies)
      QUIVER_RETURN_IF_ERROR(r.status);
  }
  return Status::Ok();
}

void AppendFrame(flatbuffers::FlatBufferBuilder& b, fb::RequestBody type,
                 flatbuffers::Offset<void> body, uint64_t id, std::string* out) {
  b.FinishSizePrefixed(fb::CreateRequest(b, id, type, body));
  out->append(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  b.Clear();
}

void AppendGet(flatbuffers::FlatBufferBuilder& b, const char* view, std::vector<const char*> fields,
               const std::vector<std::string>& keys, uint64_t id, std::string* out) {
  auto v = b.CreateString(view);
  std::vector<flatbuffers::Offset<flatbuffers::String>> f;
  for (const char* name : fields)
    f.push_back(b.CreateString(name));
  auto fv = b.CreateVector(f);
  auto kv = b.CreateVectorOfStrings(keys);
  AppendFrame(b, fb::RequestBody::Get, fb::CreateGet(b, v, fv, kv).Union(), id, out);
}

// ---- Redis ----

void AppendCommand(const std::vector<std::string>& args, std::string* out) {
  *out += "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    *out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
}

std::string JsonFloat(float v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.6g", v);
  return std::string(buf, static_cast<size_t>(n));
}

std::string JsonFloats(const std::array<float, kGenres>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? "," : "") + JsonFloat(values[i]);
  return s + "]";
}

void AppendSetEx(const std::string& prefix, const char* version, const std::string& json,
                 std::string* out) {
  constexpr const char* kDailyTtl = "172800";
  AppendCommand({"SETEX", prefix + ":" + version, kDailyTtl, json}, out);
  AppendCommand({"SETEX", prefix + ":latest", kDailyTtl, json}, out);
}

// Sends `commands` (count of them) and reads as many replies.
Status RedisRoundTrip(boost::asio::ip::tcp::socket& socket, const std::string& commands,
                      int count) {
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(commands), ec);
  if (ec) return Status::Unavailable("redis write: " + ec.message());
  ReplyParser parser = RespReplyParser();
  std::vector<uint8_t> buf(1 << 20);
  size_t have = 0;
  for (int replies = 0; replies < count;) {
    if (have == buf.size()) buf.resize(buf.size() * 2);
    have += socket.read_some(boost::asio::buffer(buf.data() + have, buf.size() - have), ec);
    if (ec) return Status::Unavailable("redis read: " + ec.message());
    size_t pos = 0;
    for (bool error = false; replies < count;) {
      const ptrdiff_t used = parser(buf.data() + pos, have - pos, &error);
      if (used < 0 || error) return Status::Internal("redis answered an error while loading");
      if (used == 0) break;
      pos += static_cast<size_t>(used);
      ++replies;
    }
    std::memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
  }
  return Status::Ok();
}

}  // namespace

Status LoadQuiver(const std::string& host, uint16_t port, const std::string& definitions_yaml,
                  const Scale& scale) {
  ClientOptions options;
  options.host = host;
  options.port = port;
  options.timeout_ms = 120'000;
  QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Connect(options));
  QUIVER_RETURN_IF_ERROR(client->Apply(definitions_yaml).status());
  for (int v = 0; v < std::max(1, scale.versions); ++v) {
    // Each version differs, so reads of the past can tell them apart.
    auto time = [&](int64_t n) {
      return scale.versions == 0 ? WriteBatch::kNow
                                 : scale.history_start_ms + v * scale.version_step_ms + n % 1000;
    };
    QUIVER_RETURN_IF_ERROR(PutAll(
        *client, scale.users,
        [&](WriteBatch& b, int64_t n) {
          const UserValues u = MakeUser(n);
          b.Row({UserKey(n)}, time(n))
              .Set("watch_count_7d", u.watch_count_7d + v)
              .Set("genre_preferences", std::span<const float>(u.genre_preferences))
              .Set("avg_watch_duration_min", u.avg_watch_duration_min)
              .Set("preferred_hour", u.preferred_hour);
        },
        "user_profile"));
    QUIVER_RETURN_IF_ERROR(PutAll(
        *client, scale.items,
        [&](WriteBatch& b, int64_t n) {
          const ItemValues it = MakeItem(n);
          b.Row({ItemKey(n)}, time(n))
              .Set("popularity_score", it.popularity_score + static_cast<float>(v))
              .Set("genre", it.genre);
        },
        "item_stats"));
  }
  return Status::Ok();
}

Status LoadRedis(const std::string& host, uint16_t port, const Scale& scale) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::asio::connect(socket, resolver.resolve(host, std::to_string(port)), ec);
  if (ec)
    return Status::Unavailable("cannot connect to redis at " + host + ":" + std::to_string(port));
  constexpr int64_t kEntitiesPerTrip = 2000;
  std::string commands;
  for (int64_t start = 0; start < scale.users; start += kEntitiesPerTrip) {
    commands.clear();
    const int64_t end = std::min(scale.users, start + kEntitiesPerTrip);
    for (int64_t n = start; n < end; ++n) {
      const UserValues u = MakeUser(n);
      const std::string p = "fs:user:" + UserKey(n) + ":";
      AppendSetEx(p + "watch_count_7d", "v2", std::to_string(u.watch_count_7d), &commands);
      AppendSetEx(p + "genre_preferences", "v2", JsonFloats(u.genre_preferences), &commands);
      AppendSetEx(p + "avg_watch_duration_min", "v2", JsonFloat(u.avg_watch_duration_min),
                  &commands);
      AppendSetEx(p + "preferred_hour", "v2", std::to_string(u.preferred_hour), &commands);
    }
    QUIVER_RETURN_IF_ERROR(RedisRoundTrip(socket, commands, static_cast<int>((end - start) * 8)));
  }
  for (int64_t start = 0; start < scale.items; start += kEntitiesPerTrip) {
    commands.clear();
    const int64_t end = std::min(scale.items, start + kEntitiesPerTrip);
    for (int64_t n = start; n < end; ++n) {
      const ItemValues it = MakeItem(n);
      const std::string p = "fs:item:" + ItemKey(n) + ":";
      AppendSetEx(p + "popularity_score", "v1", JsonFloat(it.popularity_score), &commands);
      AppendSetEx(p + "genre", "v1", std::string("\"") + it.genre + "\"", &commands);
    }
    QUIVER_RETURN_IF_ERROR(RedisRoundTrip(socket, commands, static_cast<int>((end - start) * 4)));
  }
  return Status::Ok();
}

RequestSource QuiverUserSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  auto b = std::make_shared<flatbuffers::FlatBufferBuilder>(1024);
  return [=](std::string* out) {
    AppendGet(*b, "user_profile",
              {"watch_count_7d", "genre_preferences", "avg_watch_duration_min", "preferred_hour"},
              {UserKey(static_cast<int64_t>((*rng)() % scale.users))}, 1, out);
    return 1;
  };
}

RequestSource QuiverRankSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  auto b = std::make_shared<flatbuffers::FlatBufferBuilder>(8192);
  return [=](std::string* out) {
    AppendGet(*b, "user_profile", {"watch_count_7d", "genre_preferences", "preferred_hour"},
              {UserKey(static_cast<int64_t>((*rng)() % scale.users))}, 1, out);
    std::vector<std::string> items;
    for (int i = 0; i < 100; ++i)
      items.push_back(ItemKey(static_cast<int64_t>((*rng)() % scale.items)));
    AppendGet(*b, "item_stats", {"popularity_score", "genre"}, items, 2, out);
    return 2;
  };
}

RequestSource QuiverPutSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  auto b = std::make_shared<flatbuffers::FlatBufferBuilder>(1024);
  return [=](std::string* out) {
    const int64_t n = static_cast<int64_t>((*rng)() % scale.users);
    UserValues u = MakeUser(n);
    u.watch_count_7d = static_cast<int64_t>((*rng)() % 200);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto& fb = *b;
    auto column = [&](const char* name, fb::FieldType type, uint32_t dim, auto&& add) {
      auto nm = fb.CreateString(name);
      auto values = add();
      fb::ColumnBuilder c(fb);
      c.add_name(nm);
      c.add_type(type);
      c.add_dim(dim);
      if constexpr (std::is_same_v<decltype(values),
                                   flatbuffers::Offset<flatbuffers::Vector<int64_t>>>)
        c.add_i64(values);
      else if constexpr (std::is_same_v<decltype(values),
                                        flatbuffers::Offset<flatbuffers::Vector<int32_t>>>)
        c.add_i32(values);
      else
        c.add_f32(values);
      return c.Finish();
    };
    std::vector<flatbuffers::Offset<fb::Column>> cols{
        column("watch_count_7d", fb::FieldType::Int64, 0,
               [&] { return fb.CreateVector(&u.watch_count_7d, 1); }),
        column("genre_preferences", fb::FieldType::Float32Vector, kGenres,
               [&] { return fb.CreateVector(u.genre_preferences.data(), kGenres); }),
        column("avg_watch_duration_min", fb::FieldType::Float32, 0,
               [&] { return fb.CreateVector(&u.avg_watch_duration_min, 1); }),
        column("preferred_hour", fb::FieldType::Int32, 0,
               [&] { return fb.CreateVector(&u.preferred_hour, 1); })};
    auto colv = fb.CreateVector(cols);
    auto keys = fb.CreateVectorOfStrings({UserKey(n)});
    auto times = fb.CreateVector(&now, 1);
    auto view = fb.CreateString("user_profile");
    AppendFrame(fb, fb::RequestBody::Put, fb::CreatePut(fb, view, keys, times, colv).Union(), 1,
                out);
    return 1;
  };
}

RequestSource RedisPutSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [=](std::string* out) {
    const int64_t n = static_cast<int64_t>((*rng)() % scale.users);
    UserValues u = MakeUser(n);
    u.watch_count_7d = static_cast<int64_t>((*rng)() % 200);
    // The same four values as one JSON document under one key.
    const std::string json = "{\"watch_count_7d\":" + std::to_string(u.watch_count_7d) +
                             ",\"genre_preferences\":" + JsonFloats(u.genre_preferences) +
                             ",\"avg_watch_duration_min\":" + JsonFloat(u.avg_watch_duration_min) +
                             ",\"preferred_hour\":" + std::to_string(u.preferred_hour) + "}";
    AppendCommand({"SET", "fs:user:" + UserKey(n) + ":profile:latest", json}, out);
    return 1;
  };
}

RequestSource RedisUserSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [=](std::string* out) {
    const std::string p = "fs:user:" + UserKey(static_cast<int64_t>((*rng)() % scale.users)) + ":";
    AppendCommand({"MGET", p + "watch_count_7d:latest", p + "genre_preferences:latest",
                   p + "avg_watch_duration_min:latest", p + "preferred_hour:latest"},
                  out);
    return 1;
  };
}

RequestSource RedisRankSource(const Scale& scale, uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [=](std::string* out) {
    const std::string p = "fs:user:" + UserKey(static_cast<int64_t>((*rng)() % scale.users)) + ":";
    std::vector<std::string> args{"MGET", p + "watch_count_7d:latest",
                                  p + "genre_preferences:latest", p + "preferred_hour:latest"};
    for (int i = 0; i < 100; ++i) {
      const std::string item =
          "fs:item:" + ItemKey(static_cast<int64_t>((*rng)() % scale.items)) + ":";
      args.push_back(item + "popularity_score:latest");
      args.push_back(item + "genre:latest");
    }
    AppendCommand(args, out);
    return 1;
  };
}

}  // namespace quiver::bench
