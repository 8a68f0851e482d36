#include "storage/flat_map.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include <xxhash.h>

namespace quiver {

namespace {
constexpr size_t kMinSlots = 16;
}  // namespace

FlatMap::~FlatMap() {
  for (size_t i = 0; slots_ != nullptr && i <= mask_; ++i)
    std::free(slots_[i].entry);
  std::free(slots_);
}

uint64_t FlatMap::Hash(std::string_view key) {
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  return h == 0 ? 1 : h;
}

size_t FlatMap::Cost(size_t key_size, size_t value_size) {
  // The entry, the allocator's header, and a slot at 3/4 load.
  return sizeof(Entry) + key_size + value_size + 16 + sizeof(Slot) * 4 / 3;
}

size_t FlatMap::Locate(std::string_view key, uint64_t hash) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.hash == 0 || (s.hash == hash && s.entry->key() == key)) return i;
  }
}

void FlatMap::Prefetch(std::string_view key) const {
  if (slots_ != nullptr) __builtin_prefetch(&slots_[Hash(key) & mask_]);
}

std::optional<std::string_view> FlatMap::Find(std::string_view key) const {
  if (slots_ == nullptr) return std::nullopt;
  const Slot& s = slots_[Locate(key, Hash(key))];
  return s.entry == nullptr ? std::nullopt : std::optional(s.entry->value());
}

FlatMap::Entry* FlatMap::NewEntry(std::string_view key, std::string_view value) {
  auto* e = static_cast<Entry*>(std::malloc(sizeof(Entry) + key.size() + value.size()));
  if (e == nullptr) throw std::bad_alloc();
  e->key_size = static_cast<uint32_t>(key.size());
  e->value_size = e->capacity = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(e->data(), key.data(), key.size());
  if (!value.empty()) std::memcpy(e->data() + key.size(), value.data(), value.size());
  return e;
}

void FlatMap::Grow() {
  const size_t capacity = slots_ == nullptr ? kMinSlots : 2 * (mask_ + 1);
  auto* slots = static_cast<Slot*>(std::calloc(capacity, sizeof(Slot)));
  if (slots == nullptr) throw std::bad_alloc();
  const size_t mask = capacity - 1;
  for (size_t i = 0; i <= mask_ && slots_ != nullptr; ++i) {
    if (slots_[i].hash == 0) continue;
    size_t j = slots_[i].hash & mask;
    while (slots[j].hash != 0)
      j = (j + 1) & mask;
    slots[j] = slots_[i];
  }
  std::free(slots_);
  slots_ = slots;
  mask_ = mask;
}

bool FlatMap::Set(std::string_view key, std::string_view value, size_t* old_size) {
  if (slots_ == nullptr || (size_ + 1) * 4 > (mask_ + 1) * 3) Grow();
  const uint64_t hash = Hash(key);
  Slot& s = slots_[Locate(key, hash)];
  if (s.entry == nullptr) {
    s.entry = NewEntry(key, value);
    s.hash = hash;
    ++size_;
    return true;
  }
  *old_size = s.entry->value_size;
  if (value.size() <= s.entry->capacity) {
    if (!value.empty())
      std::memmove(s.entry->data() + s.entry->key_size, value.data(), value.size());
    s.entry->value_size = static_cast<uint32_t>(value.size());
    return false;
  }
  Entry* bigger = NewEntry(key, value);
  std::free(s.entry);
  s.entry = bigger;
  return false;
}

bool FlatMap::Erase(std::string_view key, size_t* old_size) {
  if (slots_ == nullptr) return false;
  size_t i = Locate(key, Hash(key));
  if (slots_[i].entry == nullptr) return false;
  *old_size = slots_[i].entry->value_size;
  std::free(slots_[i].entry);
  // Backward shift: an entry after the hole moves into it unless the hole
  // lies before the entry's home slot on its probe path.
  for (size_t j = (i + 1) & mask_; slots_[j].hash != 0; j = (j + 1) & mask_) {
    const size_t home = slots_[j].hash & mask_;
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{0, nullptr};
  --size_;
  return true;
}

}  // namespace quiver
