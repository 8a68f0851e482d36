// The changelog's records (docs/cluster.md#records). Each Kafka message of
// the cluster topic is one record: a header, then a body its kind defines.
//
//   u8 format (1) · u8 kind · u64 origin · u64 seq · i64 time_ms ·
//   varint-sized write id · body
//
// origin and seq name the proposal: the writing server's incarnation (a
// random number drawn at start) and its sequence number there, so that
// the writer recognises its own record when it applies it. time_ms is the
// writer's clock when it proposed: every replica applies the record as of
// that time (made monotonic per partition), so a relative TTL becomes the
// same absolute one everywhere and expiry is judged alike. write_id is the
// client's id of a write it may retry (empty if none).
//
// Bodies:
//   kCommands: u8 RESP version · u8 flags (1: a transaction) · varint db ·
//              varint count · per command: varint word count ·
//              varint-sized words
//   kTick:     empty; it only moves the partition's clock
//   kPut, kDelete: server/cluster/feature_write.h
//   kDefinitions: the document's text
//
// Decoding checks every length against the input: a corrupt record is an
// error, never a read past its end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver::cluster {

enum class RecordKind : uint8_t {
  kCommands = 1,     // RESP commands (below)
  kTick = 2,         // nothing: it only moves the partition's clock
  kPut = 3,          // feature rows (server/cluster/feature_write.h)
  kDelete = 4,       // feature rows' removal (server/cluster/feature_write.h)
  kDefinitions = 5,  // a definitions document (YAML), as ApplyDefinitions takes it
};
inline constexpr uint8_t kLastRecordKind = 5;

struct RecordHeader {
  RecordKind kind = RecordKind::kTick;
  uint64_t origin = 0;
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string_view write_id;
};

// The header's bytes; the caller appends the body.
void EncodeHeader(const RecordHeader& header, std::string* out);
// Splits a record into its header and body (views into `record`).
Status DecodeRecord(std::string_view record, RecordHeader* header, std::string_view* body);

// A kCommands body: RESP commands to run in one database, in order,
// atomically (one command, or the commands of a transaction, whose reply
// is the array of theirs).
struct Commands {
  int proto = 2;
  bool transaction = false;
  int db = 0;
  std::vector<std::vector<std::string_view>> commands;
};
// Limits a body must keep, so a corrupt length cannot make a decoder
// reserve memory it was not sent.
inline constexpr uint64_t kMaxDatabase = 1 << 16;

void EncodeCommands(int proto, bool transaction, int db,
                    std::span<const std::vector<std::string_view>> commands, std::string* out);
Status DecodeCommands(std::string_view body, Commands* out);

}  // namespace quiver::cluster
