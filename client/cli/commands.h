// The `quiver` command-line tool's commands. Each prints its result to
// stdout and returns the process exit code (errors go to stderr).
#pragma once

#include <string>
#include <vector>

#include "quiver/client.h"

namespace quiver::cli {

struct GetArgs {
  std::string view;
  std::vector<std::string> keys;
  std::string fields;  // comma-separated; empty: all
  bool json = false;
};

struct PutArgs {
  std::string view;
  std::string key;
  std::vector<std::string> assignments;  // field=value
  std::string event_time;                // empty: now
};

int Apply(const ClientOptions& options, const std::string& path);
int Put(const ClientOptions& options, const PutArgs& args);
int Get(const ClientOptions& options, const GetArgs& args);
int Views(const ClientOptions& options, bool json);
int Describe(const ClientOptions& options, const std::string& view);
int Delete(const ClientOptions& options, const std::string& view,
           const std::vector<std::string>& keys);
int Ping(const ClientOptions& options);

}  // namespace quiver::cli
