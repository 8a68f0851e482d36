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
  std::string as_of;  // empty: the online value
  std::string after;  // changelog positions to wait for, "P:O,P:O"; empty: none
};

struct HistoryArgs {
  std::string view;
  std::string key;
  std::string from, to;  // empty: unbounded
  std::string agg;       // empty: every version
  std::string fields;
  uint32_t limit = 0;
  bool json = false;
  std::string after;  // as GetArgs'
};

struct TrainingSetArgs {
  std::string labels;    // CSV path
  std::string features;  // comma-separated view:field
  std::string out;       // CSV path; "-": stdout
  size_t batch_rows = 8192;
  size_t window_rows = 262144;  // label rows sorted by entity together
  int connections = 2;
  bool progress = true;  // shown only on a terminal
};

struct PutArgs {
  std::string view;
  std::string key;
  std::vector<std::string> assignments;  // field=value
  std::string event_time;                // empty: now
};

struct BackfillArgs {
  std::string view;
  std::string file;     // JSON lines, one event each, in the order they happened
  std::string topic;    // or a Kafka topic, read from the beginning to its current end
  std::string brokers;  // with topic
  std::string until;    // age windows up to here at the end (empty: now)
  size_t batch_events = 5000;
  bool progress = true;
};

struct ImportRedisArgs {
  std::string source;  // HOST:PORT of the Redis to copy
  std::string source_user, source_password;
  TlsOptions source_tls;  // the source over TLS (--source-tls ...)
  int resp_port = 6379;   // quiverd's RESP port (on --host)
  int db = -1;            // only this database; -1: every one with keys
  bool replace = false;   // overwrite keys quiverd already has
  size_t batch = 500;     // keys per round trip
  bool progress = true;
  std::vector<std::string> maps;  // --map PATTERN=VIEW: feature keys into views
};

int Apply(const ClientOptions& options, const std::string& path);
// Copies a running Redis's keys into quiverd (client/cli/import_redis.cc):
// 0 if every key was copied, 1 otherwise (the reasons are printed).
int ImportRedis(const ClientOptions& options, const ImportRedisArgs& args);
int Put(const ClientOptions& options, const PutArgs& args);
int Get(const ClientOptions& options, const GetArgs& args);
int Views(const ClientOptions& options, bool json);
int Describe(const ClientOptions& options, const std::string& view);
int Delete(const ClientOptions& options, const std::string& view,
           const std::vector<std::string>& keys);
int Ping(const ClientOptions& options);
int History(const ClientOptions& options, const HistoryArgs& args);
int TrainingSet(const ClientOptions& options, const TrainingSetArgs& args);
int Backfill(const ClientOptions& options, const BackfillArgs& args);
int ShowStatus(const ClientOptions& options, bool json);
// Starts a compaction of the server's history; with wait, returns when it ends.
int Compact(const ClientOptions& options, bool wait);
// Writes a checkpoint of the server's state into DIR (on its machine).
int Checkpoint(const ClientOptions& options, const std::string& dir);

// Shared by the commands.
int Fail(const Status& status);
// The statistics of one view's written values (window: recent or
// since_start), and every view's freshness: tables, or the JSON as served.
int ShowStats(const ClientOptions& options, const std::string& view, const std::string& window,
              bool json);
int ShowFreshness(const ClientOptions& options, bool json);
// Drift of one view (empty: every view with a baseline) over a window
// (recent or since_start), and `quiver baseline capture|clear VIEW`.
int ShowDrift(const ClientOptions& options, const std::string& view, const std::string& window,
              bool json);
int Baseline(const ClientOptions& options, const std::string& action, const std::string& view,
             const std::string& window);
std::vector<std::string> SplitCommas(const std::string& text);
// Changelog positions as the CLI prints and reads them: "P:O,P:O".
Result<std::vector<Position>> ParsePositions(const std::string& text);
std::string PositionsText(const std::vector<Position>& positions);
// A column value as CSV/table text: strings raw, everything else as JSON.
std::string CellText(const Column& column, size_t row);
// Appends CellText as one CSV field, without building it apart.
void AppendCsvCell(const Column& column, size_t row, std::string* out);

}  // namespace quiver::cli
