#include "client/cli/training_window.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "client/cli/commands.h"
#include "protocol/timestamp.h"

namespace quiver::cli {

namespace {

constexpr size_t kBatchesInFlight = 2;  // per connection
constexpr char kTimeColumn[] = "event_timestamp";

Status LineError(const std::string& path, uint64_t line, const std::string& what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line) + ": " + what);
}

// A view's entity key for row r: the value itself for a view with one join
// key; for several, each value's length and bytes, as the server encodes it.
std::string_view EntityKey(const std::vector<std::vector<std::string>>& columns,
                           const std::vector<size_t>& keys, size_t r, std::string* scratch) {
  if (keys.size() == 1) return columns[keys[0]][r];
  scratch->clear();
  for (size_t k : keys) {
    const std::string& v = columns[k][r];
    for (size_t n = v.size();; n >>= 7) {
      scratch->push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    *scratch += v;
  }
  return *scratch;
}

// The order the server keeps entity keys in, shorter first and then by
// bytes, summed up in 64 bits: the length and the first seven bytes. Keys
// of 255 bytes or more all get the same prefix (their lengths do not fit),
// so that the prefixes never contradict KeyLess. Rows whose prefixes tie
// are compared in full.
uint64_t SortPrefix(std::string_view key) {
  if (key.size() >= 255) return uint64_t{255} << 56;
  uint64_t p = uint64_t{key.size()} << 56;
  for (size_t i = 0; i < 7 && i < key.size(); ++i)
    p |= uint64_t{static_cast<uint8_t>(key[i])} << (48 - 8 * i);
  return p;
}

bool KeyLess(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

Result<LabelLayout> ReadLabelHeader(CsvReader& reader, const std::string& path,
                                    const std::vector<std::string>& keys) {
  LabelLayout layout;
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

Status TrainingWindow::Read(CsvReader& reader, const std::string& path, const LabelLayout& layout,
                            size_t rows) {
  keys_.resize(layout.key_columns.size());
  std::vector<std::string> fields;
  while (times_.size() < rows) {
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
      keys_[j].push_back(value);
    }
    times_.push_back(*t);
    for (const std::string& f : fields) {
      AppendCsvField(f, &labels_);
      labels_.push_back(',');
    }
    ends_.push_back(labels_.size());
  }
  return Status::Ok();
}

// The rows in the order of the view's entity keys.
std::vector<uint32_t> TrainingWindow::SortedRows(const ViewFeatures& view) const {
  const size_t rows = size();
  std::vector<std::string> encoded;  // for a view of several join keys
  std::string scratch;
  if (view.keys.size() > 1) {
    encoded.resize(rows);
    for (size_t r = 0; r < rows; ++r)
      encoded[r] = EntityKey(keys_, view.keys, r, &scratch);
  }
  auto key = [&](uint32_t r) -> std::string_view {
    return encoded.empty() ? std::string_view(keys_[view.keys[0]][r]) : encoded[r];
  };
  std::vector<std::pair<uint64_t, uint32_t>> order(rows);
  for (uint32_t r = 0; r < rows; ++r)
    order[r] = {SortPrefix(key(r)), r};
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return KeyLess(key(a.second), key(b.second));
  });
  std::vector<uint32_t> out(rows);
  for (size_t i = 0; i < rows; ++i)
    out[i] = order[i].second;
  return out;
}

void TrainingWindow::Plan(const TrainingPlan& plan, size_t batch_rows) {
  plan_ = &plan;
  batch_rows = std::max<size_t>(1, batch_rows);
  const size_t rows = size();
  where_.resize(plan.views.size());
  for (size_t v = 0; v < plan.views.size(); ++v) {
    const std::vector<uint32_t> order = SortedRows(plan.views[v]);
    where_[v].resize(rows);
    for (size_t start = 0; start < rows; start += batch_rows) {
      Part& part = parts_.emplace_back();
      part.view = v;
      part.rows.assign(order.begin() + start, order.begin() + std::min(rows, start + batch_rows));
      for (size_t i = 0; i < part.rows.size(); ++i) {
        where_[v][part.rows[i]] = {static_cast<uint32_t>(parts_.size() - 1),
                                   static_cast<uint32_t>(i)};
      }
    }
  }
}

TrainingSetBatch TrainingWindow::Batch(const Part& part) const {
  const ViewFeatures& view = plan_->views[part.view];
  TrainingSetBatch batch;
  batch.features = view.features;
  batch.key_columns.resize(view.keys.size());
  for (size_t j = 0; j < view.keys.size(); ++j) {
    batch.key_names.push_back(plan_->key_names[view.keys[j]]);
    const std::vector<std::string>& column = keys_[view.keys[j]];
    batch.key_columns[j].reserve(part.rows.size());
    for (uint32_t r : part.rows)
      batch.key_columns[j].push_back(column[r]);
  }
  batch.event_time_ms.reserve(part.rows.size());
  for (uint32_t r : part.rows)
    batch.event_time_ms.push_back(times_[r]);
  return batch;
}

// Parts first, first + step, ... on one connection, kBatchesInFlight at a time.
Status TrainingWindow::JoinOn(Client& client, size_t first, size_t step) {
  std::vector<size_t> mine;
  for (size_t i = first; i < parts_.size(); i += step)
    mine.push_back(i);
  for (size_t done = 0; done < mine.size(); done += kBatchesInFlight) {
    const size_t n = std::min(kBatchesInFlight, mine.size() - done);
    Pipeline pipeline(client);
    for (size_t k = 0; k < n; ++k)
      pipeline.TrainingSet(Batch(parts_[mine[done + k]]));
    QUIVER_ASSIGN_OR_RETURN(std::vector<Pipeline::Reply> replies, pipeline.Run());
    for (size_t k = 0; k < n; ++k) {
      QUIVER_RETURN_IF_ERROR(replies[k].status);
      parts_[mine[done + k]].result = std::move(*replies[k].training);
    }
  }
  return Status::Ok();
}

Status TrainingWindow::Join(std::vector<std::unique_ptr<Client>>& clients) {
  std::vector<Status> errors(clients.size());
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] { errors[c] = JoinOn(*clients[c], c, clients.size()); });
  }
  for (auto& t : threads)
    t.join();
  for (const Status& s : errors)
    QUIVER_RETURN_IF_ERROR(s);
  return Status::Ok();
}

void TrainingWindow::Write(std::ostream& out, std::vector<uint64_t>* missing) const {
  const size_t outputs = plan_->features.size();
  // Output column j is feature source[j].second of view source[j].first.
  std::vector<std::pair<size_t, size_t>> source(outputs);
  for (size_t v = 0; v < plan_->views.size(); ++v) {
    for (size_t k = 0; k < plan_->views[v].outputs.size(); ++k)
      source[plan_->views[v].outputs[k]] = {v, k};
  }
  constexpr size_t kFlushBytes = 1 << 20;
  std::string text, missed;
  for (size_t r = 0; r < size(); ++r) {
    const size_t begin = r == 0 ? 0 : ends_[r - 1];
    text.append(labels_, begin, ends_[r] - begin);
    missed.clear();
    for (size_t j = 0; j < outputs; ++j) {
      const auto [v, k] = source[j];
      const auto [p, i] = where_[v][r];
      const Column& column = parts_[p].result.columns()[k];
      AppendCsvCell(column, i, &text);
      text.push_back(',');
      if (!column.is_null(i)) continue;
      ++(*missing)[j];
      if (!missed.empty()) missed.push_back(';');
      missed += plan_->features[j];
    }
    AppendCsvField(missed, &text);
    text.push_back('\n');
    if (text.size() >= kFlushBytes) {
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void TrainingWindow::Clear() {
  labels_.clear();
  ends_.clear();
  for (auto& column : keys_)
    column.clear();
  times_.clear();
  parts_.clear();
}

}  // namespace quiver::cli
