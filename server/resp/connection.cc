#include "server/resp/connection.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "security/tls/tls_context.h"
#include "server/cluster/changelog.h"
#include "server/resp/errors.h"
#include "server/resp/replicated.h"
#include "util/rcu.h"

namespace quiver {

namespace {
// Stop reading while this many batches of one connection await their commit.
constexpr size_t kMaxAwaiting = 1024;

std::string Endpoint(const boost::asio::ip::tcp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}
}  // namespace

RespConnection::RespConnection(boost::asio::ip::tcp::socket socket, ClientLimits::Slot slot,
                               KeySpace& keyspace, FeatureStore& store, resp::Shared& shared,
                               RequestMetrics::Recorder& recorder)
    : StreamConnection(std::move(socket), "resp", std::move(slot)),
      keyspace_(keyspace),
      store_(store),
      shared_(shared),
      recorder_(recorder),
      block_timer_(this->socket().get_executor()) {
  auto info = std::make_shared<resp::ClientInfo>();
  info->id = shared_.next_client_id.fetch_add(1, std::memory_order_relaxed);
  boost::system::error_code ec;
  info->addr = Endpoint(this->socket().remote_endpoint(ec));
  info->laddr = Endpoint(this->socket().local_endpoint(ec));
  info->created_ms = keyspace_.NowMs();
  session_.info = std::move(info);
  resp::StartAsDefaultUser(shared_, session_);
}

void RespConnection::Handshaken(const SSL* ssl) {
  if (!shared_.tls_user_from_cn.load(std::memory_order_relaxed)) return;
  const std::string name = tls::PeerCommonName(ssl);
  if (!name.empty()) resp::AuthenticateByCertificate(shared_, session_, name);
}

bool RespConnection::Revoked() {
  return !resp::StillPermitted(shared_, session_);
}

RespConnection::~RespConnection() {
  resp::UnsubscribeAll(shared_, session_);
  const resp::ClientInfo& info = *session_.info;
  shared_.closed_commands.fetch_add(info.commands.load(std::memory_order_relaxed));
  shared_.closed_net_in.fetch_add(info.net_in.load(std::memory_order_relaxed));
  shared_.closed_net_out.fetch_add(info.net_out.load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(shared_.clients_mu);
  shared_.clients.erase(info.id);
}

void RespConnection::Started() {
  shared_.connections_received.fetch_add(1, std::memory_order_relaxed);
  // Pub/Sub messages come from publishers' threads: appended here.
  session_.subscriber = std::make_shared<resp::Subscriber>();
  session_.subscriber->deliver = [weak = weak_from_this(),
                                  executor = socket().get_executor()](std::string bytes) {
    boost::asio::post(executor, [weak, bytes = std::move(bytes)] {
      auto self = std::static_pointer_cast<RespConnection>(weak.lock());
      if (self == nullptr) return;
      // Redis's pubsub class limit: a subscriber that does not read its
      // messages is disconnected before they take more than this.
      if (self->OutputBytes() + bytes.size() > kPubSubOutputLimit) {
        spdlog::warn("closing resp connection {}: {} bytes of messages unread (pubsub limit)",
                     self->session_.info->id, self->OutputBytes());
        return self->Close();
      }
      self->pending().append(bytes);
      self->Flush();
    });
  };
  std::lock_guard<std::mutex> lock(shared_.clients_mu);
  shared_.clients.emplace(session_.info->id, session_.info);
}

std::span<char> RespConnection::ReadSpace() {
  std::span<char> space = reader_.WritableSpace();
  resp::ClientInfo& info = *session_.info;
  info.qbuf.store(static_cast<int64_t>(reader_.buffered()), std::memory_order_relaxed);
  info.qbuf_free.store(static_cast<int64_t>(space.size()), std::memory_order_relaxed);
  return space;
}

void RespConnection::Received(size_t n) {
  resp::ClientInfo::Add(session_.info->net_in, static_cast<int64_t>(n));
  reader_.Commit(n);
  ProcessRequests();
  session_.info->omem.store(static_cast<int64_t>(OutputBytes()), std::memory_order_relaxed);
}

void RespConnection::Written(size_t bytes) {
  resp::ClientInfo::Add(session_.info->net_out, static_cast<int64_t>(bytes));
  // Requests left unprocessed while the replies were too large run now.
  if (!closing() && !offloaded() && (batch_open_ || reader_.buffered() > 0)) ProcessRequests();
  session_.info->omem.store(static_cast<int64_t>(OutputBytes()), std::memory_order_relaxed);
}

size_t RespConnection::ParseBatch(Status* error, bool* more) {
  size_t n = 0;
  *more = false;
  while (n < kBatch) {
    // Before AUTH, one request at a time: the next is parsed under the
    // limits that hold once this one has run.
    reader_.set_authenticated(session_.authenticated);
    if (n > 0 && !session_.authenticated) {
      *more = true;
      break;
    }
    if (batch_.size() <= n) batch_.emplace_back();
    Result<bool> got = reader_.Next(&batch_[n]);
    if (!got.ok()) {
      *error = got.status();
      break;
    }
    if (!*got) break;
    ++n;
  }
  return n;
}

void RespConnection::PrefetchKeys(size_t n) {
  keys_.clear();
  commands_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const resp::Command* cmd = commands_[i] = resp::FindCommand(batch_[i][0]);
    if (cmd == nullptr || cmd->first_key <= 0) continue;
    // Every key a request names (MSET's, MGET's, DEL's ...), up to a limit.
    const int64_t last = resp::LastKey(*cmd, batch_[i].size());
    for (int64_t k = cmd->first_key; k <= last && keys_.size() < kMaxPrefetchedKeys;
         k += std::max(cmd->key_step, 1)) {
      keys_.push_back(batch_[i][static_cast<size_t>(k)]);
    }
  }
  if (keys_.size() < 2) return;  // nothing to overlap
  rcu::ReadLock lock;
  keyspace_.Prefetch(session_.db, keys_);
  PrefetchFields(n);
}

void RespConnection::PrefetchFields(size_t n) {
  // Only when every request names one hash: finding whether a key holds a
  // large hash reads its record, which would wait for each key's record in
  // turn, undoing the overlap of a pipeline over many keys.
  std::string_view key;
  fields_.clear();
  for (size_t i = 0; i < n; ++i) {
    const resp::Command* cmd = commands_[i];
    if (cmd == nullptr || !(cmd->flags & resp::kHashField) || batch_[i].size() < 3) return;
    if (i > 0 && batch_[i][1] != key) return;
    key = batch_[i][1];
    fields_.push_back(batch_[i][2]);
  }
  keyspace_.PrefetchFields(session_.db, key, fields_);
}

void RespConnection::ProcessRequests() {
  resp::Context ctx{keyspace_, store_, shared_, session_, writer_};
  if (shared_.changelog != nullptr) ctx.proposal = &proposal_;
  session_.info->last_command_ms.store(keyspace_.NowMs(), std::memory_order_relaxed);
  // In batches: parse several requests, start fetching the keys they name,
  // then run them, so that a pipeline's cache misses overlap.
  while (!session_.close && !offloaded() && pending().size() <= kMaxPendingBytes) {
    if (!batch_open_) {
      parse_error_ = Status::Ok();
      more_ = false;
      parsed_ = ParseBatch(&parse_error_, &more_);
      next_ = 0;
      batch_open_ = true;
    }
    const size_t mark = pending().size();
    Stop stop = Stop::kEnd;
    {
      KeySpace::ClockScope clock(keyspace_);
      rcu::RetireBatch retire;
      if (next_ == 0) PrefetchKeys(parsed_);
      stop = RunBatch(ctx);
    }
    HoldReplies(mark);  // before the pool may touch the session
    // Both go on with the rest of the batch.
    if (stop == Stop::kLong) return RunLong(next_++);
    if (stop == Stop::kPropose) return Propose(next_++, MonotonicNs());
    if (stop == Stop::kBlock) {
      resp::BlockRequest request = std::move(*ctx.block);
      ctx.block.reset();
      return Wait(next_++, std::move(request));
    }
    batch_open_ = false;
    if (!parse_error_.ok() && !session_.close) {
      spdlog::debug("closing resp connection: {}", parse_error_.message());
      const size_t error_mark = pending().size();
      writer_.Error("ERR " + parse_error_.message());
      HoldReplies(error_mark);
      session_.close = true;
    }
    if (parsed_ < kBatch && !more_) break;
  }
  if (session_.close) set_closing();  // QUIT, or a protocol error
  if (session_.hits != 0 || session_.misses != 0) {
    shared_.keyspace_hits.fetch_add(session_.hits, std::memory_order_relaxed);
    shared_.keyspace_misses.fetch_add(session_.misses, std::memory_order_relaxed);
    session_.hits = session_.misses = 0;
  }
}

namespace {
// An error reply starts with '-' (RESP2 and 3) or '!' (a RESP3 blob error).
bool IsError(std::string_view reply) {
  return !reply.empty() && (reply[0] == '-' || reply[0] == '!');
}
}  // namespace

RespConnection::Stop RespConnection::RunBatch(resp::Context& ctx) {
  int64_t start = MonotonicNs();
  for (; next_ < parsed_ && !session_.close; ++next_) {
    const resp::Command* cmd = commands_[next_];
    // A cluster member's writes are proposed, never run long here.
    if (shared_.long_requests != nullptr && resp::RunsLong(session_, cmd) &&
        !(shared_.changelog != nullptr && resp::Proposed(session_, cmd))) {
      return Stop::kLong;
    }
    const size_t at = pending().size();
    resp::Execute(ctx, batch_[next_], cmd);
    if (proposal_.partition >= 0) return Stop::kPropose;  // timed when applied
    if (ctx.block) return Stop::kBlock;                   // timed when served
    const int64_t end = MonotonicNs();
    recorder_.Record(FrontEnd::kResp, resp::CommandId(cmd), end - start,
                     IsError(std::string_view(pending()).substr(at)));
    start = end;
  }
  return Stop::kEnd;
}

void RespConnection::RunLong(size_t i) {
  // Reading stops until the reply is back, so the request's words stay in
  // the reader's buffer, and only the pool touches the session.
  auto took = std::make_shared<int64_t>();
  Offload(
      shared_.long_requests,
      [this, i, took] {
        protocol::RespWriter out(&long_reply_);
        out.SetVersion(writer_.version());
        resp::Context ctx{keyspace_, store_, shared_, session_, out};
        const int64_t start = MonotonicNs();
        {
          KeySpace::ClockScope clock(keyspace_);
          rcu::RetireBatch retire;
          resp::Execute(ctx, batch_[i], commands_[i]);
        }
        *took = MonotonicNs() - start;
      },
      [this, i, took] {
        recorder_.Record(FrontEnd::kResp, resp::CommandId(commands_[i]), *took,
                         IsError(long_reply_));
        const size_t mark = pending().size();
        pending().append(long_reply_);
        std::string().swap(long_reply_);
        HoldReplies(mark);
        ProcessRequests();  // the rest of its batch, then what came after
      });
}

void RespConnection::Propose(size_t i, int64_t start) {
  const resp::Proposal proposal = std::move(proposal_);
  proposal_ = resp::Proposal();
  std::vector<cluster::Proposed> records;
  if (proposal.every_partition) {
    for (int p = 0; p < shared_.changelog->partitions(); ++p)
      records.push_back({p, proposal.body});
  } else {
    records.push_back({proposal.partition, proposal.body});
  }
  shared_.changelog->ProposeAll(
      records, cluster::RecordKind::kCommands, /*write_id=*/"",
      [this, i, start, resume = Suspend()](std::vector<Result<cluster::Applied>> applied) {
        // The command's reply: the first error among its records', else the last.
        std::string reply;
        for (Result<cluster::Applied>& a : applied) {
          reply.clear();
          if (!a.ok()) {
            protocol::RespWriter(&reply).Error(resp::ErrorReply(a.status()));
          } else {
            reply = std::move(a->reply);
          }
          if (IsError(reply)) break;
        }
        resume([this, i, start, reply = std::move(reply)] { Applied(i, start, reply); });
      });
}

std::shared_ptr<resp::Waiter> RespConnection::NewWaiter(size_t i, int64_t start,
                                                        std::string timeout_reply,
                                                        int64_t deadline_ms) {
  auto w = std::make_shared<resp::Waiter>();
  w->client_id = session_.info->id;
  w->db = session_.db;
  w->proto = session_.proto;
  w->info = session_.info;
  w->cmd = commands_[i];
  w->words.assign(batch_[i].begin(), batch_[i].end());
  w->timeout_reply = std::move(timeout_reply);
  w->deliver = [this, i, start, resume = Suspend()](std::string reply, bool logged) {
    resume([this, i, start, reply = std::move(reply), logged] {
      block_timer_.cancel();
      waiter_.reset();
      block_deadline_ms_ = -1;
      session_.logged = session_.logged || logged;
      Replied(i, start, reply);
    });
  };
  if (deadline_ms > 0) {
    block_timer_.expires_after(std::chrono::milliseconds(deadline_ms - keyspace_.NowMs()));
    block_timer_.async_wait([&blocked = shared_.blocked, w](const boost::system::error_code& ec) {
      if (!ec) blocked.End(w, w->timeout_reply);
    });
  }
  waiter_ = w;
  WatchForClose();
  return w;
}

void RespConnection::Wait(size_t i, resp::BlockRequest request) {
  std::string timeout_reply;
  protocol::RespWriter out(&timeout_reply);
  out.SetVersion(session_.proto);
  request.null_array ? out.NullArray() : out.Null();
  auto w = NewWaiter(i, MonotonicNs(), std::move(timeout_reply), request.deadline_ms);
  w->keys.assign(request.keys.begin(), request.keys.end());
  resp::Context ctx{keyspace_, store_, shared_, session_, writer_};
  KeySpace::ClockScope clock(keyspace_);
  rcu::RetireBatch retire;
  resp::StartWaiting(ctx, w);
}

void RespConnection::WatchForClose() {
  if (watching_) return;
  watching_ = true;
  auto self = std::static_pointer_cast<RespConnection>(shared_from_this());
  socket().async_wait(
      boost::asio::ip::tcp::socket::wait_read, [self](const boost::system::error_code& ec) {
        self->watching_ = false;
        if (ec || self->waiter_ == nullptr) return;
        char byte;
        const ssize_t n = ::recv(self->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        // Data: the client pipelined more; it runs after the wait.
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) return;
        if (self->shared_.blocked.End(self->waiter_, "")) {
          self->waiter_.reset();
          self->block_timer_.cancel();
          self->Close();
        }
      });
}

namespace {
bool IsNull(std::string_view reply) {
  return reply == "*-1\r\n" || reply == "$-1\r\n" || reply == "_\r\n";
}
}  // namespace

void RespConnection::Applied(size_t i, int64_t start, std::string_view reply) {
  const resp::Command* cmd = commands_[i];
  if (cmd == nullptr || !(cmd->flags & resp::kBlocking) || !IsNull(reply)) {
    block_deadline_ms_ = -1;
    return Replied(i, start, reply);
  }
  if (block_deadline_ms_ < 0) {  // its first answer: the wait starts now
    const std::string_view timeout = cmd->numkeys_at == 2 ? batch_[i][1] : batch_[i].back();
    Result<int64_t> deadline = resp::ParseBlockTimeout(timeout, keyspace_.NowMs());
    block_deadline_ms_ = deadline.ok() ? *deadline : 0;
  }
  if (block_deadline_ms_ > 0 && keyspace_.NowMs() >= block_deadline_ms_) {
    block_deadline_ms_ = -1;
    return Replied(i, start, reply);
  }
  auto w = NewWaiter(i, start, std::string(reply), block_deadline_ms_);
  resp::ForEachKey(*cmd, batch_[i], [&](size_t k) { w->keys.emplace_back(batch_[i][k]); });
  w->retry = [this, i, start, resume = Suspend()] {
    resume([this, i, start] {
      block_timer_.cancel();
      waiter_.reset();
      Repropose(i, start);
    });
  };
  shared_.blocked.Add(w);
  // A write applied between its answer and now woke nobody: try again.
  for (const std::string& key : w->keys) {
    if (keyspace_.Find(session_.db, key) != nullptr) return shared_.blocked.Retry(w);
  }
}

void RespConnection::Repropose(size_t i, int64_t start) {
  resp::Context ctx{keyspace_, store_, shared_, session_, writer_};
  ctx.proposal = &proposal_;
  const size_t mark = pending().size();
  {
    KeySpace::ClockScope clock(keyspace_);
    rcu::RetireBatch retire;
    resp::Execute(ctx, batch_[i], commands_[i]);
  }
  if (proposal_.partition >= 0) return Propose(i, start);
  block_deadline_ms_ = -1;  // refused before it was proposed: its error is the reply
  HoldReplies(mark);
  ProcessRequests();
}

void RespConnection::Replied(size_t i, int64_t start, std::string_view reply) {
  recorder_.Record(FrontEnd::kResp, resp::CommandId(commands_[i]), MonotonicNs() - start,
                   IsError(reply));
  const size_t mark = pending().size();
  pending().append(reply);
  HoldReplies(mark);
  ProcessRequests();  // the rest of its batch, then what came after
}

bool RespConnection::ReadPaused() const {
  return held_.awaiting() >= kMaxAwaiting;
}

void RespConnection::HoldReplies(size_t from) {
  KeyLog* log = keyspace_.log();
  const bool awaits = session_.logged && log != nullptr && log->durability() != Durability::kNone;
  session_.logged = false;
  if ((!awaits && held_.empty()) || from >= pending().size()) return;
  held_.Hold(pending().substr(from), 0, awaits);
  pending().resize(from);
  if (!awaits) return;
  // Commits complete in submission order: once this empty batch is
  // committed, so is every write this connection submitted before it.
  auto self = std::static_pointer_cast<RespConnection>(shared_from_this());
  log->Submit(HistoryBatch(), [self, submitted = MonotonicNs()](const Status& status) {
    boost::asio::post(self->socket().get_executor(),
                      [self, status, submitted] { self->OnCommitted(status, submitted); });
  });
}

void RespConnection::OnCommitted(const Status& status, int64_t submitted_ns) {
  recorder_.RecordCommitWait(FrontEnd::kResp, MonotonicNs() - submitted_ns);
  held_.Committed();
  if (!status.ok()) {
    spdlog::error("closing resp connection {}: a commit failed: {}", session_.info->id,
                  status.message());
    held_.Clear();
    Close();
    return;
  }
  held_.Release(&pending());
  Flush();
  Read();  // resumes reading if too many commits had paused it
}

}  // namespace quiver
