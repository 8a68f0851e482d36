// FaultFs: a RocksDB FileSystem that fails on demand, over the real one.
// Tests hand it to HistoryStore (Options::file_system) and then make the
// disk fail as a full or broken one does: appends, syncs, or the creation
// of files (as when descriptors run out), until Heal().
//
// Threads: Fail and Heal may be called from any thread while RocksDB's
// threads use the files.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace quiver::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  enum Fault : unsigned {
    kAppend = 1 << 0,  // writes to files fail: no space left on device
    kSync = 1 << 1,    // fsyncs fail: an I/O error
    kCreate = 1 << 2,  // new files cannot be created: too many open files
  };

  FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "QuiverFaultFs"; }
  const char* Name() const override { return kClassName(); }

  // Fails the given operations from now on (adds to those failing).
  void Fail(unsigned faults) { faults_.fetch_or(faults); }
  // Makes every operation succeed again.
  void Heal() { faults_.store(0); }
  bool failing(Fault f) const { return (faults_.load() & f) != 0; }
  // How many operations failed since the start.
  uint64_t failures() const { return failures_.load(); }
  rocksdb::IOStatus Injected(Fault f) const;

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  // Wraps a file just opened (or reports the injected failure to create).
  rocksdb::IOStatus Wrap(rocksdb::IOStatus opened, std::unique_ptr<rocksdb::FSWritableFile>* file);

  std::atomic<unsigned> faults_{0};
  mutable std::atomic<uint64_t> failures_{0};
};

}  // namespace quiver::testing
