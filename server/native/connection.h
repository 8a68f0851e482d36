// NativeConnection: one client connection of the native protocol. Reads
// frames and answers each in order (many requests may be in flight:
// pipelining); the socket side is StreamConnection's.
//
// Writes are applied online at once; their history goes to the group
// commit. Under durability async or sync, the answer to a write waits until
// its history is committed, and the answers after it wait behind it, so a
// client sees answers in the order it asked.
#pragma once

#include <memory>
#include <string>

#include <flatbuffers/flatbuffers.h>

#include "protocol/frame.h"
#include "server/native/handler.h"
#include "server/net/held_answers.h"
#include "server/net/stream_connection.h"
#include "service/request_metrics.h"

namespace quiver {

class NativeConnection : public StreamConnection {
 public:
  NativeConnection(boost::asio::ip::tcp::socket socket, ClientLimits::Slot slot,
                   FeatureStore& store, const NativeHandlerOptions& options,
                   RequestMetrics::Recorder& recorder);

 private:
  std::span<char> ReadSpace() override;
  void Received(size_t n) override;
  bool ReadPaused() const override;
  bool AnswersPending() const override { return !held_.empty(); }
  size_t HeldBytes() const override { return held_.bytes(); }
  size_t ReadBufferBytes() const override { return reader_.capacity(); }
  void Handshaken(const SSL* ssl) override;

  void ProcessFrames();
  // Handles one frame; false if its answer comes later (a long request, a
  // cluster write, a read waiting for positions), which then goes on with
  // the frames after it. may_wait: a read may wait for its positions.
  bool Serve(std::span<const uint8_t> frame, bool may_wait);
  // Serves a request once this member has applied its positions, or
  // answers the wait's error.
  void WaitFor(std::span<const uint8_t> frame, NativeHandler::ReadAfter after);
  // Runs a request that may be long on the pool (NativeHandler::IsLong),
  // then answers it and goes on with the frames after it.
  void RunLong(std::span<const uint8_t> frame);
  // Proposes the handler's records to the changelog; once all are applied
  // (or failed), the answer is built and the frames after go on.
  void Propose(int64_t start_ns);
  // Queues the answer just built (and commits the writes it made).
  void Answer();
  // submitted_ns: when the write was submitted (for commit wait).
  void OnCommitted(const Status& status, int64_t submitted_ns);

  FeatureStore& store_;
  const uint32_t max_frame_;  // --max-frame, once authenticated
  protocol::FrameReader reader_;
  NativeHandler handler_;
  RequestMetrics::Recorder& recorder_;
  flatbuffers::FlatBufferBuilder builder_;
  HeldAnswers held_;               // answers waiting for commits
  WorkPool* pool_;                 // for long requests; null: run here
  cluster::Changelog* changelog_;  // a cluster member's; null: a single server
};

}  // namespace quiver
