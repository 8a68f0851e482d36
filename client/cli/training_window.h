// A window of label rows of `quiver training-set`, from the CSV to the
// joined output. The rows of a window are sent once per view of the
// requested features, sorted by that view's entity key, so that the server's
// history reads walk its files forward instead of jumping around them; the
// answers are put back in the labels' order when the window is written.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "client/cli/csv.h"
#include "quiver/client.h"

namespace quiver::cli {

// The label file's layout: where the time and each join key are.
struct LabelLayout {
  std::vector<std::string> header;
  size_t time_column = 0;
  std::vector<std::string> key_names;
  std::vector<size_t> key_columns;
};

// Reads the header line; fails unless it names event_timestamp and every
// key in `keys`.
Result<LabelLayout> ReadLabelHeader(CsvReader& reader, const std::string& path,
                                    const std::vector<std::string>& keys);

// The requested features of one view: one request per slice of a window.
struct ViewFeatures {
  std::vector<std::string> features;  // as requested, "view:field"
  std::vector<size_t> outputs;        // each one's output column
  std::vector<size_t> keys;           // the view's join keys, as LabelLayout::key_names indices
};

// The features grouped by view, in the order they are first named.
struct TrainingPlan {
  std::vector<std::string> features;  // the output columns
  std::vector<std::string> key_names;
  std::vector<ViewFeatures> views;
};

class TrainingWindow {
 public:
  // Reads up to `rows` label rows; fewer only at the end of the input. A
  // malformed row fails, naming its line.
  Status Read(CsvReader& reader, const std::string& path, const LabelLayout& layout, size_t rows);
  size_t size() const { return times_.size(); }

  // Sorts the rows by each view's entity key and cuts them into requests
  // of at most batch_rows rows.
  void Plan(const TrainingPlan& plan, size_t batch_rows);
  // Sends the requests, spread over the connections, each pipelining a few.
  Status Join(std::vector<std::unique_ptr<Client>>& clients);
  // Writes the joined rows in the labels' order; adds each feature's
  // misses to *missing.
  void Write(std::ostream& out, std::vector<uint64_t>* missing) const;
  // Empties the window, keeping its memory for the next rows.
  void Clear();

 private:
  // One request: some rows of one view.
  struct Part {
    size_t view = 0;
    std::vector<uint32_t> rows;
    TrainingSetResult result;
  };
  std::vector<uint32_t> SortedRows(const ViewFeatures& view) const;
  TrainingSetBatch Batch(const Part& part) const;
  Status JoinOn(Client& client, size_t first, size_t step);

  const TrainingPlan* plan_ = nullptr;
  std::string labels_;        // each row's label fields as CSV, each followed by ','
  std::vector<size_t> ends_;  // row r's are labels_[r ? ends_[r-1] : 0, ends_[r])
  std::vector<std::vector<std::string>> keys_;  // per join key: each row's value
  std::vector<int64_t> times_;
  std::vector<Part> parts_;
  // Per view, per row: the part and the index in it.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> where_;
};

}  // namespace quiver::cli
