#include "storage/online/record.h"

#include <cstring>
#include <new>

namespace quiver {

// The header is part of every row's memory cost (docs/operations.md).
static_assert(sizeof(Record) == 56, "Record header size changed: update docs/operations.md");

Record* Record::Allocate(uint32_t view_id, std::string_view key, size_t value_size) {
  void* mem = std::malloc(AllocationSize(key.size(), value_size));
  if (mem == nullptr) return nullptr;
  auto* r = new (mem) Record;
  r->event_time_ms = 0;
  r->write_time_ms = 0;
  r->expire_at_ms = kNeverExpires;
  r->view_id = view_id;
  r->value_size = static_cast<uint32_t>(value_size);
  r->key_size = static_cast<uint16_t>(key.size());
  r->kind = RecordKind::kRow;
  r->flags = 0;
  if (!key.empty()) std::memcpy(r + 1, key.data(), key.size());
  return r;
}

void Record::Free(Record* r) {
  if (r->boxed()) r->box()->Unref();
  std::free(r);
}

}  // namespace quiver
