// `quiver backfill`: past source events, from a JSON-lines file or a Kafka
// topic (from its beginning to its end when the backfill starts), sent to
// quiverd in batches of Backfill requests.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "client/cli/commands.h"
#include "client/cli/progress.h"
#include "protocol/timestamp.h"

namespace quiver::cli {

namespace {

// Where events come from, one at a time, in order.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // The next event and where it is (file:line, topic/partition@offset);
  // false at the end.
  virtual Result<bool> Next(std::string* event, std::string* where) = 0;
  virtual uint64_t done() const = 0;   // progress, in units of total()
  virtual uint64_t total() const = 0;  // 0: unknown
};

class FileSource : public EventSource {
 public:
  static Result<std::unique_ptr<EventSource>> Open(const std::string& path) {
    auto s = std::unique_ptr<FileSource>(new FileSource(path));
    if (!s->in_) return Status::NotFound("cannot open " + path);
    std::error_code ec;
    s->size_ = std::filesystem::file_size(path, ec);
    return std::unique_ptr<EventSource>(std::move(s));
  }
  Result<bool> Next(std::string* event, std::string* where) override {
    if (!std::getline(in_, *event)) return false;
    ++line_;
    bytes_ += event->size() + 1;
    *where = path_ + ":" + std::to_string(line_);
    return true;
  }
  uint64_t done() const override { return bytes_; }
  uint64_t total() const override { return size_; }

 private:
  explicit FileSource(std::string path) : path_(std::move(path)), in_(path_) {}
  std::string path_;
  std::ifstream in_;
  uint64_t line_ = 0, bytes_ = 0, size_ = 0;
};

// Every partition of a topic from its first offset to its end as of Open.
class TopicSource : public EventSource {
 public:
  static Result<std::unique_ptr<EventSource>> Open(const std::string& brokers,
                                                   const std::string& topic) {
    auto s = std::unique_ptr<TopicSource>(new TopicSource(topic));
    QUIVER_RETURN_IF_ERROR(s->Connect(brokers));
    QUIVER_RETURN_IF_ERROR(s->AssignAll());
    return std::unique_ptr<EventSource>(std::move(s));
  }
  ~TopicSource() override {
    if (rk_ == nullptr) return;
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  Result<bool> Next(std::string* event, std::string* where) override {
    while (!ends_.empty()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 1000);
      if (m == nullptr) continue;
      std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(
          m, rd_kafka_message_destroy);
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ends_.erase(m->partition);
        continue;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable("reading " + topic_ + ": " + rd_kafka_message_errstr(m));
      }
      auto end = ends_.find(m->partition);
      if (end == ends_.end() || m->offset >= end->second) continue;  // after the snapshot
      if (m->offset + 1 >= end->second) ends_.erase(end);
      ++done_;
      event->assign(static_cast<const char*>(m->payload), m->len);
      *where = topic_ + "/" + std::to_string(m->partition) + "@" + std::to_string(m->offset);
      return true;
    }
    return false;
  }
  uint64_t done() const override { return done_; }
  uint64_t total() const override { return total_; }

 private:
  explicit TopicSource(std::string topic) : topic_(std::move(topic)) {}

  Status Connect(const std::string& brokers) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::string group = "quiver-backfill-" + std::to_string(getpid());
    for (const auto& [k, v] : {std::pair<const char*, std::string>{"bootstrap.servers", brokers},
                               {"group.id", group},
                               {"enable.auto.commit", "false"},
                               {"enable.partition.eof", "true"},
                               // As quiverd's consumer: librdkafka 2.0 pauses
                               // a second at 100,000 queued messages
                               // (docs/operations.md#kafka-ingestion).
                               {"queued.min.messages", "1000000"}}) {
      if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return Status::InvalidArgument(std::string("kafka: ") + err);
      }
    }
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk_ == nullptr) return Status::InvalidArgument(std::string("kafka: ") + err);
    return Status::Ok();
  }

  Status AssignAll() {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic_.c_str(), nullptr);
    const rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 0, t, &md, 10'000);
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      return Status::NotFound("kafka: cannot read topic " + topic_ + ": " + rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      const int32_t p = md->topics[0].partitions[i].id;
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(rk_, topic_.c_str(), p, &low, &high, 10'000) != 0) {
        continue;
      }
      if (high <= low) continue;
      ends_[p] = high;
      total_ += static_cast<uint64_t>(high - low);
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    const rd_kafka_resp_err_t a = rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (a != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(std::string("kafka: assign: ") + rd_kafka_err2str(a));
    }
    return Status::Ok();
  }

  std::string topic_;
  rd_kafka_t* rk_ = nullptr;
  std::map<int32_t, int64_t> ends_;  // partitions not yet read to their end
  uint64_t done_ = 0, total_ = 0;
};

struct Totals {
  BackfillResult sum;
  uint64_t read = 0;
  std::vector<std::string> errors;  // the first few, with where they are
};

Status SendBatch(Client& client, const BackfillArgs& args, const std::vector<std::string>& events,
                 const std::vector<std::string>& where, bool finish, int64_t until,
                 Totals* totals) {
  QUIVER_ASSIGN_OR_RETURN(BackfillResult r, client.Backfill(args.view, events, finish, until));
  totals->sum.events += r.events;
  totals->sum.malformed += r.malformed;
  totals->sum.too_late += r.too_late;
  totals->sum.versions += r.versions;
  if (r.first_error_index >= 0 && static_cast<size_t>(r.first_error_index) < where.size() &&
      totals->errors.size() < 5) {
    totals->errors.push_back(where[r.first_error_index] + ": " + r.first_error);
  }
  return Status::Ok();
}

Status Run(Client& client, const BackfillArgs& args, EventSource& source, int64_t until,
           Totals* totals) {
  Progress progress(args.progress, source.total(), "events");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> batch, where;
  std::string event, at;
  for (;;) {
    QUIVER_ASSIGN_OR_RETURN(bool more, source.Next(&event, &at));
    if (more) {
      ++totals->read;
      batch.push_back(std::move(event));
      where.push_back(std::move(at));
      if (batch.size() < args.batch_events) continue;
    }
    const Status s = SendBatch(client, args, batch, where, !more, until, totals);
    batch.clear();
    where.clear();
    progress.Update(
        source.done(), totals->sum.events,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!s.ok() || !more) {
      progress.Done();
      return s;
    }
  }
}

}  // namespace

int Backfill(const ClientOptions& options, const BackfillArgs& args) {
  int64_t until = 0;
  if (!args.until.empty()) {
    Result<int64_t> t = ParseTimestampMs(args.until);
    if (!t.ok()) return Fail(Status::InvalidArgument("--until: " + t.status().message()));
    until = *t;
  }
  if (args.file.empty() == args.topic.empty() || args.topic.empty() != args.brokers.empty()) {
    return Fail(Status::InvalidArgument(
        "give either --from-file FILE or --from-topic TOPIC with --brokers HOST:PORT"));
  }
  auto source =
      args.file.empty() ? TopicSource::Open(args.brokers, args.topic) : FileSource::Open(args.file);
  if (!source.ok()) return Fail(source.status());
  auto client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  const auto start = std::chrono::steady_clock::now();
  Totals totals;
  if (Status s = Run(**client, args, **source, until, &totals); !s.ok()) return Fail(s);
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "events     " << totals.sum.events << " applied of " << totals.read << " read\n";
  std::cout << "versions   " << totals.sum.versions << "\n";
  std::cout << "too late   " << totals.sum.too_late << "\n";
  std::cout << "malformed  " << totals.sum.malformed << "\n";
  for (const std::string& e : totals.errors)
    std::cout << "  " << e << "\n";
  std::cout << "time       " << t << " s ("
            << static_cast<uint64_t>(totals.sum.events / std::max(t, 1e-9)) << " events/s)\n";
  return 0;
}

}  // namespace quiver::cli
