#include "server/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include "protocol/frame.h"
#include "protocol/json_text.h"
#include "server/cluster/feature_apply.h"
#include "server/file_limits.h"
#include "server/http/connection.h"
#include "server/native/connection.h"
#include "server/resp/connection.h"
#include "server/resp/info.h"
#include "util/clock.h"
#include "util/rcu.h"
#include "util/thread_name.h"
#include "util/version.h"

namespace quiver {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// RESP request kinds: every command by CommandId, then "unknown".
std::vector<std::string> RespKindNames() {
  std::vector<std::string> names;
  for (const resp::Command* c : resp::AllCommands())
    names.emplace_back(c->name);
  names.emplace_back("unknown");
  return names;
}

std::vector<std::string> HttpKindNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kHttpKinds; ++i)
    names.emplace_back(HttpKindName(static_cast<HttpKind>(i)));
  return names;
}

// The io_contexts of `threads` I/O threads: one each, and with one thread
// the standby (Server::contexts_).
size_t IoContexts(int threads) {
  return threads > 1 ? static_cast<size_t>(threads) : 2;
}

}  // namespace

Server::Server(const ServerOptions& options, FeatureStore& store, std::shared_ptr<KeyLog> key_log,
               NativeHandlerOptions handler)
    : options_(options),
      store_(store),
      handler_options_(std::move(handler)),
      keyspace_(store.table(), {.databases = options.databases,
                                .now_ms = [&store] { return store.NowMs(); },
                                .log = std::move(key_log)}),
      config_(options),
      resp_shared_(config_, std::string(kQuiverVersion)),
      metrics_({NativeHandler::KindNames(), RespKindNames(), HttpKindNames()},
               IoContexts(options.threads)),
      freshness_(store),
      long_requests_(std::make_unique<WorkPool>(options.long_request_threads)),
      series_({.metrics = metrics_, .store = store, .kafka = handler_options_.kafka},
              {.interval_ms = options.series_interval_ms,
               .span_ms = options.series_span_ms,
               .drift_interval_ms = options.series_drift_interval_ms}),
      http_api_({.store = store,
                 .keyspace = keyspace_,
                 .metrics = metrics_,
                 .kafka = handler_options_.kafka,
                 .ingestor = handler_options_.ingestor,
                 .version = std::string(kQuiverVersion),
                 .durability = handler_options_.durability,
                 .start_ms = store.NowMs(),
                 .users = &resp_shared_.users,
                 .acl_log = &resp_shared_.acl_log,
                 .user_from_certificate = &resp_shared_.tls_user_from_cn,
                 .freshness = &freshness_,
                 .max_answer_bytes = options.max_frame,
                 .long_requests = long_requests_.get(),
                 .series = &series_,
                 .dashboard = options.dashboard}) {
  resp_shared_.metrics = &metrics_;
  resp_shared_.aclfile = options.aclfile;
  resp_shared_.tls_user_from_cn = options.tls_auth_clients_user == "CN";
  config_.OnChange("tls_auth_clients_user", [this](const ServerOptions& o) {
    resp_shared_.tls_user_from_cn = o.tls_auth_clients_user == "CN";
  });
  resp_shared_.acl_log.set_max_len(static_cast<size_t>(options.acllog_max_len));
  config_.OnChange("acllog_max_len", [this](const ServerOptions& o) {
    resp_shared_.acl_log.set_max_len(static_cast<size_t>(o.acllog_max_len));
  });
  keyspace_.SetKeyEvents(&resp_shared_.notifier);      // "new" and "expired" notifications
  store.SetRowEvents(&resp_shared_.feature_channels);  // __quiver__:<view> channels
  config_.OnChange("max_memory", [&store](const ServerOptions& o) {
    store.table().set_max_memory_bytes(o.max_memory);
    if (HistoryStore* history = store.history()) history->FitMemory(o.max_memory);
  });
  handler_options_.max_frame_bytes = options.max_frame;
  handler_options_.server_version = kQuiverVersion;
  handler_options_.users = &resp_shared_.users;
  handler_options_.acl_log = &resp_shared_.acl_log;
  handler_options_.user_from_certificate = &resp_shared_.tls_user_from_cn;
  handler_options_.freshness = &freshness_;
  handler_options_.long_requests = long_requests_.get();
  resp_shared_.long_requests = long_requests_.get();
  limits_.Set(options);
  limits_.set_budget(&store.table().budget());  // connections count their buffers
  for (const char* name :
       {"maxclients", "timeout", "tcp_keepalive", "client_output_buffer_limit", "protected_mode"})
    config_.OnChange(name, [this](const ServerOptions& o) { limits_.Set(o); });
  accept_context_ = std::make_unique<asio::io_context>(1);
  for (size_t i = 0; i < IoContexts(options.threads); ++i) {
    // Hint 1: each context is run by exactly one thread.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    crons_.push_back(std::make_unique<ClientCron>(*contexts_.back()));
  }
}

Server::~Server() {
  store_.SetRowEvents(nullptr);  // the channels go with resp_shared_
}

void Server::LimitClients(int rocksdb_files) {
  config_.OnCheck("maxclients", [rocksdb_files](const ServerOptions& o) {
    const int64_t fit = ClientsThatFit(rocksdb_files);
    if (o.maxclients <= fit) return Status::Ok();
    return Status::InvalidArgument(
        "The operating system is not able to handle the specified number of clients, try with " +
        std::to_string(fit));
  });
}

void Server::Refuse(tcp::socket socket, std::string_view answer) {
  resp_shared_.rejected_connections.fetch_add(1, std::memory_order_relaxed);  // INFO stats
  if (limits_.rejected() % 1000 == 1) {  // the first of each thousand
    spdlog::warn("refusing a client: {} connected (maxclients); {} refused so far",
                 limits_.connected(), limits_.rejected());
  }
  RefuseClient(std::move(socket), answer);
}

namespace {

// Redis's explanation, for quiverd.
constexpr char kProtectedMode[] =
    "quiverd is running in protected mode because protected mode is enabled, it listens on a "
    "non-loopback address and no password is set. In this mode connections are only accepted "
    "from the loopback interface. To accept connections from other computers, do one of these: "
    "1) set a password: CONFIG SET requirepass from the loopback interface, or restart with "
    "--requirepass-file FILE; 2) disable protected mode: CONFIG SET protected-mode no from the "
    "loopback interface, or restart with --protected-mode no, after making sure quiverd is not "
    "reachable from the internet; 3) listen on a loopback address only (--bind 127.0.0.1). You "
    "only need to do one of the above for quiverd to accept connections from outside.";
const std::string kRespDenied = std::string("-DENIED ") + kProtectedMode + "\r\n";

}  // namespace

bool Server::Protected(const tcp::socket& socket, bool loopback_bind) const {
  return RefusedByProtectedMode(limits_, resp_shared_.password.required(), loopback_bind, socket);
}

std::string Server::NativeAnswer(const Status& status) {
  flatbuffers::FlatBufferBuilder b;
  protocol::BuildErrorResponse(&b, 0, status);
  return {reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()};
}

std::string Server::HttpAnswer(unsigned status, std::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(message, &body);
  body += "}\n";
  return "HTTP/1.1 " + std::to_string(status) +
         (status == 403 ? " Forbidden" : " Service Unavailable") +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string Server::NativeClientsFull() const {
  return NativeAnswer(Status::ResourceExhausted("max number of clients reached (maxclients " +
                                                std::to_string(limits_.maxclients()) + ")"));
}

std::string Server::HttpClientsFull() const {
  return HttpAnswer(503, "max number of clients reached (maxclients " +
                             std::to_string(limits_.maxclients()) + ")");
}

RequestMetrics::Recorder& Server::RecorderOf(tcp::socket& socket) {
  const auto& context = asio::query(socket.get_executor(), asio::execution::context);
  for (size_t i = 0; i < contexts_.size(); ++i) {
    if (&context == contexts_[i].get()) return metrics_.recorder(i);
  }
  return metrics_.recorder(0);
}

Result<std::unique_ptr<tcp::acceptor>> Server::Listen(const std::string& bind, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(bind, ec);
  if (ec) return Status::InvalidArgument("bad bind address '" + bind + "'");
  tcp::endpoint endpoint(address, port);
  auto acceptor = std::make_unique<tcp::acceptor>(*accept_context_);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("cannot listen on " + bind + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  return acceptor;
}

Status Server::ListenOptional(const std::string& bind, int port, std::string_view what,
                              std::unique_ptr<tcp::acceptor>* acceptor, uint16_t* bound) {
  if (port < 0) return Status::Ok();
  Result<std::unique_ptr<tcp::acceptor>> listening = Listen(bind, static_cast<uint16_t>(port));
  if (!listening.ok()) {
    const std::string flag = what == "native" ? "--port" : "--" + std::string(what) + "-port";
    return Status::IoError(listening.status().message() + " (the " + std::string(what) +
                           " port: choose another with " + flag + ", or " + flag + " off)");
  }
  *acceptor = std::move(*listening);
  *bound = (*acceptor)->local_endpoint().port();
  return Status::Ok();
}

Status Server::Start() {
  QUIVER_RETURN_IF_ERROR(keyspace_.Recover());
  if (KeyLog* log = keyspace_.log()) {
    QUIVER_RETURN_IF_ERROR(resp::RecoverFunctions(resp_shared_, log->store()));
  }
  if (Status users = resp::RecoverUsers(
          resp_shared_, keyspace_.log() != nullptr ? &keyspace_.log()->store() : nullptr);
      !users.ok()) {
    return Status::InvalidArgument("the users could not be loaded: " + users.message());
  }
  QUIVER_RETURN_IF_ERROR(ListenAll());
  QUIVER_RETURN_IF_ERROR(JoinCluster());
  AcceptAll();
  for (auto& cron : crons_)
    cron->Start();
  return Status::Ok();
}

Status Server::ListenAll() {
  if (options_.port < 0 && options_.tls_native_port < 0) {
    return Status::InvalidArgument(
        "--port off needs --tls-native-port: the native protocol needs a port");
  }
  if (UsesTls()) {
    if (Status s = tls_.Reload(TlsOptionsOf(options_)); !s.ok()) {
      return Status::InvalidArgument("TLS: " + s.message());
    }
    WatchTlsSettings();
  }
  const std::string& bind = options_.bind;
  QUIVER_RETURN_IF_ERROR(ListenOptional(bind, options_.port, "native", &acceptor_, &port_));
  QUIVER_RETURN_IF_ERROR(
      ListenOptional(bind, options_.resp_port, "resp", &resp_acceptor_, &resp_port_));
  QUIVER_RETURN_IF_ERROR(
      ListenOptional(options_.http_bind, options_.http_port, "http", &http_acceptor_, &http_port_));
  QUIVER_RETURN_IF_ERROR(
      ListenOptional(bind, options_.tls_port, "tls", &tls_acceptor_, &tls_port_));
  QUIVER_RETURN_IF_ERROR(ListenOptional(bind, options_.tls_native_port, "tls-native",
                                        &tls_native_acceptor_, &tls_native_port_));
  QUIVER_RETURN_IF_ERROR(ListenOptional(options_.http_bind, options_.tls_http_port, "tls-http",
                                        &tls_http_acceptor_, &tls_http_port_));
  for (auto* a : {&acceptor_, &resp_acceptor_, &tls_acceptor_, &tls_native_acceptor_}) {
    if (*a) bind_loopback_ = IsLoopback((*a)->local_endpoint().address());
  }
  for (auto* a : {&http_acceptor_, &tls_http_acceptor_}) {
    if (*a) http_bind_loopback_ = IsLoopback((*a)->local_endpoint().address());
  }
  config_.Resolve([this](ServerOptions& o) {  // CONFIG GET shows the ports bound
    if (acceptor_) o.port = port_;
    if (resp_acceptor_) o.resp_port = resp_port_;
    if (http_acceptor_) o.http_port = http_port_;
    if (tls_acceptor_) o.tls_port = tls_port_;
    if (tls_native_acceptor_) o.tls_native_port = tls_native_port_;
    if (tls_http_acceptor_) o.tls_http_port = tls_http_port_;
  });
  return Status::Ok();
}

void Server::AcceptAll() {
  if (resp_acceptor_) {
    AcceptLoop(*resp_acceptor_, [this](tcp::socket s) { StartResp(std::move(s), nullptr); });
  }
  if (tls_acceptor_) {
    AcceptLoop(*tls_acceptor_, [this](tcp::socket s) { StartResp(std::move(s), tls_.Get()); });
  }
  if (http_acceptor_) {
    AcceptLoop(*http_acceptor_, [this](tcp::socket s) { StartHttp(std::move(s), nullptr); });
  }
  if (tls_http_acceptor_) {
    AcceptLoop(*tls_http_acceptor_, [this](tcp::socket s) { StartHttp(std::move(s), tls_.Get()); });
  }
  if (acceptor_) {
    AcceptLoop(*acceptor_, [this](tcp::socket s) { StartNative(std::move(s), nullptr); });
  }
  if (tls_native_acceptor_) {
    AcceptLoop(*tls_native_acceptor_,
               [this](tcp::socket s) { StartNative(std::move(s), tls_.Get()); });
  }
}

// A client refused at accept on a TLS port is closed without an answer:
// it could not read one that is not in TLS.
void Server::StartResp(tcp::socket socket, std::shared_ptr<tls::Context> tls) {
  ClientLimits::Slot slot = limits_.Admit();
  if (!slot) return Refuse(std::move(socket), tls ? "" : "-ERR max number of clients reached\r\n");
  if (Protected(socket, bind_loopback_)) return Refuse(std::move(socket), tls ? "" : kRespDenied);
  auto executor = socket.get_executor();
  auto& recorder = RecorderOf(socket);
  auto c = std::make_shared<RespConnection>(std::move(socket), std::move(slot), keyspace_, store_,
                                            resp_shared_, recorder);
  if (tls) c->UseTls(std::move(tls));
  asio::post(executor, [c] { c->Start(); });  // on the connection's own thread
}

void Server::StartHttp(tcp::socket socket, std::shared_ptr<tls::Context> tls) {
  ClientLimits::Slot slot = limits_.Admit();
  if (!slot) return Refuse(std::move(socket), tls ? "" : HttpClientsFull());
  if (Protected(socket, http_bind_loopback_)) {
    return Refuse(std::move(socket), tls ? "" : HttpAnswer(403, kProtectedMode));
  }
  auto executor = socket.get_executor();
  auto& recorder = RecorderOf(socket);
  if (tls) {
    auto c = std::make_shared<HttpsConnection>(std::move(socket), std::move(slot), http_api_,
                                               recorder, options_.max_frame, std::move(tls));
    return asio::post(executor, [c] { c->Start(); });
  }
  auto c = std::make_shared<HttpConnection>(std::move(socket), std::move(slot), http_api_, recorder,
                                            options_.max_frame);
  asio::post(executor, [c] { c->Start(); });
}

void Server::StartNative(tcp::socket socket, std::shared_ptr<tls::Context> tls) {
  ClientLimits::Slot slot = limits_.Admit();
  if (!slot) return Refuse(std::move(socket), tls ? "" : NativeClientsFull());
  if (Protected(socket, bind_loopback_)) {
    return Refuse(std::move(socket), tls ? "" : NativeAnswer(Status::NoPermission(kProtectedMode)));
  }
  auto executor = socket.get_executor();
  auto& recorder = RecorderOf(socket);
  auto c = std::make_shared<NativeConnection>(std::move(socket), std::move(slot), store_,
                                              handler_options_, recorder);
  if (tls) c->UseTls(std::move(tls));
  asio::post(executor, [c] { c->Start(); });
}

asio::io_context& Server::NextContext() {
  const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
  size_t i = next_context_;
  const int busy = resp_shared_.script_io_thread.load(std::memory_order_relaxed);
  // Past the thread a script holds; with one thread, to the standby.
  if (static_cast<int>(i) == busy) i = threads > 1 ? (i + 1) % threads : threads;
  next_context_ = (i + 1) % threads;
  return *contexts_[i];
}

std::optional<tcp::socket> Server::ToNextContext(tcp::socket accepted) {
  boost::system::error_code ec;
  const tcp::endpoint local = accepted.local_endpoint(ec);
  if (ec) return std::nullopt;  // closed by the peer already: accepted's destructor closes it
  const tcp::socket::native_handle_type fd = accepted.release(ec);
  if (ec) return std::nullopt;
  tcp::socket socket(NextContext());
  socket.assign(local.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return std::nullopt;
  }
  return socket;
}

void Server::AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> start) {
  acceptor.async_accept([this, &acceptor, start = std::move(start)](
                            const boost::system::error_code& ec, tcp::socket accepted) mutable {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (std::optional<tcp::socket> socket = ToNextContext(std::move(accepted))) {
        start(std::move(*socket));
      }
      return AcceptLoop(acceptor, std::move(start));
    }
    AcceptFailed(acceptor, ec);
    if (!OutOfDescriptors(ec)) return AcceptLoop(acceptor, std::move(start));
    // Out of descriptors: the pending connection stays in the backlog,
    // so accepting again at once would spin. Try again a little later.
    auto timer = std::make_shared<asio::steady_timer>(*accept_context_);
    timer->expires_after(std::chrono::milliseconds(100));
    timer->async_wait([this, timer, &acceptor,
                       start = std::move(start)](const boost::system::error_code& e) mutable {
      if (!e) AcceptLoop(acceptor, std::move(start));
    });
  });
}

bool Server::OutOfDescriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

void Server::AcceptFailed(tcp::acceptor& acceptor, const boost::system::error_code& ec) {
  ++accept_errors_;
  const int64_t now = MonotonicMs();
  if (now - last_accept_log_ms_ < 1000) return;  // at most one line a second
  last_accept_log_ms_ = now;
  boost::system::error_code ignored;
  spdlog::warn("accept failed on port {}: {} ({} failures so far{})",
               acceptor.local_endpoint(ignored).port(), ec.message(), accept_errors_,
               OutOfDescriptors(ec) ? "; retrying every 100 ms until descriptors free up" : "");
}

void Server::Run() {
  std::vector<std::thread> threads;
  auto run = [this](size_t i) {
    rcu::ThreadRegistration registration;
    ClientCron::SetForThisThread(crons_[i].get());
    resp::IoThreadIndex() = static_cast<int>(i);
    auto guard = asio::make_work_guard(*contexts_[i]);
    contexts_[i]->run();
    ClientCron::SetForThisThread(nullptr);
  };
  for (size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([&run, i] {
      NameThisThread(("io-" + std::to_string(i)).c_str());
      run(i);
    });
  }
  std::thread acceptor([this] {
    NameThisThread("accept");
    rcu::ThreadRegistration registration;
    auto guard = asio::make_work_guard(*accept_context_);
    accept_context_->run();
  });
  std::thread sweeper([this] {
    NameThisThread("sweeper");
    SweepLoop();
  });
  const bool serves_http = options_.http_port >= 0 || options_.tls_http_port >= 0;
  if (serves_http) series_.Start();
  run(0);
  for (auto& t : threads)
    t.join();
  accept_context_->stop();  // after the acceptors' closing, posted by Stop
  acceptor.join();
  sweeper.join();
  series_.Stop();
  long_requests_->Stop();  // lets a running request finish
  resp_shared_.changelog = nullptr;
  changelog_.reset();  // proposals still waiting fail
}

namespace {

// What a member applies records with: RESP commands to the keyspace,
// feature rows to the store.
class MemberApplier final : public cluster::RecordApplier {
 public:
  MemberApplier(KeySpace& ks, FeatureStore& store, resp::Shared& shared)
      : store_(store), resp_(ks, store, shared) {}
  Result<std::string> Apply(cluster::RecordKind kind, std::string_view body, int32_t partition,
                            int64_t time_ms, HistoryBatch* batch) override {
    if (kind == cluster::RecordKind::kCommands) {
      return resp_.Apply(kind, body, partition, time_ms, batch);
    }
    return cluster::ApplyFeatureRecord(store_, kind, body, time_ms, batch);
  }

 private:
  FeatureStore& store_;
  resp::RespApplier resp_;
};

}  // namespace

Status Server::JoinCluster() {
  if (!options_.cluster.enabled()) return Status::Ok();
  ClusterOptions cluster = options_.cluster;
  if (cluster.replica_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    cluster.replica_id = std::string(host) + ":" + std::to_string(resp_port_);
  }
  applier_ = std::make_unique<MemberApplier>(keyspace_, store_, resp_shared_);
  QUIVER_ASSIGN_OR_RETURN(
      changelog_, cluster::Changelog::Start(cluster, options_.kafka, store_.history(), *applier_));
  resp_shared_.changelog = changelog_.get();
  handler_options_.changelog = changelog_.get();
  http_api_.SetChangelog(changelog_.get());
  return Status::Ok();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  resp::StopScripts(resp_shared_);  // else an endless script would keep us
  for (size_t i = 0; i < crons_.size(); ++i)
    asio::post(*contexts_[i], [cron = crons_[i].get()] { cron->Stop(); });
  asio::post(*accept_context_, [this] {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    if (resp_acceptor_) resp_acceptor_->close(ignored);
    if (http_acceptor_) http_acceptor_->close(ignored);
    if (tls_acceptor_) tls_acceptor_->close(ignored);
    if (tls_native_acceptor_) tls_native_acceptor_->close(ignored);
    if (tls_http_acceptor_) tls_http_acceptor_->close(ignored);
  });
  for (auto& context : contexts_)
    context->stop();
}

// Every 100 ms a sample for INFO's instantaneous_ops_per_sec, a reading of
// the memory measured elsewhere (MemoryBudget::Refresh) and, while a
// sweep of expired rows is due or under way, a slice of it of at most
// kSweepSlice: a sweep takes at most a tenth of a core, however large the
// table (as Redis bounds its active expiry), and a pass starts every sweep
// interval or, if it took longer, as soon as the previous one ends. While
// slices keep finding expired rows (keys written with a short TTL faster
// than a tenth of a core removes them), a slice may take kBusySlice: at
// most a quarter of a core, Redis's own bound for its slow expiry cycle.
void Server::SweepLoop() {
  rcu::ThreadRegistration registration;
  using Clock = std::chrono::steady_clock;
  constexpr auto kTick = std::chrono::milliseconds(100);
  constexpr auto kSweepSlice = std::chrono::milliseconds(10);
  constexpr auto kBusySlice = std::chrono::milliseconds(25);
  bool busy = false;  // the last slice stopped at its deadline with rows removed
  const auto sweep_every = std::chrono::milliseconds(options_.sweep_interval_ms);
  auto next_tick = Clock::now() + kTick;
  auto next_sweep = Clock::now() + sweep_every;
  OnlineTable::SweepCursor cursor;
  bool sweeping = false;
  std::unique_lock<std::mutex> lock(stop_mu_);
  auto wake = [&] { return sweeping ? next_tick : std::min(next_tick, next_sweep); };
  while (!stop_cv_.wait_until(lock, wake(), [this] { return stopping_; })) {
    lock.unlock();
    const auto now = Clock::now();
    if (now >= next_tick) {
      next_tick = now + kTick;
      resp::SampleOps(resp_shared_, SystemNowMs());
      store_.table().budget().Refresh();  // RocksDB's memory
    }
    if (!sweeping && now >= next_sweep) {
      sweeping = true;
      next_sweep = now + sweep_every;
    }
    if (sweeping) {
      const auto started = Clock::now();
      // A cluster member removes only what every record still to come
      // sees expired (Changelog::SafeTime).
      const int64_t now_ms =
          changelog_ == nullptr ? store_.NowMs() : std::min(store_.NowMs(), changelog_->SafeTime());
      const OnlineTable::SweepSlice slice =
          store_.table().SweepExpired(now_ms, &cursor, started + (busy ? kBusySlice : kSweepSlice),
                                      [this](const Record& r) { keyspace_.Swept(r); });
      keyspace_.FinishSweep();
      busy = !slice.finished && slice.removed > 0;
      if (slice.removed > 0) spdlog::debug("swept {} expired rows", slice.removed);
      sweeping = !slice.finished;
    }
    lock.lock();
  }
}

}  // namespace quiver
