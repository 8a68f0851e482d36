#include "server/http/connection.h"

#include <algorithm>
#include <chrono>

#include <boost/asio/post.hpp>

#include "security/tls/tls_context.h"

namespace quiver {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
// The body of a request without the password, when one is set.
constexpr uint64_t kMaxBodyBeforeAuth = 16 * 1024;
}  // namespace

namespace {

// The stream over the socket: plain, or TLS with the context.
template <typename Stream>
Stream MakeStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    return Stream(std::move(socket));
  } else {
    return Stream(beast::tcp_stream(std::move(socket)), *tls);
  }
}

}  // namespace

template <typename Stream>
HttpConnectionOver<Stream>::HttpConnectionOver(boost::asio::ip::tcp::socket socket,
                                               ClientLimits::Slot slot, const HttpApi& api,
                                               RequestMetrics::Recorder& recorder,
                                               uint64_t body_limit,
                                               std::shared_ptr<boost::asio::ssl::context> tls)
    : tls_(std::move(tls)),
      stream_(MakeStream<Stream>(std::move(socket), tls_.get())),
      api_(api),
      recorder_(recorder),
      body_limit_(body_limit),
      slot_(std::move(slot)),
      memory_(slot_.limits() != nullptr ? slot_.limits()->budget() : nullptr,
              MemoryPart::kClients) {
  if (const ClientLimits* limits = slot_.limits())
    SetKeepAlive(tcp().socket(), limits->keepalive_s());
}

template <typename Stream>
void HttpConnectionOver<Stream>::Account() {
  size_t bytes = buffer_.capacity() + response_.body().capacity();
  if (parser_) bytes += parser_->get().body().capacity();
  memory_.Set(static_cast<int64_t>(bytes));
}

template <typename Stream>
void HttpConnectionOver<Stream>::Start() {
  if constexpr (!kTls) {
    Read();
  } else {
    tcp().expires_after(kIdleTimeout);
    stream_.async_handshake(boost::asio::ssl::stream_base::server,
                            [self = shared_from_this()](const beast::error_code& ec) {
                              if (ec) return self->Close();  // plain text, a wrong certificate, ...
                              self->certificate_name_ =
                                  tls::PeerCommonName(self->stream_.native_handle());
                              self->Read();
                            });
  }
}

template <typename Stream>
void HttpConnectionOver<Stream>::Close() {
  beast::error_code ignored;
  tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
}

template <typename Stream>
void HttpConnectionOver<Stream>::Read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(body_limit_);
  Account();
  tcp().expires_after(kIdleTimeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnHeader(ec); });
}

template <typename Stream>
void HttpConnectionOver<Stream>::OnHeader(const beast::error_code& ec) {
  if (ec) return OnRead(ec);
  Account();
  if (!api_.Authorized(Describe(parser_->get()))) {
    // The parser checked Content-Length against the limit with the
    // headers; a lower one now bounds chunked bodies, this the others.
    const uint64_t limit = std::min<uint64_t>(body_limit_, kMaxBodyBeforeAuth);
    if (parser_->content_length().value_or(0) > limit) return OnRead(http::error::body_limit);
    parser_->body_limit(limit);
  }
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnRead(ec); });
}

template <typename Stream>
void HttpConnectionOver<Stream>::OnRead(const beast::error_code& ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::ssl::error::stream_truncated) {
    return Close();
  }
  const int64_t start = MonotonicNs();
  if (ec) {  // a request quiver will not read: say why, then close
    const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit ||
                           ec == http::error::buffer_overflow;
    HttpReply reply =
        HttpError(too_large ? 413 : 400,
                  (too_large ? "request too large: " : "bad request: ") + ec.message());
    recorder_.Record(FrontEnd::kHttp, static_cast<size_t>(HttpKind::kOther), MonotonicNs() - start,
                     true);
    return Send(std::move(reply), false, 11);
  }
  WorkPool* pool = api_.long_requests();
  if (pool == nullptr || parser_->get().body().size() < HttpApi::kLongBody) return Answer(start);
  // A large body: answered on the pool while this thread serves others.
  // The connection reads nothing meanwhile.
  pool->Run([self = shared_from_this()] {
    HttpKind kind;
    const int64_t started = MonotonicNs();
    auto reply = std::make_shared<HttpReply>(self->Handle(&kind));
    const int64_t took = MonotonicNs() - started;
    boost::asio::post(self->stream_.get_executor(), [self, reply, kind, took] {
      self->recorder_.Record(FrontEnd::kHttp, static_cast<size_t>(kind), took,
                             reply->status >= 400);
      const Request& request = self->parser_->get();
      self->Send(std::move(*reply), request.keep_alive(), request.version());
    });
  });
}

template <typename Stream>
HttpRequest HttpConnectionOver<Stream>::Describe(const Request& request) const {
  return {.method = request.method_string(),
          .target = request.target(),
          .body = request.body(),
          .authorization = request[http::field::authorization],
          .cookie = request[http::field::cookie],
          .if_none_match = request[http::field::if_none_match],
          .from_page = request.find("X-Requested-With") != request.end(),
          .tls = kTls,
          .client_info = client_info_,
          .certificate_name = certificate_name_};
}

template <typename Stream>
HttpReply HttpConnectionOver<Stream>::Handle(HttpKind* kind) {
  const Request& request = parser_->get();
  if (client_info_.empty()) {
    boost::system::error_code ec;
    const auto peer = tcp().socket().remote_endpoint(ec);
    const auto local = tcp().socket().local_endpoint(ec);
    client_info_ =
        FeatureClientInfo(peer.address().to_string() + ":" + std::to_string(peer.port()),
                          local.address().to_string() + ":" + std::to_string(local.port()), "http");
  }
  return api_.Handle(Describe(request), kind);
}

template <typename Stream>
void HttpConnectionOver<Stream>::Answer(int64_t start) {
  HttpKind kind;
  HttpReply reply = Handle(&kind);
  recorder_.Record(FrontEnd::kHttp, static_cast<size_t>(kind), MonotonicNs() - start,
                   reply.status >= 400);
  const Request& request = parser_->get();
  Send(std::move(reply), request.keep_alive(), request.version());
}

template <typename Stream>
void HttpConnectionOver<Stream>::Send(HttpReply reply, bool keep_alive, unsigned version) {
  response_ = {};
  response_.version(version);
  response_.result(reply.status);
  response_.set(http::field::server, "quiverd");
  response_.set(http::field::content_type, reply.content_type);
  if (reply.challenge) response_.set(http::field::www_authenticate, "Basic realm=\"quiver\"");
  for (const auto& [name, value] : reply.headers)
    response_.set(name, value);
  response_.keep_alive(keep_alive);
  response_.body() = std::move(reply.body);
  response_.prepare_payload();
  parser_.reset();  // the request is answered
  Account();
  tcp().expires_after(kIdleTimeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this(), keep_alive](const beast::error_code& ec, size_t) {
                      self->response_ = {};  // sent
                      if (!ec && keep_alive) return self->Read();
                      self->Close();
                    });
}

template class HttpConnectionOver<beast::tcp_stream>;
template class HttpConnectionOver<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace quiver
