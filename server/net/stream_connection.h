// StreamConnection: the socket side that the native and RESP front ends
// share. One read at a time into the protocol's buffer; answers gathered in
// pending() and written in batches; reading paused while too much waits to
// be written (a client that pipelines without reading cannot make the
// server buffer without bound) or while the front end asks; closed once
// the answers given so far are written after set_closing(). Over TLS when
// UseTls gave it a context: the handshake comes first. Lives as long
// as its asynchronous operations hold a shared_ptr to it; touched only by
// its io_context's thread.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "server/net/clients.h"
#include "server/net/work_pool.h"

namespace quiver {

class StreamConnection : public std::enable_shared_from_this<StreamConnection> {
 public:
  // Reading pauses while this many bytes of answers wait to be written.
  static constexpr size_t kMaxPendingBytes = 32u << 20;

  // slot: this client's place among maxclients; its limits are the
  // connection's (timeout, output buffer).
  StreamConnection(boost::asio::ip::tcp::socket socket, std::string_view name,
                   ClientLimits::Slot slot);
  virtual ~StreamConnection() = default;
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Speak TLS with this context (a TLS port's): call before Start.
  void UseTls(std::shared_ptr<boost::asio::ssl::context> context);
  // A TLS handshake that has not ended after this long closes the
  // connection (a client that connects and says nothing holds no slot).
  static constexpr int64_t kHandshakeTimeoutMs = 10'000;

  // Sets TCP_NODELAY and keepalive, registers with this thread's
  // ClientCron, shakes hands if over TLS, calls Started(), and starts
  // reading.
  void Start();

  // Called once a second on the connection's thread: closes it if it was
  // idle past `timeout`, or past its output buffer's soft limit for long
  // enough. now_ms: MonotonicMs().
  void Tick(int64_t now_ms);

  // Answers not yet read by the client: waiting to be written, being
  // written, and held for commits.
  size_t OutputBytes() const { return pending_.size() + writing_.size() + HeldBytes(); }
  // Answers a connection keeps once written are given back above this.
  static constexpr size_t kShrinkAbove = 1u << 20;

 protected:
  // Space for the next read: the protocol reader's buffer.
  virtual std::span<char> ReadSpace() = 0;
  // n bytes arrived in ReadSpace(): decode and answer what is complete.
  virtual void Received(size_t n) = 0;
  virtual void Started() {}
  // The TLS handshake ended well (before Started): the peer's certificate,
  // if it showed one, is in `ssl`.
  virtual void Handshaken(const SSL* ssl) { (void)ssl; }
  // Reasons of the front end to stop reading for now (e.g. commits awaited).
  virtual bool ReadPaused() const { return false; }
  // Answers still to come (e.g. held for commits): do not close yet.
  virtual bool AnswersPending() const { return false; }
  // A batch of `bytes` was written.
  virtual void Written(size_t bytes) { (void)bytes; }
  // Bytes of answers the front end holds back (for commits).
  virtual size_t HeldBytes() const { return 0; }
  // Bytes of the front end's request buffer.
  virtual size_t ReadBufferBytes() const { return 0; }
  // Bytes of a transaction the client is building (MULTI, WATCH).
  virtual size_t TransactionBytes() const { return 0; }
  // Asked once a second (not while offloaded): the client may no longer
  // be served (its user was deleted, or lost a channel it listens to).
  virtual bool Revoked() { return false; }

  // Runs `work` on the pool (a request that may run long), with reading
  // paused, then `done` back on this connection's thread, followed by a
  // flush and a read. While offloaded(), the front end touches nothing
  // that `work` uses. Without a pool, both run here and now.
  void Offload(WorkPool* pool, std::function<void()> work, std::function<void()> done);
  // Pauses reading and processing, as Offload does, until the returned
  // function is called (once, from any thread) with what to run back on
  // this connection's thread, before the flush and the read: a request
  // answered elsewhere (a cluster write, once the changelog applied it).
  using Resume = std::function<void(std::function<void()> done)>;
  Resume Suspend();
  bool offloaded() const { return offloaded_; }

  // Starts a read unless one is running or reading is paused.
  void Read();
  // Hands pending() to the socket unless a write is running.
  void Flush();
  void Close();

  std::string& pending() { return pending_; }
  bool closing() const { return closing_; }
  // Close once the answers given so far (and AnswersPending()) are written.
  void set_closing() { closing_ = true; }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  void OnHandshake(const boost::system::error_code& ec);
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void OnWritten(const boost::system::error_code& ec);
  // Closes the connection if its unread answers are past the hard limit,
  // or past the soft one for its seconds; true if it did. now_ms:
  // MonotonicMs(), or -1 to read the clock only if needed.
  bool OverOutputLimit(int64_t now_ms = -1);
  // Charges the memory budget with what the connection holds now
  // (nothing once closed), after every read and write.
  void Account();

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // kept while tls_ uses it
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  int64_t handshake_since_ms_ = 0;  // the handshake runs since (MonotonicMs); 0: not
  std::string_view name_;           // for logs: "native", "resp"
  std::string pending_;             // answers not yet handed to the socket
  std::string writing_;             // answers being written
  ClientLimits::Slot slot_;
  uint64_t activity_ = 0;       // reads and writes so far
  uint64_t seen_activity_ = 0;  // activity_ as Tick last saw it
  int64_t idle_since_ms_ = 0;   // when Tick last saw activity (MonotonicMs)
  int64_t soft_since_ms_ = 0;   // since when the answers are past the soft limit; 0: not
  bool reading_ = false;
  bool writing_in_flight_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool offloaded_ = false;           // a request runs on the pool
  MemoryBudget::Share buffers_;      // the budget's kClients
  MemoryBudget::Share transaction_;  // its kTransactions
};

}  // namespace quiver
