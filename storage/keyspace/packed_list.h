// PackedList: the items of a RESP list packed into chunks of bytes, as
// Redis's quicklist packs them into listpacks. Each item is its length as a
// varint, its bytes, and its length again as a reversed varint, so a chunk
// reads from either end; a chunk holds up to about kChunkBytes. Three-byte
// items take five bytes each instead of the 32 of a std::string (plus the
// container's own), so a long list touches a sixth of the pages.
//
// Pushes and pops at either end are O(1) amortized; reaching item i walks
// the chunks from the nearer end and then the items of one chunk. Not
// thread-safe: the owner locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {

class PackedList {
 public:
  static constexpr size_t kChunkBytes = 4096;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Heap bytes held by the chunks (for the memory count).
  size_t bytes() const { return bytes_; }

  // REQUIRES: i < size().
  std::string_view at(size_t i) const;
  std::string_view front() const;
  std::string_view back() const;

  void PushFront(std::string_view item);
  void PushBack(std::string_view item);
  // REQUIRES: !empty().
  void PopFront() { Pop(true); }
  void PopBack() { Pop(false); }
  // REQUIRES: i < size() (Insert: i <= size()).
  void Set(size_t i, std::string_view item);
  void Insert(size_t i, std::string_view item);
  // Removes up to `limit` items equal to `item` (0: all), from the head or,
  // if from_tail, from the tail; returns how many.
  size_t Remove(std::string_view item, size_t limit, bool from_tail);

  // Every item, copied (tests, debugging).
  std::vector<std::string> ToVector() const;

  // Calls fn(index, item) for the items [from, to) in order, or for
  // [from, to) backwards from to - 1 if reverse, until fn returns false.
  template <typename Fn>
  void ForEach(size_t from, size_t to, bool reverse, Fn&& fn) const;

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    uint32_t capacity = 0, begin = 0, end = 0;  // the items are data[begin, end)
    uint32_t count = 0;
  };
  // Where item i is: its chunk and its index there.
  std::pair<size_t, size_t> Locate(size_t i) const;
  // The item of chunk c at index k.
  std::string_view ItemAt(const Chunk& c, size_t k) const;
  // Makes room for `need` bytes at the front (or back) of chunk c, growing
  // it up to kChunkBytes; false if it is full.
  bool Reserve(Chunk& c, size_t need, bool front);
  // The end chunk with `need` bytes free at that end (a new one if the end
  // chunk is full), its count and size_ already counting the new item.
  Chunk& RoomAtEnd(size_t need, bool front);
  // The items of chunk c, whose first is item `first`.
  std::vector<std::string_view> ChunkItems(size_t c, size_t first) const;
  // Rewrites chunks [first, last) as the given items, split into chunks.
  void Replace(size_t first, size_t last, const std::vector<std::string_view>& items);
  void Pop(bool front);
  void DropChunk(bool front);

  std::deque<Chunk> chunks_;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

namespace packed_list {

// An item's encoding: varint length, bytes, reversed varint length.
// Reads the item starting at p; *next is where the next one starts.
std::string_view ReadForward(const char* p, const char** next);
// Reads the item ending at p; *prev is where it starts.
std::string_view ReadBackward(const char* p, const char** prev);

}  // namespace packed_list

template <typename Fn>
void PackedList::ForEach(size_t from, size_t to, bool reverse, Fn&& fn) const {
  if (from >= to) return;
  if (!reverse) {
    auto [c, k] = Locate(from);
    for (size_t i = from; i < to; ++c, k = 0) {
      const Chunk& chunk = chunks_[c];
      const char* p = chunk.data.get() + chunk.begin;
      for (size_t skip = 0; skip < k; ++skip)
        packed_list::ReadForward(p, &p);
      for (; k < chunk.count && i < to; ++k, ++i) {
        if (!fn(i, packed_list::ReadForward(p, &p))) return;
      }
    }
    return;
  }
  auto [c, k] = Locate(to - 1);
  for (size_t i = to; i > from;) {
    const Chunk& chunk = chunks_[c];
    const char* p = chunk.data.get() + chunk.end;
    for (size_t skip = chunk.count - 1; skip > k; --skip)
      packed_list::ReadBackward(p, &p);
    for (size_t left = k + 1; left > 0 && i > from; --left) {
      --i;
      if (!fn(i, packed_list::ReadBackward(p, &p))) return;
    }
    if (c == 0) return;
    --c;
    k = chunks_[c].count - 1;
  }
}

}  // namespace quiver
