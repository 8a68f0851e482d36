#include "storage/keyspace/flat_map.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include <xxhash.h>

namespace quiver {

FlatMap::~FlatMap() {
  slots_.ForEach([](Entry& e) { std::free(&e); });
}

uint64_t FlatMap::Hash(std::string_view key) {
  return Slots::Nonzero(XXH3_64bits(key.data(), key.size()));
}

size_t FlatMap::Cost(size_t key_size, size_t value_size) {
  // The entry, the allocator's header, and a slot at 3/4 load.
  return sizeof(Entry) + key_size + value_size + 16 + sizeof(Slots::Slot) * 4 / 3;
}

FlatMap::Slots::Slot* FlatMap::Locate(std::string_view key, uint64_t hash) const {
  return slots_.Locate(hash, [key](const Entry& e) { return e.key() == key; });
}

void FlatMap::Prefetch(std::string_view key) const {
  slots_.Prefetch(Hash(key));
}

std::optional<std::string_view> FlatMap::Find(std::string_view key) const {
  const Slots::Slot* s = Locate(key, Hash(key));
  return s == nullptr || s->entry == nullptr ? std::nullopt : std::optional(s->entry->value());
}

FlatMap::Entry* FlatMap::NewEntry(std::string_view key, std::string_view value) {
  auto* e = static_cast<Entry*>(std::malloc(sizeof(Entry) + key.size() + value.size()));
  if (e == nullptr) throw std::bad_alloc();
  e->key_size = static_cast<uint32_t>(key.size());
  e->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(e->data(), key.data(), key.size());
  if (!value.empty()) std::memcpy(e->data() + key.size(), value.data(), value.size());
  return e;
}

bool FlatMap::Set(std::string_view key, std::string_view value, size_t* old_size) {
  slots_.ReserveOne();
  const uint64_t hash = Hash(key);
  Slots::Slot* s = Locate(key, hash);
  if (s->entry == nullptr) {
    slots_.Fill(s, hash, NewEntry(key, value));
    return true;
  }
  *old_size = s->entry->value_size;
  const size_t room = malloc_usable_size(s->entry) - sizeof(Entry) - s->entry->key_size;
  if (value.size() <= room) {
    if (!value.empty())
      std::memmove(s->entry->data() + s->entry->key_size, value.data(), value.size());
    s->entry->value_size = static_cast<uint32_t>(value.size());
    return false;
  }
  Entry* bigger = NewEntry(key, value);
  std::free(s->entry);
  s->entry = bigger;
  return false;
}

bool FlatMap::Erase(std::string_view key, size_t* old_size) {
  Slots::Slot* s = Locate(key, Hash(key));
  if (s == nullptr || s->entry == nullptr) return false;
  *old_size = s->entry->value_size;
  std::free(s->entry);
  slots_.Erase(s);
  return true;
}

}  // namespace quiver
