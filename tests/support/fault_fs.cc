#include "support/fault_fs.h"

#include <utility>

namespace quiver::testing {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A writable file whose appends and syncs fail while its FaultFs says so.
class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> file, const FaultFs& fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kAppend)) return fs_.Injected(FaultFs::kAppend);
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo& v,
                  IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kAppend)) return fs_.Injected(FaultFs::kAppend);
    return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kAppend)) return fs_.Injected(FaultFs::kAppend);
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kSync)) return fs_.Injected(FaultFs::kSync);
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kSync)) return fs_.Injected(FaultFs::kSync);
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t n, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (fs_.failing(FaultFs::kSync)) return fs_.Injected(FaultFs::kSync);
    return FSWritableFileOwnerWrapper::RangeSync(offset, n, o, dbg);
  }

 private:
  const FaultFs& fs_;
};

}  // namespace

IOStatus FaultFs::Injected(Fault f) const {
  failures_.fetch_add(1);
  switch (f) {
    case kAppend:
      return IOStatus::NoSpace("injected: No space left on device");
    case kSync:
      return IOStatus::IOError("injected: fsync: Input/output error");
    case kCreate:
      return IOStatus::IOError("injected: Too many open files");
  }
  return IOStatus::IOError("injected");
}

IOStatus FaultFs::Wrap(IOStatus opened, std::unique_ptr<rocksdb::FSWritableFile>* file) {
  if (!opened.ok()) return opened;
  *file = std::make_unique<FaultFile>(std::move(*file), *this);
  return opened;
}

IOStatus FaultFs::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                  std::unique_ptr<rocksdb::FSWritableFile>* file,
                                  IODebugContext* dbg) {
  if (failing(kCreate)) return Injected(kCreate);
  return Wrap(target()->NewWritableFile(name, options, file, dbg), file);
}

IOStatus FaultFs::ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                     std::unique_ptr<rocksdb::FSWritableFile>* file,
                                     IODebugContext* dbg) {
  if (failing(kCreate)) return Injected(kCreate);
  return Wrap(target()->ReopenWritableFile(name, options, file, dbg), file);
}

IOStatus FaultFs::ReuseWritableFile(const std::string& name, const std::string& old_name,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    IODebugContext* dbg) {
  if (failing(kCreate)) return Injected(kCreate);
  return Wrap(target()->ReuseWritableFile(name, old_name, options, file, dbg), file);
}

}  // namespace quiver::testing
