// `quiver training-set`: streams label rows from a CSV file to quiverd in
// batches, which joins them point-in-time with the requested features, and
// writes the joined rows out as CSV in the labels' order. The output is
// written to OUT.tmp and renamed to OUT only when every row is done, so a
// failed run never leaves a file that looks complete.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "client/cli/commands.h"
#include "client/cli/csv.h"
#include "client/cli/progress.h"
#include "client/cli/training_window.h"

namespace quiver::cli {

namespace {

// Groups the features by view and finds the join keys each view needs,
// from the views' descriptions.
Result<TrainingPlan> MakePlan(Client& client, const std::vector<std::string>& features) {
  TrainingPlan plan;
  plan.features = features;
  std::vector<std::string> names;  // the views as written
  for (size_t j = 0; j < features.size(); ++j) {
    const std::string& f = features[j];
    const size_t colon = f.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("feature '" + f + "' must be written view:field");
    }
    const std::string name = f.substr(0, colon);
    const auto it = std::find(names.begin(), names.end(), name);
    const size_t v = static_cast<size_t>(it - names.begin());
    if (it == names.end()) {
      QUIVER_ASSIGN_OR_RETURN(ViewInfo view, client.Describe(name));
      names.push_back(name);
      ViewFeatures& group = plan.views.emplace_back();
      for (const std::string& k : view.join_keys) {
        auto at = std::find(plan.key_names.begin(), plan.key_names.end(), k);
        group.keys.push_back(static_cast<size_t>(at - plan.key_names.begin()));
        if (at == plan.key_names.end()) plan.key_names.push_back(k);
      }
    }
    plan.views[v].features.push_back(f);
    plan.views[v].outputs.push_back(j);
  }
  return plan;
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

void WriteHeader(const LabelLayout& layout, const std::vector<std::string>& features,
                 std::ostream& out) {
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
}

// Windows go through three stages at once: while one is joined by the
// server, the one before it is written out and the one after it read in.
Status Run(const ClientOptions& options, const TrainingSetArgs& args, std::ostream& out,
           Summary* summary) {
  const std::vector<std::string> features = SplitCommas(args.features);
  if (features.empty()) return Status::InvalidArgument("--features names no feature");
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < std::max(1, args.connections); ++i) {
    QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<Client> c, Client::Connect(options));
    clients.push_back(std::move(c));
  }
  QUIVER_ASSIGN_OR_RETURN(TrainingPlan plan, MakePlan(*clients[0], features));
  std::ifstream in(args.labels, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + args.labels);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(args.labels, ec);
  CsvReader reader(in);
  QUIVER_ASSIGN_OR_RETURN(LabelLayout layout, ReadLabelHeader(reader, args.labels, plan.key_names));
  WriteHeader(layout, features, out);
  summary->missing.assign(features.size(), 0);
  Progress progress(args.progress, ec ? 0 : size, "rows");
  const auto start = std::chrono::steady_clock::now();
  auto flush = [&](const TrainingWindow& window) {
    window.Write(out, &summary->missing);
    summary->rows += window.size();
    summary->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.Update(reader.offset(), summary->rows, summary->seconds);
  };
  const size_t window_rows = std::max<size_t>(1, args.window_rows);
  std::array<TrainingWindow, 3> windows;  // reused: their memory stays mapped
  size_t at = 0;
  QUIVER_RETURN_IF_ERROR(windows[at].Read(reader, args.labels, layout, window_rows));
  bool written = true;  // nothing waits to be written
  while (windows[at].size() > 0) {
    TrainingWindow& current = windows[at];
    TrainingWindow& next = windows[(at + 1) % 3];
    current.Plan(plan, args.batch_rows);
    Status joined;
    std::thread joiner([&] { joined = current.Join(clients); });
    if (!written) flush(windows[(at + 2) % 3]);
    next.Clear();
    Status read = Status::Ok();
    if (current.size() == window_rows) read = next.Read(reader, args.labels, layout, window_rows);
    joiner.join();
    QUIVER_RETURN_IF_ERROR(joined);
    QUIVER_RETURN_IF_ERROR(read);
    written = false;
    at = (at + 1) % 3;
  }
  if (!written) flush(windows[(at + 2) % 3]);
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
