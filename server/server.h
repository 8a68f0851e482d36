// Server: quiverd's network side. One Boost.Asio io_context per thread;
// the acceptors, on a thread of their own, hand each new connection to the
// next context in turn (passing over the one whose thread runs a Lua
// script), and the connection is served entirely on that context's thread.
// Three ports: the native protocol, RESP (the Redis protocol, over the
// KeySpace of plain keys and the feature rows) and HTTP (health,
// Prometheus metrics, JSON reads; on its own bind address, loopback by
// default). Each context's thread records its requests in its own
// RequestMetrics recorder. A background thread sweeps expired rows and keys
// out of memory.
//
// Start() and port() from the owning thread; Run() blocks until Stop(),
// which any thread (or a signal handler via Asio) may call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "security/tls/tls_context.h"
#include "server/cluster/changelog.h"
#include "server/http/api.h"
#include "server/native/handler.h"
#include "server/net/clients.h"
#include "server/net/work_pool.h"
#include "server/options.h"
#include "server/resp/command.h"
#include "server/resp/replicated.h"
#include "service/request_metrics.h"
#include "service/runtime_config.h"
#include "storage/features/feature_store.h"
#include "storage/keyspace/keyspace.h"

namespace quiver {

// The tls-* settings as a context's options.
tls::Options TlsOptionsOf(const ServerOptions& options);

class Server {
 public:
  // key_log: where the RESP port's plain keys are kept (null: in memory
  // only). handler: what the native handler needs beyond the store
  // (durability, ingestion); its frame limit and version come from here.
  Server(const ServerOptions& options, FeatureStore& store, std::shared_ptr<KeyLog> key_log,
         NativeHandlerOptions handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // CONFIG SET maxclients beyond what the descriptor limit allows, with
  // this many kept for RocksDB's table files, is refused (as Redis does).
  // Call before Start.
  void LimitClients(int rocksdb_files);

  // Binds and listens. Fails with IoError naming the address if it cannot.
  Status Start();
  // The bound native port (useful with port 0), 0 if there is none. Valid
  // after Start().
  uint16_t port() const { return port_; }
  // The bound RESP port, 0 if there is none. Valid after Start().
  uint16_t resp_port() const { return resp_port_; }
  // The bound HTTP port, 0 if there is none. Valid after Start().
  uint16_t http_port() const { return http_port_; }
  // The bound TLS ports (RESP, native), 0 for none. Valid after Start().
  uint16_t tls_port() const { return tls_port_; }
  uint16_t tls_native_port() const { return tls_native_port_; }
  uint16_t tls_http_port() const { return tls_http_port_; }
  // Reads the TLS certificate, key and CA files again (SIGHUP): new
  // connections use them, those open keep theirs. Fails, keeping the old
  // ones, if they do not make a context.
  Status ReloadTls();
  KeySpace& keyspace() { return keyspace_; }
  // Serves on options.threads threads (the caller's included) until Stop().
  void Run();
  void Stop();

 private:
  static bool OutOfDescriptors(const boost::system::error_code& ec);
  // Counts a failed accept and logs it, at most once a second.
  void AcceptFailed(boost::asio::ip::tcp::acceptor& acceptor, const boost::system::error_code& ec);
  // Refuses a client at accept (maxclients): counts it and writes answer.
  void Refuse(boost::asio::ip::tcp::socket socket, std::string_view answer);
  // Whether protected mode refuses this client of a port bound as said.
  bool Protected(const boost::asio::ip::tcp::socket& socket, bool loopback_bind) const;
  // What a client refused at accept is told, per port.
  static std::string NativeAnswer(const Status& status);
  static std::string HttpAnswer(unsigned status, std::string_view message);
  std::string NativeClientsFull() const;
  std::string HttpClientsFull() const;
  // Opens a listening socket on an address and port.
  Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> Listen(const std::string& bind,
                                                                 uint16_t port);
  // Listens on an optional port (-1: none): every port but the native one.
  Status ListenOptional(const std::string& bind, int port, std::string_view what,
                        std::unique_ptr<boost::asio::ip::tcp::acceptor>* acceptor, uint16_t* bound);
  // Makes and starts a connection of each stream front end on an accepted
  // socket; over TLS with `tls`, if not null.
  void StartResp(boost::asio::ip::tcp::socket socket, std::shared_ptr<tls::Context> tls);
  void StartNative(boost::asio::ip::tcp::socket socket, std::shared_ptr<tls::Context> tls);
  // Whether a TLS port is configured; then the tls-* settings are checked
  // and applied when CONFIG SET changes them.
  bool UsesTls() const {
    return options_.tls_port >= 0 || options_.tls_native_port >= 0 || options_.tls_http_port >= 0;
  }
  void WatchTlsSettings();
  // Binds every port configured; then accepts on each.
  Status ListenAll();
  void AcceptAll();
  void StartHttp(boost::asio::ip::tcp::socket socket, std::shared_ptr<tls::Context> tls);
  // The recorder of the thread that serves the socket's context.
  RequestMetrics::Recorder& RecorderOf(boost::asio::ip::tcp::socket& socket);
  // Accepts connections on `acceptor` until it is closed, each served on
  // the next context; start(socket) makes and starts its connection.
  void AcceptLoop(boost::asio::ip::tcp::acceptor& acceptor,
                  std::function<void(boost::asio::ip::tcp::socket)> start);
  // The io_context the next connection is served on: the next in turn,
  // unless a script holds its thread (and there is another).
  boost::asio::io_context& NextContext();
  // The accepted socket, moved to NextContext(); none if that failed.
  std::optional<boost::asio::ip::tcp::socket> ToNextContext(boost::asio::ip::tcp::socket accepted);
  void SweepLoop();
  // With cluster_topic: joins the cluster (the changelog applies from here
  // on, and RESP writes are proposed to it).
  Status JoinCluster();

  ServerOptions options_;
  FeatureStore& store_;
  NativeHandlerOptions handler_options_;
  // Before the contexts: connections still queued in a context at
  // destruction refer to them.
  KeySpace keyspace_;
  RuntimeConfig config_;  // what CONFIG GET/SET read and change
  resp::Shared resp_shared_;
  RequestMetrics metrics_;
  FreshnessCache freshness_;  // every front end's freshness reports
  // Requests that may run long; stopped (its queued work, which may hold
  // connections, dropped) when Run returns, before the contexts go.
  std::unique_ptr<WorkPool> long_requests_;
  // The time series of /v1/series and the dashboard, sampled by a thread
  // of their own while Run runs.
  dashboard::Series series_;
  HttpApi http_api_;
  // A cluster member's changelog and what it applies records with; the
  // changelog stops when Run returns, before the contexts go.
  std::unique_ptr<cluster::RecordApplier> applier_;
  std::unique_ptr<cluster::Changelog> changelog_;
  ClientLimits limits_;  // every port's clients; their slots refer to it
  // One per I/O thread (--threads); with one I/O thread, one more: the
  // standby, which is given only the connections accepted while a script
  // holds the first (so that SCRIPT KILL always gets through).
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<ClientCron>> crons_;  // one per context, run by its thread
  // The acceptors' context, run by a thread of its own: a long request (a
  // script) on an I/O thread never stops connections from being accepted.
  std::unique_ptr<boost::asio::io_context> accept_context_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> resp_acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> http_acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tls_acceptor_;         // RESP over TLS
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tls_native_acceptor_;  // native over TLS
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tls_http_acceptor_;    // HTTPS
  tls::ServerContext tls_;                 // what TLS connections start with
  size_t next_context_ = 0;                // touched only by the accept thread
  int64_t accept_errors_ = 0;              // the accept thread only
  int64_t last_accept_log_ms_ = -1000000;  // the accept thread only
  bool bind_loopback_ = true;              // the native and RESP ports listen on loopback only
  bool http_bind_loopback_ = true;         // the HTTP port does
  uint16_t port_ = 0;
  uint16_t resp_port_ = 0;
  uint16_t http_port_ = 0;
  uint16_t tls_port_ = 0;
  uint16_t tls_native_port_ = 0;
  uint16_t tls_http_port_ = 0;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
};

}  // namespace quiver
