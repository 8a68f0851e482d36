// HashSlots: the slot array of an open-addressed hash table whose entries
// live elsewhere (one allocation each, owned by the user). Each 16-byte slot
// holds an entry's 64-bit hash (never 0: 0 marks an empty slot) and a
// pointer to it; probing is linear, deletion shifts the following slots
// back (no tombstones), and growth moves slots only, reusing the stored
// hashes. A lookup touches one slot line and, when the hash matches, one
// entry, where std::unordered_map touches a bucket, a node and the key's
// own heap block.
//
// FlatMap (large RESP hashes) and the Ingestor's window states use it.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace quiver {

template <typename Entry>
class HashSlots {
 public:
  struct Slot {
    uint64_t hash;  // 0: empty
    Entry* entry;
  };

  HashSlots() = default;
  ~HashSlots() { std::free(slots_); }
  HashSlots(const HashSlots&) = delete;
  HashSlots& operator=(const HashSlots&) = delete;

  size_t size() const { return size_; }
  size_t slot_bytes() const { return slots_ == nullptr ? 0 : (mask_ + 1) * sizeof(Slot); }

  // A hash as the slots keep it: never 0.
  static uint64_t Nonzero(uint64_t hash) { return hash == 0 ? 1 : hash; }

  // The slot holding the entry with this hash for which eq(entry) is true,
  // or the empty slot where it would go; nullptr before the first ReserveOne.
  template <typename Eq>
  Slot* Locate(uint64_t hash, Eq&& eq) const {
    if (slots_ == nullptr) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0 || (s.hash == hash && eq(*s.entry))) return &s;
    }
  }

  // Makes room for one more entry: call before Locate when inserting.
  // Throws std::bad_alloc as the standard containers do.
  void ReserveOne() {
    if (slots_ == nullptr || (size_ + 1) * 4 > (mask_ + 1) * 3) Grow();
  }

  // Fills the empty slot Locate returned.
  void Fill(Slot* s, uint64_t hash, Entry* entry) {
    s->hash = hash;
    s->entry = entry;
    ++size_;
  }

  // Empties the slot Locate returned (the caller frees its entry).
  void Erase(Slot* s) {
    size_t i = static_cast<size_t>(s - slots_);
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
  }

  // Starts fetching the slot a lookup of this hash reads first.
  void Prefetch(uint64_t hash) const {
    if (slots_ != nullptr) __builtin_prefetch(&slots_[hash & mask_]);
  }

  // Starts fetching the entry in this hash's home slot, if its hash
  // matches: the second step of a lookup, once Prefetch has fetched the slot.
  void PrefetchEntry(uint64_t hash) const {
    if (slots_ == nullptr) return;
    const Slot& s = slots_[hash & mask_];
    if (s.hash == hash) __builtin_prefetch(s.entry);
  }

  // The first entry at or after slot r (modulo the capacity): given a
  // random r, a random entry, as fair as the slots' clustering allows
  // (Redis's dictGetRandomKey has the same bias). REQUIRES: size() > 0.
  const Entry& Near(uint64_t r) const {
    for (size_t i = r & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].hash != 0) return *slots_[i].entry;
    }
  }

  // Calls fn(entry) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; slots_ != nullptr && i <= mask_; ++i) {
      if (slots_[i].hash != 0) fn(*slots_[i].entry);
    }
  }

 private:
  void Grow() {
    constexpr size_t kMinSlots = 16;
    const size_t capacity = slots_ == nullptr ? kMinSlots : 2 * (mask_ + 1);
    auto* slots = static_cast<Slot*>(std::calloc(capacity, sizeof(Slot)));
    if (slots == nullptr) throw std::bad_alloc();
    const size_t mask = capacity - 1;
    for (size_t i = 0; slots_ != nullptr && i <= mask_; ++i) {
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

  Slot* slots_ = nullptr;
  size_t mask_ = 0;  // capacity - 1 (capacity a power of two), when slots_ != nullptr
  size_t size_ = 0;
};

}  // namespace quiver
