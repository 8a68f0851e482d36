// HistoryStore's recovery from a failed write, fsync or background flush,
// called by the commit queue every retry interval until it succeeds.
#include <chrono>

#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <spdlog/spdlog.h>

#include "storage/history/history_store.h"
#include "storage/history/rocks_internals.h"

namespace quiver {

namespace {

constexpr char kProbeFile[] = "quiver-probe.tmp";

}  // namespace

Status HistoryStore::Recover() {
  const Status s = TryRecover();
  // The first failed attempt is logged, then one a minute.
  const auto now = std::chrono::steady_clock::now();
  if (s.ok()) {
    recoveries_.fetch_add(1, std::memory_order_relaxed);
    failing_since_.reset();
    spdlog::info("the history takes writes again");
  } else if (!failing_since_ || now - last_logged_ >= std::chrono::minutes(1)) {
    if (!failing_since_) failing_since_ = now;
    last_logged_ = now;
    spdlog::error("writes are refused: {}; retrying every {} ms", s.message(),
                  options_.retry_every.count());
  }
  return s;
}

Status HistoryStore::TryRecover() {
  if (db_ != nullptr) {
    // RocksDB resumes from what it can: a full disk (a hard error) once
    // there is room again.
    const rocksdb::Status resumed = db_->Resume();
    if (resumed.ok()) return Status::Ok();
    // A hard error that is still there: try again later.
    if (resumed.severity() < rocksdb::Status::Severity::kFatalError) {
      return Status::IoError("writing the history: " + resumed.ToString());
    }
  }
  // A failed fsync or file creation is fatal to this database object
  // (RocksDB cannot tell what reached the disk): reopen it, which replays
  // the log, once the directory takes a file again.
  QUIVER_RETURN_IF_ERROR(Probe());
  QUIVER_RETURN_IF_ERROR(Reopen());
  spdlog::info("the history was reopened after a failure it could not resume from");
  return Status::Ok();
}

Status HistoryStore::Probe() const {
  rocksdb::FileSystem* fs =
      options_.file_system ? options_.file_system.get() : rocksdb::FileSystem::Default().get();
  const std::string path = options_.dir + "/" + kProbeFile;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  const rocksdb::IOOptions io;
  QUIVER_RETURN_IF_ERROR(FromRocks(
      fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr), "creating " + path));
  const std::string page(4096, '\0');
  rocksdb::IOStatus s = file->Append(page, io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (s.ok()) s = file->Close(io, nullptr);
  file.reset();
  (void)fs->DeleteFile(path, io, nullptr);
  return FromRocks(s, "writing " + path);
}

Status HistoryStore::Reopen() {
  // A manual compaction holds the database (Use()): it returns early.
  if (db_ != nullptr) db_->DisableManualCompaction();
  std::unique_lock<std::shared_mutex> exclusive(db_mu_);
  std::lock_guard<std::mutex> columns(columns_mu_);
  if (db_ != nullptr) {
    for (auto& h : handles_) {
      if (auto* p = h.exchange(nullptr)) db_->DestroyColumnFamilyHandle(p);
    }
    const rocksdb::Status closed = db_->Close();  // reports the error it stopped on
    if (!closed.ok()) spdlog::debug("closing the failed history: {}", closed.ToString());
    delete db_;
    db_ = nullptr;
  }
  return OpenColumns(column_names_);
}

}  // namespace quiver
