#include "server/cluster/record.h"

#include "util/byte_codec.h"

namespace quiver::cluster {

namespace {

constexpr uint8_t kFormat = 1;

void AppendSized(std::string_view bytes, std::string* out) {
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

Status Corrupt(std::string_view what) {
  return Status::InvalidArgument("corrupt changelog record: " + std::string(what));
}

}  // namespace

void EncodeHeader(const RecordHeader& header, std::string* out) {
  Put<uint8_t>(out, kFormat);
  Put<uint8_t>(out, static_cast<uint8_t>(header.kind));
  Put<uint64_t>(out, header.origin);
  Put<uint64_t>(out, header.seq);
  Put<int64_t>(out, header.time_ms);
  AppendSized(header.write_id, out);
}

Status DecodeRecord(std::string_view record, RecordHeader* header, std::string_view* body) {
  ByteReader in(record);
  uint8_t format = 0, kind = 0;
  if (!in.Get(&format) || !in.Get(&kind)) return Corrupt("shorter than its header");
  if (format != kFormat) return Corrupt("unknown format " + std::to_string(format));
  if (kind == 0 || kind > kLastRecordKind) return Corrupt("unknown kind " + std::to_string(kind));
  header->kind = static_cast<RecordKind>(kind);
  if (!in.Get(&header->origin) || !in.Get(&header->seq) || !in.Get(&header->time_ms) ||
      !in.Sized(&header->write_id)) {
    return Corrupt("shorter than its header");
  }
  *body = in.rest();
  return Status::Ok();
}

void EncodeCommands(int proto, bool transaction, int db,
                    std::span<const std::vector<std::string_view>> commands, std::string* out) {
  Put<uint8_t>(out, static_cast<uint8_t>(proto));
  Put<uint8_t>(out, transaction ? 1 : 0);
  AppendVarint(static_cast<size_t>(db), out);
  AppendVarint(commands.size(), out);
  for (const auto& words : commands) {
    AppendVarint(words.size(), out);
    for (std::string_view w : words)
      AppendSized(w, out);
  }
}

Status DecodeCommands(std::string_view body, Commands* out) {
  ByteReader in(body);
  uint8_t proto = 0, flags = 0;
  uint64_t db = 0, count = 0;
  if (!in.Get(&proto) || !in.Get(&flags) || !in.Varint(&db) || !in.Varint(&count)) {
    return Corrupt("short commands");
  }
  if (proto != 2 && proto != 3) return Corrupt("RESP version " + std::to_string(proto));
  if (flags > 1) return Corrupt("flags " + std::to_string(flags));
  if (db >= kMaxDatabase) return Corrupt("database " + std::to_string(db));
  // Every command takes at least one byte: a count beyond the bytes left lies.
  if (count == 0 || count > in.remaining()) return Corrupt("command count");
  out->proto = proto;
  out->transaction = flags == 1;
  out->db = static_cast<int>(db);
  out->commands.clear();
  out->commands.resize(static_cast<size_t>(count));
  for (auto& words : out->commands) {
    uint64_t n = 0;
    if (!in.Varint(&n) || n == 0 || n > in.remaining()) return Corrupt("word count");
    words.resize(static_cast<size_t>(n));
    for (std::string_view& w : words) {
      if (!in.Sized(&w)) return Corrupt("word past the record's end");
    }
  }
  if (!in.done()) return Corrupt("bytes after the last command");
  return Status::Ok();
}

}  // namespace quiver::cluster
