#include "server/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "server/native_connection.h"
#include "server/version.h"
#include "storage/rcu.h"

namespace quiver {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Server::Server(const ServerOptions& options, FeatureStore& store, NativeHandlerOptions handler)
    : options_(options), store_(store), handler_options_(std::move(handler)) {
  handler_options_.max_frame_bytes = options.max_frame;
  handler_options_.server_version = kQuiverVersion;
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    // Hint 1: each context is run by exactly one thread.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
  }
}

Server::~Server() = default;

Status Server::Start() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.bind, ec);
  if (ec) return Status::InvalidArgument("bad --bind address '" + options_.bind + "'");
  tcp::endpoint endpoint(address, options_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("cannot listen on " + options_.bind + ":" +
                           std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  Accept();
  return Status::Ok();
}

void Server::Accept() {
  asio::io_context& target = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_->async_accept(target, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      auto executor = socket.get_executor();
      auto connection =
          std::make_shared<NativeConnection>(std::move(socket), store_, handler_options_);
      // Start on the connection's own thread.
      asio::post(executor, [connection] { connection->Start(); });
    }
    Accept();
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
    const size_t swept = store_.table().SweepExpired(store_.NowMs());
    if (swept > 0) spdlog::debug("swept {} expired rows", swept);
    lock.lock();
  }
}

}  // namespace quiver
