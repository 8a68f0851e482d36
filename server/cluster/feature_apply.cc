#include "server/cluster/feature_apply.h"

#include <cstdint>

#include "server/cluster/feature_write.h"
#include "util/byte_codec.h"
#include "util/rcu.h"

namespace quiver::cluster {

namespace {

std::string ErrorReply(const Status& s) {
  std::string out = "-";
  Put<uint8_t>(&out, static_cast<uint8_t>(s.code()));
  out.append(s.message());
  return out;
}

// A failure of this member, not of the request: the record waits.
bool Local(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kIoError ||
         s.kind() == ErrorKind::kMisconf || s.kind() == ErrorKind::kOutOfMemory ||
         s.code() == StatusCode::kUnavailable;
}

Result<std::string> Answer(const Status& s, std::string ok) {
  if (s.ok()) return ok;
  if (Local(s)) return Status::Unavailable(s.message());
  return ErrorReply(s);
}

// Unavailable until the view the record names ("name@vN") is defined here.
Status Defined(const FeatureStore& store, std::string_view view) {
  rcu::ReadLock lock;
  if (store.registry().current().ResolveName(view).ok()) return Status::Ok();
  return Status::Unavailable("the record writes view " + std::string(view) +
                             ", not defined on this member yet (apply the same definitions to "
                             "every member)");
}

Result<std::string> ApplyPut(FeatureStore& store, std::string_view body, HistoryBatch* batch) {
  DecodedPut put;
  QUIVER_RETURN_IF_ERROR(DecodePut(body, &put));
  QUIVER_RETURN_IF_ERROR(Defined(store, put.request.view));
  Result<WriteResult> r = store.Write(put.request, batch);
  std::string ok = "+";
  if (r.ok()) {
    Put<uint32_t>(&ok, r->applied);
    Put<uint32_t>(&ok, r->stale);
  }
  return Answer(r.status(), std::move(ok));
}

Result<std::string> ApplyDelete(FeatureStore& store, std::string_view body, HistoryBatch* batch) {
  DecodedDelete del;
  QUIVER_RETURN_IF_ERROR(DecodeDelete(body, &del));
  QUIVER_RETURN_IF_ERROR(Defined(store, del.view));
  Result<uint32_t> r = store.Delete(del.view, del.key_parts, batch);
  std::string ok = "+";
  if (r.ok()) Put<uint32_t>(&ok, *r);
  return Answer(r.status(), std::move(ok));
}

void AppendNames(const std::vector<std::string>& names, std::string* out) {
  AppendVarint(names.size(), out);
  for (const std::string& n : names) {
    AppendVarint(n.size(), out);
    out->append(n);
  }
}

bool ReadNames(ByteReader& in, std::vector<std::string>* names) {
  uint64_t n = 0;
  if (!in.Varint(&n) || n > in.remaining()) return false;
  names->resize(static_cast<size_t>(n));
  for (std::string& name : *names) {
    std::string_view v;
    if (!in.Sized(&v)) return false;
    name.assign(v);
  }
  return true;
}

// Definitions apply to the whole member, whatever partition carried them.
Result<std::string> ApplyDefinitions(FeatureStore& store, std::string_view yaml) {
  Result<ApplyReport> r = store.Apply(yaml);
  std::string ok = "+";
  if (r.ok()) {
    AppendNames(r->created, &ok);
    AppendNames(r->updated, &ok);
    AppendNames(r->unchanged, &ok);
  }
  return Answer(r.status(), std::move(ok));
}

// The error a reply carries, or OK with the result's bytes in *rest
// (`size` of them, or any number if size is SIZE_MAX).
Status ReplyStatus(std::string_view reply, size_t size, std::string_view* rest) {
  if (!reply.empty() && reply[0] == '-' && reply.size() >= 2) {
    return Status(static_cast<StatusCode>(static_cast<uint8_t>(reply[1])),
                  std::string(reply.substr(2)));
  }
  if (reply.empty() || reply[0] != '+' || (size != SIZE_MAX && reply.size() != 1 + size)) {
    return Status::Internal("malformed reply of a changelog record");
  }
  *rest = reply.substr(1);
  return Status::Ok();
}

}  // namespace

Result<std::string> ApplyFeatureRecord(FeatureStore& store, RecordKind kind, std::string_view body,
                                       int64_t time_ms, HistoryBatch* batch) {
  FeatureStore::ReplayScope replay(store, time_ms);
  if (kind == RecordKind::kPut) return ApplyPut(store, body, batch);
  if (kind == RecordKind::kDelete) return ApplyDelete(store, body, batch);
  if (kind == RecordKind::kDefinitions) return ApplyDefinitions(store, body);
  return Status::InvalidArgument("not a feature record");
}

Result<WriteResult> PutReply(std::string_view reply) {
  std::string_view rest;
  QUIVER_RETURN_IF_ERROR(ReplyStatus(reply, 8, &rest));
  WriteResult r;
  ByteReader in(rest);
  in.Get(&r.applied);
  in.Get(&r.stale);
  return r;
}

Result<uint32_t> DeleteReply(std::string_view reply) {
  std::string_view rest;
  QUIVER_RETURN_IF_ERROR(ReplyStatus(reply, 4, &rest));
  uint32_t deleted = 0;
  ByteReader(rest).Get(&deleted);
  return deleted;
}

Result<ApplyReport> DefinitionsReply(std::string_view reply) {
  std::string_view rest;
  QUIVER_RETURN_IF_ERROR(ReplyStatus(reply, SIZE_MAX, &rest));
  ApplyReport report;
  ByteReader in(rest);
  if (!ReadNames(in, &report.created) || !ReadNames(in, &report.updated) ||
      !ReadNames(in, &report.unchanged) || !in.done()) {
    return Status::Internal("malformed reply of a changelog record");
  }
  return report;
}

}  // namespace quiver::cluster
