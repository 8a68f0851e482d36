// RespConnection: one client connection of the RESP port. Reads requests
// and runs each in order on the io_context thread that owns the socket
// (pipelines of any depth); the socket side is StreamConnection's.
//
// With a log under durability async or sync, the replies to a batch of
// requests that wrote wait until those writes are committed, and the
// replies after them wait behind them, so a client sees replies in the
// order it asked. A failed commit closes the connection, its held
// replies unsent.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "protocol/resp.h"
#include "server/net/held_answers.h"
#include "server/net/stream_connection.h"
#include "server/resp/command.h"
#include "service/request_metrics.h"

namespace quiver {

class RespConnection : public StreamConnection {
 public:
  RespConnection(boost::asio::ip::tcp::socket socket, ClientLimits::Slot slot, KeySpace& keyspace,
                 FeatureStore& store, resp::Shared& shared, RequestMetrics::Recorder& recorder);
  ~RespConnection() override;

 private:
  std::span<char> ReadSpace() override;
  void Received(size_t n) override;
  void Started() override;
  void Written(size_t bytes) override;
  bool ReadPaused() const override;
  bool AnswersPending() const override { return !held_.empty(); }
  size_t HeldBytes() const override { return held_.bytes(); }
  size_t ReadBufferBytes() const override { return reader_.capacity(); }
  bool Revoked() override;
  void Handshaken(const SSL* ssl) override;
  size_t TransactionBytes() const override {
    return session_.queued_bytes + session_.watched_bytes;
  }
  void ProcessRequests();
  // Holds the replies in pending() from byte `from` on if they must wait
  // for a commit (their batch wrote) or behind replies that wait.
  void HoldReplies(size_t from);
  // submitted_ns: when the marker batch was submitted (for commit wait).
  void OnCommitted(const Status& status, int64_t submitted_ns);
  // Runs batch_'s requests from next_ on, timing each, until the end of
  // the batch, one that runs long (resp::RunsLong: kLong, for the caller
  // to hand batch_[next_] to RunLong once the replies so far are held), or
  // a cluster member's write (kPropose: proposal_ holds it, for Propose).
  // A blocking command that found nothing (kBlock: ctx.block holds what
  // it waits for, for Wait).
  enum class Stop { kEnd, kLong, kPropose, kBlock };
  Stop RunBatch(resp::Context& ctx);
  // Runs batch_[i] on the pool of long requests, then its reply is added
  // and the batch goes on.
  void RunLong(size_t i);
  // Sends proposal_ (batch_[i]'s, asked at `start`) to the changelog;
  // its reply is added once this server applied it, and the batch goes on.
  void Propose(size_t i, int64_t start);
  // The reply of batch_[i] applied: added, or, for a blocking command that
  // found nothing, a wait on this member until a record it applies writes
  // one of its keys, when the command is proposed again (Repropose).
  void Applied(size_t i, int64_t start, std::string_view reply);
  void Repropose(size_t i, int64_t start);
  // Makes batch_[i], a blocking command that found nothing, wait as
  // `request` asks (server/resp/blocking.h); its reply is added once the
  // wait ends, and the batch goes on. While it waits nothing is read, but
  // the socket is watched: a client that disconnects ends its wait.
  void Wait(size_t i, resp::BlockRequest request);
  // The waiter of batch_[i], whose wait its reply or timeout_reply (at
  // deadline_ms, 0: none) ends; watched for a closed connection.
  std::shared_ptr<resp::Waiter> NewWaiter(size_t i, int64_t start, std::string timeout_reply,
                                          int64_t deadline_ms);
  // Ends waiter_'s wait if the client closes the connection meanwhile.
  void WatchForClose();
  // Adds the reply of batch_[i], proposed at `start`, and goes on.
  void Replied(size_t i, int64_t start, std::string_view reply);
  // Parses up to kBatch requests into batch_; returns how many. A protocol
  // error (after them) goes to *error; *more is set if requests may be
  // buffered still (parsing stopped early, before authentication).
  size_t ParseBatch(Status* error, bool* more);
  // Looks up the commands of batch_'s first n requests (into commands_)
  // and starts fetching the first key each names.
  void PrefetchKeys(size_t n);
  // Then the fields they name, if they all name fields of one large hash.
  // REQUIRES: rcu::ReadLock held.
  void PrefetchFields(size_t n);
  static constexpr size_t kBatch = 16;
  // Pub/Sub messages a subscriber may leave unread (Redis's
  // client-output-buffer-limit pubsub hard limit).
  static constexpr size_t kPubSubOutputLimit = 32u << 20;
  // Keys whose slots a batch fetches ahead (beyond, the first are evicted
  // from the cache before they are used).
  static constexpr size_t kMaxPrefetchedKeys = 256;

  KeySpace& keyspace_;
  FeatureStore& store_;
  resp::Shared& shared_;
  RequestMetrics::Recorder& recorder_;
  protocol::RespReader reader_;
  protocol::RespWriter writer_{&pending()};
  resp::Session session_;
  std::vector<std::vector<std::string_view>> batch_;  // parsed requests
  size_t parsed_ = 0;                                 // how many batch_ holds
  size_t next_ = 0;                                   // the next of them to run
  bool batch_open_ = false;  // parsed, not all run (one runs long, or replies waited)
  bool more_ = false;        // ParseBatch stopped early (before authentication)
  Status parse_error_;       // after the batch's requests
  std::string long_reply_;   // the reply of a request run on the pool
  resp::Proposal proposal_;  // a cluster member's write to propose
  std::vector<const resp::Command*> commands_;  // their commands (nullptr: unknown)
  std::vector<std::string_view> keys_;          // their first keys
  std::vector<std::string_view> fields_;        // fields of one hash they name
  HeldAnswers held_;                            // replies waiting for commits
  boost::asio::steady_timer block_timer_;       // a blocking command's timeout
  std::shared_ptr<resp::Waiter> waiter_;        // its wait, while it waits
  bool watching_ = false;                       // for a close while it waits
  int64_t block_deadline_ms_ = -1;              // a cluster member's: -1 none, 0 forever
};

}  // namespace quiver
