// HistoryStore::IngestSorted: a sorted run written as one table file and
// added to a column without the log or the memtable.
#include <cstdio>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include "storage/history/history_store.h"
#include "storage/history/rocks_internals.h"

namespace quiver {
namespace {

// Writes the run into `path`; the file is left for the caller to remove.
Status WriteTable(const rocksdb::Options& options, rocksdb::ColumnFamilyHandle* cf,
                  const std::string& path, size_t count,
                  FunctionRef<HistoryStore::Entry(size_t)> entry_at) {
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options, cf);
  QUIVER_RETURN_IF_ERROR(FromRocks(writer.Open(path), "creating " + path));
  for (size_t i = 0; i < count; ++i) {
    const HistoryStore::Entry e = entry_at(i);
    // SstFileWriter refuses a key that is not after the previous one.
    QUIVER_RETURN_IF_ERROR(FromRocks(writer.Put(e.key, e.value), "writing " + path));
  }
  return FromRocks(writer.Finish(), "finishing " + path);
}

}  // namespace

Status HistoryStore::IngestSorted(ColumnFamily c, size_t count,
                                  FunctionRef<Entry(size_t i)> entry_at) {
  if (count == 0) return Status::Ok();
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  rocksdb::ColumnFamilyHandle* cf = Handle(c);
  if (cf == nullptr) return Status::InvalidArgument("no column " + std::to_string(c.id));
  rocksdb::ColumnFamilyDescriptor descriptor;
  QUIVER_RETURN_IF_ERROR(FromRocks(cf->GetDescriptor(&descriptor), "reading a column's options"));
  const rocksdb::Options options(db->GetDBOptions(), descriptor.options);
  const std::string path = options_.dir + "/ingest-" +
                           std::to_string(ingested_files_.fetch_add(1, std::memory_order_relaxed)) +
                           ".sst";
  Status s = WriteTable(options, cf, path, count, entry_at);
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // a hard link: the file is not copied
    s = FromRocks(db->IngestExternalFile(cf, {path}, ingest), "adding " + path);
  }
  // Added, the column holds a link of its own; not added, it is dropped.
  std::remove(path.c_str());
  return s;
}

}  // namespace quiver
