// libFuzzer target: arbitrary bytes as a changelog record (a Kafka message
// of the cluster topic: anyone who can produce to the topic, or a damaged
// log, may put any bytes there). DecodeRecord and DecodeCommands must
// refuse them cleanly or decode them into a record that encodes back to
// the same bytes; they must never read past their input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/cluster/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quiver::cluster;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  RecordHeader header;
  std::string_view body;
  if (!DecodeRecord(input, &header, &body).ok()) return 0;
  std::string again;
  EncodeHeader(header, &again);
  Commands commands;
  if (header.kind != RecordKind::kCommands || !DecodeCommands(body, &commands).ok()) return 0;
  EncodeCommands(commands.proto, commands.transaction, commands.db, commands.commands, &again);
  // A varint may be written longer than needed: compare what it decodes to.
  RecordHeader header2;
  std::string_view body2;
  Commands commands2;
  if (!DecodeRecord(again, &header2, &body2).ok() || !DecodeCommands(body2, &commands2).ok() ||
      header2.origin != header.origin || header2.seq != header.seq ||
      header2.time_ms != header.time_ms || header2.write_id != header.write_id ||
      commands2.commands != commands.commands || commands2.db != commands.db ||
      commands2.proto != commands.proto || commands2.transaction != commands.transaction) {
    std::abort();
  }
  return 0;
}
