#include "server/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "server/native_connection.h"
#include "server/resp_connection.h"
#include "server/version.h"
#include "storage/rcu.h"

namespace quiver {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Server::Server(const ServerOptions& options, FeatureStore& store, NativeHandlerOptions handler)
    : options_(options),
      store_(store),
      handler_options_(std::move(handler)),
      keyspace_(store.table(),
                {.databases = options.databases,
                 .now_ms = [&store] { return store.NowMs(); },
                 .log = store.history() != nullptr ? std::make_shared<KeyLog>(*store.history())
                                                   : nullptr}),
      resp_shared_({.requirepass = options.requirepass,
                    .databases = options.databases,
                    .bind = options.bind,
                    .threads = options.threads,
                    .version = std::string(kQuiverVersion),
                    .max_memory = options.max_memory}) {
  handler_options_.max_frame_bytes = options.max_frame;
  handler_options_.server_version = kQuiverVersion;
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    // Hint 1: each context is run by exactly one thread.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
  }
}

Server::~Server() = default;

Result<std::unique_ptr<tcp::acceptor>> Server::Listen(uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.bind, ec);
  if (ec) return Status::InvalidArgument("bad --bind address '" + options_.bind + "'");
  tcp::endpoint endpoint(address, port);
  auto acceptor = std::make_unique<tcp::acceptor>(*contexts_[0]);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("cannot listen on " + options_.bind + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  return acceptor;
}

Status Server::Start() {
  QUIVER_RETURN_IF_ERROR(keyspace_.Recover());
  QUIVER_ASSIGN_OR_RETURN(acceptor_, Listen(options_.port));
  port_ = acceptor_->local_endpoint().port();
  if (options_.resp_port >= 0) {
    Result<std::unique_ptr<tcp::acceptor>> resp = Listen(static_cast<uint16_t>(options_.resp_port));
    if (!resp.ok()) {
      return Status::IoError(
          resp.status().message() +
          " (the RESP port: choose another with --resp-port, or --resp-port off)");
    }
    resp_acceptor_ = std::move(*resp);
    resp_port_ = resp_acceptor_->local_endpoint().port();
    resp_shared_.options.port = resp_port_;
    AcceptLoop(*resp_acceptor_, [this](tcp::socket socket) {
      auto executor = socket.get_executor();
      auto c = std::make_shared<RespConnection>(std::move(socket), keyspace_, store_, resp_shared_);
      asio::post(executor, [c] { c->Start(); });  // on the connection's own thread
    });
  }
  AcceptLoop(*acceptor_, [this](tcp::socket socket) {
    auto executor = socket.get_executor();
    auto c = std::make_shared<NativeConnection>(std::move(socket), store_, handler_options_);
    asio::post(executor, [c] { c->Start(); });
  });
  return Status::Ok();
}

asio::io_context& Server::NextContext() {
  asio::io_context& target = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  return target;
}

void Server::AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> start) {
  acceptor.async_accept(NextContext(),
                        [this, &acceptor, start = std::move(start)](
                            const boost::system::error_code& ec, tcp::socket socket) mutable {
                          if (ec == asio::error::operation_aborted) return;
                          if (ec) {
                            boost::system::error_code ignored;
                            spdlog::warn("accept failed on port {}: {}",
                                         acceptor.local_endpoint(ignored).port(), ec.message());
                          } else {
                            start(std::move(socket));
                          }
                          AcceptLoop(acceptor, std::move(start));
                        });
}

void Server::Run() {
  std::vector<std::thread> threads;
  auto run = [](asio::io_context& context) {
    rcu::ThreadRegistration registration;
    auto guard = asio::make_work_guard(context);
    context.run();
  };
  for (size_t i = 1; i < contexts_.size(); ++i)
    threads.emplace_back(run, std::ref(*contexts_[i]));
  std::thread sweeper([this] { SweepLoop(); });
  run(*contexts_[0]);
  for (auto& t : threads)
    t.join();
  sweeper.join();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  asio::post(*contexts_[0], [this] {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    if (resp_acceptor_) resp_acceptor_->close(ignored);
  });
  for (auto& context : contexts_)
    context->stop();
}

void Server::SweepLoop() {
  rcu::ThreadRegistration registration;
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.sweep_interval_ms),
                            [this] { return stopping_; })) {
    lock.unlock();
    const size_t swept = store_.table().SweepExpired(
        store_.NowMs(), [this](const Record& r) { keyspace_.Swept(r); });
    if (swept > 0) spdlog::debug("swept {} expired rows", swept);
    lock.lock();
  }
}

}  // namespace quiver
