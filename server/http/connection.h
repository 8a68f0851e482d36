// HttpConnection: one client of the HTTP front end (Boost.Beast): reads
// requests one at a time (keep-alive), answers each through HttpApi, and
// records its time in the thread's RequestMetrics recorder. A request
// line, headers or body over the limits gets 413 (or 400 if malformed) and
// the connection is closed; an idle connection is closed after a minute.
// The headers are read first: a request without the password (when one is
// set) may carry a body of at most 16 KiB, and a body's memory grows with
// the bytes that arrive, whatever Content-Length says (RequestBody).
// Over TLS (HttpsConnection, on --tls-http-port) the handshake comes
// first, within the idle timeout. Lives as long as its asynchronous
// operations hold a shared_ptr to it; touched only by its io_context's
// thread.
#pragma once

#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "server/http/api.h"
#include "server/http/request_body.h"
#include "server/net/clients.h"
#include "service/request_metrics.h"

namespace quiver {

// Stream: boost::beast::tcp_stream, or an ssl_stream over one.
template <typename Stream>
class HttpConnectionOver : public std::enable_shared_from_this<HttpConnectionOver<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, boost::beast::tcp_stream>;
  // tls: the context (required over TLS, ignored otherwise).
  HttpConnectionOver(boost::asio::ip::tcp::socket socket, ClientLimits::Slot slot,
                     const HttpApi& api, RequestMetrics::Recorder& recorder, uint64_t body_limit,
                     std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  void Start();

 private:
  using std::enable_shared_from_this<HttpConnectionOver<Stream>>::shared_from_this;
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  void Close();
  using Request = boost::beast::http::request<RequestBody>;
  void Read();
  // The headers are in: sets the body's limit, then reads the body.
  void OnHeader(const boost::beast::error_code& ec);
  void OnRead(const boost::beast::error_code& ec);
  // Answers the request read, here (Answer) or on the pool of long
  // requests if its body is large.
  HttpReply Handle(HttpKind* kind);
  // What HttpApi needs of a request read (its fields view into it).
  HttpRequest Describe(const Request& request) const;
  void Answer(int64_t start);
  // Sends reply; closes afterwards unless keep_alive.
  void Send(HttpReply reply, bool keep_alive, unsigned version);
  // Charges the memory budget with the buffers, the request and the
  // response held now (at each step of a request: a body being read is
  // bounded by the body limit meanwhile).
  void Account();

  std::shared_ptr<boost::asio::ssl::context> tls_;  // kept while stream_ uses it
  Stream stream_;
  std::string client_info_;       // "addr=…", for ACL LOG
  std::string certificate_name_;  // over TLS: the CN of the client's verified certificate
  const HttpApi& api_;
  RequestMetrics::Recorder& recorder_;
  const uint64_t body_limit_;
  ClientLimits::Slot slot_;  // this client's place among maxclients
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<RequestBody>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  MemoryBudget::Share memory_;  // the budget's kClients
};

using HttpConnection = HttpConnectionOver<boost::beast::tcp_stream>;
using HttpsConnection = HttpConnectionOver<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

}  // namespace quiver
