#include "server/native/connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "security/tls/tls_context.h"
#include "service/feature_acl.h"

namespace quiver {

namespace {
// Stop reading while this many writes of one connection await their commit.
constexpr size_t kMaxAwaiting = 1024;

std::string_view Bytes(const flatbuffers::FlatBufferBuilder& b) {
  return {reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()};
}
}  // namespace

NativeConnection::NativeConnection(boost::asio::ip::tcp::socket socket, ClientLimits::Slot slot,
                                   FeatureStore& store, const NativeHandlerOptions& options,
                                   RequestMetrics::Recorder& recorder)
    : StreamConnection(std::move(socket), "native", std::move(slot)),
      store_(store),
      max_frame_(static_cast<uint32_t>(options.max_frame_bytes)),
      reader_(max_frame_),
      handler_(store, options),
      recorder_(recorder),
      builder_(64 * 1024),
      pool_(options.long_requests),
      changelog_(options.changelog) {
  boost::system::error_code ec;
  const auto peer = this->socket().remote_endpoint(ec);
  const auto local = this->socket().local_endpoint(ec);
  handler_.set_client_info(FeatureClientInfo(
      peer.address().to_string() + ":" + std::to_string(peer.port()),
      local.address().to_string() + ":" + std::to_string(local.port()), "native"));
}

void NativeConnection::Handshaken(const SSL* ssl) {
  handler_.CertificateNames(tls::PeerCommonName(ssl));
}

std::span<char> NativeConnection::ReadSpace() {
  std::span<uint8_t> space = reader_.WritableSpace();
  return {reinterpret_cast<char*>(space.data()), space.size()};
}

void NativeConnection::Received(size_t n) {
  reader_.Commit(n);
  ProcessFrames();
}

bool NativeConnection::ReadPaused() const {
  return held_.awaiting() >= kMaxAwaiting;
}

void NativeConnection::ProcessFrames() {
  while (!closing() && !offloaded()) {
    if (handler_.authenticated()) {
      reader_.set_max_frame(max_frame_, "--max-frame");
    } else {
      reader_.set_max_frame(NativeHandler::kUnauthenticatedMaxFrame,
                            "before authentication: send Hello with the password first");
    }
    Result<std::span<const uint8_t>> frame = reader_.Next();
    if (!frame.ok()) {
      spdlog::warn("closing native connection: {}", frame.status().message());
      protocol::BuildErrorResponse(&builder_, 0, frame.status());
      set_closing();
      Answer();
    } else if (frame->empty() || !Serve(*frame, /*may_wait=*/true)) {
      return;
    }
  }
}

bool NativeConnection::Serve(std::span<const uint8_t> frame, bool may_wait) {
  const int64_t start = MonotonicNs();
  bool defer = false;
  NativeHandler::ReadAfter after;
  const bool well_formed =
      handler_.Handle(frame, &builder_, pool_ ? &defer : nullptr, may_wait ? &after : nullptr);
  if (!after.positions.empty()) {
    WaitFor(frame, std::move(after));
    return false;
  }
  if (defer) {
    RunLong(frame);
    return false;
  }
  if (!handler_.proposals().empty()) {
    Propose(start);
    return false;
  }
  recorder_.Record(FrontEnd::kNative, handler_.last_kind(), MonotonicNs() - start,
                   !handler_.last_ok());
  if (!well_formed) {
    spdlog::warn("closing native connection: malformed frame");
    set_closing();
  }
  Answer();
  return true;
}

void NativeConnection::WaitFor(std::span<const uint8_t> frame, NativeHandler::ReadAfter after) {
  // Reading stops until the request is served, so the frame stays in the
  // reader's buffer.
  Resume resume = Suspend();
  changelog_->WhenApplied(std::move(after.positions), after.timeout_ms,
                          [this, frame, resume](const Status& s) {
                            resume([this, frame, s] {
                              if (s.ok()) {
                                if (!Serve(frame, /*may_wait=*/false)) return;
                              } else {
                                handler_.AnswerError(s, &builder_);
                                Answer();
                              }
                              ProcessFrames();  // the requests that came after it
                            });
                          });
}

void NativeConnection::RunLong(std::span<const uint8_t> frame) {
  // Reading stops until the answer is back, so the frame stays in the
  // reader's buffer, and only the pool touches the handler and builder.
  auto took = std::make_shared<int64_t>();
  Offload(
      pool_,
      [this, frame, took] {
        const int64_t start = MonotonicNs();
        handler_.Handle(frame, &builder_);
        *took = MonotonicNs() - start;
      },
      [this, took] {
        recorder_.Record(FrontEnd::kNative, handler_.last_kind(), *took, !handler_.last_ok());
        Answer();
        ProcessFrames();  // the requests that came after it
      });
}

void NativeConnection::Propose(int64_t start_ns) {
  const std::vector<NativeHandler::Proposal>& proposals = handler_.proposals();
  std::vector<cluster::Proposed> records;
  for (const NativeHandler::Proposal& p : proposals)
    records.push_back({p.partition, p.body});
  changelog_->ProposeAll(
      records, proposals[0].kind, handler_.write_id(),
      [this, start_ns, resume = Suspend()](std::vector<Result<cluster::Applied>> applied) {
        resume([this, start_ns, applied = std::move(applied)] {
          handler_.FinishProposed(applied, &builder_);
          recorder_.Record(FrontEnd::kNative, handler_.last_kind(), MonotonicNs() - start_ns,
                           !handler_.last_ok());
          Answer();
          ProcessFrames();  // the requests that came after it
        });
      });
}

void NativeConnection::Answer() {
  HistoryBatch& writes = handler_.writes();
  bool awaits = false;
  if (!writes.empty()) {
    HistoryBatch batch = std::move(writes);
    writes.Clear();
    auto self = std::static_pointer_cast<NativeConnection>(shared_from_this());
    awaits = store_.Commit(std::move(batch), [self, submitted = MonotonicNs()](const Status& s) {
      // On the committer thread: hand the outcome to the connection's own.
      boost::asio::post(self->socket().get_executor(),
                        [self, s, submitted] { self->OnCommitted(s, submitted); });
    });
  }
  if (!awaits && held_.empty()) {
    pending().append(Bytes(builder_));
    return;
  }
  held_.Hold(std::string(Bytes(builder_)), handler_.last_id(), awaits);
}

void NativeConnection::OnCommitted(const Status& status, int64_t submitted_ns) {
  recorder_.RecordCommitWait(FrontEnd::kNative, MonotonicNs() - submitted_ns);
  HeldAnswers::Answer* answer = held_.Committed();
  if (answer != nullptr && !status.ok()) {
    // Not builder_, which a request on the pool may be using.
    flatbuffers::FlatBufferBuilder b;
    protocol::BuildErrorResponse(&b, answer->id, status);
    held_.Replace(answer, Bytes(b));
  }
  held_.Release(&pending());
  Flush();
  Read();  // resumes reading if too many commits had paused it
}

}  // namespace quiver
