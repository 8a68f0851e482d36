// `quiver training-set`: streams label rows from a CSV file to quiverd in
// batches, which joins them point-in-time with the requested features, and
// writes the joined rows out as CSV in the labels' order. The output is
// written to OUT.tmp and renamed to OUT only when every row is done, so a
// failed run never leaves a file that looks complete.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "client/cli/commands.h"
#include "client/cli/csv.h"
#include "client/cli/progress.h"
#include "protocol/timestamp.h"

namespace quiver::cli {

namespace {

constexpr char kTimeColumn[] = "event_timestamp";
constexpr size_t kBatchesInFlight = 2;  // per connection

// The label file's layout: where the time and each join key are.
struct Layout {
  std::vector<std::string> header;
  size_t time_column = 0;
  std::vector<std::string> key_names;
  std::vector<size_t> key_columns;
};

// A batch of label rows, as read and as sent.
struct Chunk {
  std::vector<std::vector<std::string>> rows;  // the labels' fields, for the output
  TrainingSetBatch batch;
  TrainingSetResult result;
};

Status LineError(const std::string& path, uint64_t line, const std::string& what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line) + ": " + what);
}

// The join keys the features' views need, from their descriptions.
Result<std::vector<std::string>> NeededKeys(Client& client,
                                            const std::vector<std::string>& features) {
  std::vector<std::string> keys;
  for (const std::string& f : features) {
    const size_t colon = f.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("feature '" + f + "' must be written view:field");
    }
    QUIVER_ASSIGN_OR_RETURN(ViewInfo view, client.Describe(f.substr(0, colon)));
    for (const std::string& k : view.join_keys) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
  return keys;
}

Result<Layout> ReadHeader(CsvReader& reader, const std::string& path,
                          const std::vector<std::string>& keys) {
  Layout layout;
  QUIVER_ASSIGN_OR_RETURN(bool any, reader.Next(&layout.header));
  if (!any) return LineError(path, 1, "the file is empty (expected a header line)");
  auto find = [&](const std::string& name) {
    return static_cast<size_t>(std::find(layout.header.begin(), layout.header.end(), name) -
                               layout.header.begin());
  };
  layout.time_column = find(kTimeColumn);
  if (layout.time_column == layout.header.size()) {
    return LineError(path, 1, "no event_timestamp column");
  }
  for (const std::string& k : keys) {
    const size_t column = find(k);
    if (column == layout.header.size()) {
      return LineError(path, 1, "no column '" + k + "', a join key of the requested features");
    }
    layout.key_names.push_back(k);
    layout.key_columns.push_back(column);
  }
  return layout;
}

// Reads up to `rows` label rows into a new chunk; an empty chunk at the end.
Result<Chunk> ReadChunk(CsvReader& reader, const std::string& path, const Layout& layout,
                        const std::vector<std::string>& features, size_t rows) {
  Chunk chunk;
  chunk.batch.features = features;
  chunk.batch.key_names = layout.key_names;
  chunk.batch.key_columns.resize(layout.key_names.size());
  std::vector<std::string> fields;
  while (chunk.rows.size() < rows) {
    QUIVER_ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
    if (!more) break;
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    if (fields.size() != layout.header.size()) {
      return LineError(path, reader.line(),
                       "expected " + std::to_string(layout.header.size()) + " columns, got " +
                           std::to_string(fields.size()));
    }
    Result<int64_t> t = ParseTimestampMs(fields[layout.time_column]);
    if (!t.ok()) return LineError(path, reader.line(), t.status().message());
    for (size_t j = 0; j < layout.key_columns.size(); ++j) {
      const std::string& value = fields[layout.key_columns[j]];
      if (value.empty()) return LineError(path, reader.line(), "empty " + layout.key_names[j]);
      chunk.batch.key_columns[j].push_back(value);
    }
    chunk.batch.event_time_ms.push_back(*t);
    chunk.rows.push_back(std::move(fields));
    fields = {};
  }
  return chunk;
}

// Sends each connection its share of the chunks, pipelined, in parallel.
Status Join(std::vector<std::unique_ptr<Client>>& clients, std::vector<Chunk>& chunks) {
  std::vector<Status> errors(clients.size());
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] {
      Pipeline pipeline(*clients[c]);
      std::vector<size_t> mine;
      for (size_t i = c; i < chunks.size(); i += clients.size()) {
        if (chunks[i].rows.empty()) continue;
        pipeline.TrainingSet(chunks[i].batch);
        mine.push_back(i);
      }
      if (mine.empty()) return;
      Result<std::vector<Pipeline::Reply>> replies = pipeline.Run();
      if (!replies.ok()) {
        errors[c] = replies.status();
        return;
      }
      for (size_t k = 0; k < mine.size(); ++k) {
        Pipeline::Reply& reply = (*replies)[k];
        if (!reply.status.ok()) {
          errors[c] = reply.status;
          return;
        }
        chunks[mine[k]].result = std::move(*reply.training);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (const Status& s : errors)
    QUIVER_RETURN_IF_ERROR(s);
  return Status::Ok();
}

void WriteChunk(const Chunk& chunk, const std::vector<std::string>& features, std::ostream& out,
                std::vector<uint64_t>* missing) {
  std::string line;
  const auto& columns = chunk.result.columns();
  for (size_t r = 0; r < chunk.rows.size(); ++r) {
    line.clear();
    for (const std::string& f : chunk.rows[r]) {
      AppendCsvField(f, &line);
      line.push_back(',');
    }
    std::string missed;
    for (size_t j = 0; j < columns.size(); ++j) {
      AppendCsvField(CellText(columns[j], r), &line);
      line.push_back(',');
      if (!columns[j].is_null(r)) continue;
      if (!missed.empty()) missed.push_back(';');
      missed += features[j];
    }
    AppendCsvField(missed, &line);
    line.push_back('\n');
    out << line;
  }
  for (size_t j = 0; j < columns.size() && j < missing->size(); ++j)
    (*missing)[j] += chunk.result.missing()[j];
}

struct Summary {
  uint64_t rows = 0;
  std::vector<uint64_t> missing;
  double seconds = 0;
};

void PrintSummary(const Summary& s, const std::vector<std::string>& features, std::ostream& out) {
  out << "rows       " << s.rows << "\n";
  out << "time       " << s.seconds << " s ("
      << static_cast<uint64_t>(s.rows / std::max(s.seconds, 1e-9)) << " rows/s)\n";
  for (size_t j = 0; j < features.size(); ++j) {
    const double share = s.rows ? 100.0 * static_cast<double>(s.missing[j]) / s.rows : 0;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", share);
    out << "missing    " << features[j] << ": " << s.missing[j] << " (" << pct << ")\n";
  }
}

Status Run(const ClientOptions& options, const TrainingSetArgs& args, std::ostream& out,
           Summary* summary) {
  const std::vector<std::string> features = SplitCommas(args.features);
  if (features.empty()) return Status::InvalidArgument("--features names no feature");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < std::max(1, args.connections); ++i) {
    QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<Client> c, Client::Connect(options));
    clients.push_back(std::move(c));
  }
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> keys, NeededKeys(*clients[0], features));
  std::ifstream in(args.labels, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + args.labels);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(args.labels, ec);
  CsvReader reader(in);
  QUIVER_ASSIGN_OR_RETURN(Layout layout, ReadHeader(reader, args.labels, keys));
  std::string header;
  for (const std::string& h : layout.header) {
    AppendCsvField(h, &header);
    header.push_back(',');
  }
  for (const std::string& f : features) {
    AppendCsvField(f, &header);
    header.push_back(',');
  }
  out << header << "missing_features\n";
  summary->missing.assign(features.size(), 0);
  Progress progress(args.progress, ec ? 0 : size, "rows");
  const auto start = std::chrono::steady_clock::now();
  for (bool more = true; more;) {
    std::vector<Chunk> chunks;
    for (size_t i = 0; more && i < clients.size() * kBatchesInFlight; ++i) {
      QUIVER_ASSIGN_OR_RETURN(Chunk chunk,
                              ReadChunk(reader, args.labels, layout, features, args.batch_rows));
      more = chunk.rows.size() == args.batch_rows;
      chunks.push_back(std::move(chunk));
    }
    QUIVER_RETURN_IF_ERROR(Join(clients, chunks));
    for (const Chunk& chunk : chunks) {
      WriteChunk(chunk, features, out, &summary->missing);
      summary->rows += chunk.rows.size();
    }
    summary->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.Update(reader.offset(), summary->rows, summary->seconds);
  }
  progress.Done();
  if (!out) return Status::IoError("writing the output failed");
  return Status::Ok();
}

}  // namespace

int TrainingSet(const ClientOptions& options, const TrainingSetArgs& args) {
  Summary summary;
  if (args.out == "-") {
    if (Status s = Run(options, args, std::cout, &summary); !s.ok()) return Fail(s);
    PrintSummary(summary, SplitCommas(args.features), std::cerr);
    return 0;
  }
  const std::string tmp = args.out + ".tmp";
  Status status;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    status = out ? Run(options, args, out, &summary) : Status::IoError("cannot write " + tmp);
    out.close();
    if (status.ok() && !out) status = Status::IoError("writing " + tmp + " failed");
  }
  std::error_code ec;
  if (status.ok()) {
    std::filesystem::rename(tmp, args.out, ec);
    if (ec)
      status = Status::IoError("cannot rename " + tmp + " to " + args.out + ": " + ec.message());
  }
  if (!status.ok()) {
    std::filesystem::remove(tmp, ec);
    return Fail(status);
  }
  PrintSummary(summary, SplitCommas(args.features), std::cout);
  return 0;
}

}  // namespace quiver::cli
