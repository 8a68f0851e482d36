// Server: quiverd's network side. One Boost.Asio io_context per thread;
// the acceptor hands each new connection to the next context in turn, and
// the connection is served entirely on that context's thread. A background
// thread sweeps expired rows out of memory.
//
// Start() and port() from the owning thread; Run() blocks until Stop(),
// which any thread (or a signal handler via Asio) may call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/native_handler.h"
#include "server/options.h"
#include "storage/feature_store.h"

namespace quiver {

class Server {
 public:
  // handler: what the native handler needs beyond the store (durability,
  // ingestion); its frame limit and version come from here.
  Server(const ServerOptions& options, FeatureStore& store, NativeHandlerOptions handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Fails with IoError naming the address if it cannot.
  Status Start();
  // The bound native port (useful with port 0). Valid after Start().
  uint16_t port() const { return port_; }
  // Serves on options.threads threads (the caller's included) until Stop().
  void Run();
  void Stop();

 private:
  void Accept();
  void SweepLoop();

  ServerOptions options_;
  FeatureStore& store_;
  NativeHandlerOptions handler_options_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  size_t next_context_ = 0;  // touched only by contexts_[0]'s thread
  uint16_t port_ = 0;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
};

}  // namespace quiver
