#include "storage/keyspace/packed_list.h"

#include <algorithm>
#include <cstring>

#include "util/byte_codec.h"

namespace quiver {

namespace packed_list {

std::string_view ReadForward(const char* p, const char** next) {
  size_t len = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(*p++);
    len |= size_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  *next = p + len + VarintSize(len);
  return {p, len};
}

std::string_view ReadBackward(const char* p, const char** prev) {
  size_t len = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(*--p);
    len |= size_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  *prev = p - len - VarintSize(len);
  return {p - len, len};
}

}  // namespace packed_list

namespace {

size_t EncodedSize(std::string_view item) {
  return item.size() + 2 * VarintSize(item.size());
}

// Writes the item's encoding at p; returns its end.
char* WriteItem(std::string_view item, char* p) {
  char varint[10];
  const size_t size = PutVarint(item.size(), varint);
  std::memcpy(p, varint, size);
  p += size;
  if (!item.empty()) std::memcpy(p, item.data(), item.size());  // an empty view may be null
  p += item.size();
  for (size_t i = size; i > 0; --i)
    *p++ = varint[i - 1];
  return p;
}

}  // namespace

std::pair<size_t, size_t> PackedList::Locate(size_t i) const {
  if (i < size_ / 2) {
    for (size_t c = 0;; ++c) {
      if (i < chunks_[c].count) return {c, i};
      i -= chunks_[c].count;
    }
  }
  size_t from_back = size_ - 1 - i;
  for (size_t c = chunks_.size() - 1;; --c) {
    if (from_back < chunks_[c].count) return {c, chunks_[c].count - 1 - from_back};
    from_back -= chunks_[c].count;
  }
}

std::string_view PackedList::ItemAt(const Chunk& c, size_t k) const {
  std::string_view item;
  if (k < c.count / 2) {
    const char* p = c.data.get() + c.begin;
    for (size_t j = 0; j <= k; ++j)
      item = packed_list::ReadForward(p, &p);
  } else {
    const char* p = c.data.get() + c.end;
    for (size_t j = c.count; j > k; --j)
      item = packed_list::ReadBackward(p, &p);
  }
  return item;
}

std::string_view PackedList::at(size_t i) const {
  const auto [c, k] = Locate(i);
  return ItemAt(chunks_[c], k);
}

std::string_view PackedList::front() const {
  return ItemAt(chunks_.front(), 0);
}

std::string_view PackedList::back() const {
  return ItemAt(chunks_.back(), chunks_.back().count - 1);
}

std::vector<std::string> PackedList::ToVector() const {
  std::vector<std::string> out;
  out.reserve(size_);
  ForEach(0, size_, false, [&](size_t, std::string_view item) {
    out.emplace_back(item);
    return true;
  });
  return out;
}

bool PackedList::Reserve(Chunk& c, size_t need, bool front) {
  if (front ? c.begin >= need : c.capacity - c.end >= need) return true;
  const size_t used = c.end - c.begin;
  if (c.count > 0 && used + need > kChunkBytes) return false;
  size_t capacity = c.capacity;
  if (capacity - used < need) {
    capacity = std::max({used + need, std::min(kChunkBytes, size_t{2} * c.capacity), size_t{64}});
  }
  // Front pushes fill a chunk back to front, back pushes front to back.
  const size_t begin = front ? capacity - used : 0;
  if (capacity == c.capacity) {
    std::memmove(c.data.get() + begin, c.data.get() + c.begin, used);
  } else {
    auto data = std::make_unique<char[]>(capacity);
    if (used > 0) std::memcpy(data.get() + begin, c.data.get() + c.begin, used);
    c.data = std::move(data);
    bytes_ += capacity - c.capacity;
    c.capacity = static_cast<uint32_t>(capacity);
  }
  c.begin = static_cast<uint32_t>(begin);
  c.end = static_cast<uint32_t>(begin + used);
  return true;
}

PackedList::Chunk& PackedList::RoomAtEnd(size_t need, bool front) {
  auto end = [&]() -> Chunk& { return front ? chunks_.front() : chunks_.back(); };
  if (chunks_.empty() || !Reserve(end(), need, front)) {
    if (front) {
      chunks_.emplace_front();
    } else {
      chunks_.emplace_back();
    }
    bytes_ += sizeof(Chunk);
    Reserve(end(), need, front);
  }
  ++size_;
  ++end().count;
  return end();
}

void PackedList::PushFront(std::string_view item) {
  const size_t need = EncodedSize(item);
  Chunk& c = RoomAtEnd(need, true);
  c.begin -= static_cast<uint32_t>(need);
  WriteItem(item, c.data.get() + c.begin);
}

void PackedList::PushBack(std::string_view item) {
  Chunk& c = RoomAtEnd(EncodedSize(item), false);
  c.end = static_cast<uint32_t>(WriteItem(item, c.data.get() + c.end) - c.data.get());
}

void PackedList::DropChunk(bool front) {
  Chunk& c = front ? chunks_.front() : chunks_.back();
  bytes_ -= c.capacity + sizeof(Chunk);
  if (front) {
    chunks_.pop_front();
  } else {
    chunks_.pop_back();
  }
}

void PackedList::Pop(bool front) {
  Chunk& c = front ? chunks_.front() : chunks_.back();
  const char* edge = nullptr;
  if (front) {
    packed_list::ReadForward(c.data.get() + c.begin, &edge);
    c.begin = static_cast<uint32_t>(edge - c.data.get());
  } else {
    packed_list::ReadBackward(c.data.get() + c.end, &edge);
    c.end = static_cast<uint32_t>(edge - c.data.get());
  }
  --size_;
  if (--c.count == 0) DropChunk(front);
}

void PackedList::Replace(size_t first, size_t last, const std::vector<std::string_view>& items) {
  // Built aside first: `items` may view the chunks being replaced.
  std::vector<Chunk> built;
  for (size_t i = 0; i < items.size();) {
    size_t used = EncodedSize(items[i]), j = i + 1;
    for (; j < items.size() && used + EncodedSize(items[j]) <= kChunkBytes; ++j)
      used += EncodedSize(items[j]);
    Chunk& c = built.emplace_back();
    c.data = std::make_unique<char[]>(used);
    c.capacity = c.end = static_cast<uint32_t>(used);
    c.count = static_cast<uint32_t>(j - i);
    char* p = c.data.get();
    for (; i < j; ++i)
      p = WriteItem(items[i], p);
  }
  for (size_t c = first; c < last; ++c) {
    bytes_ -= chunks_[c].capacity + sizeof(Chunk);
    size_ -= chunks_[c].count;
  }
  const auto where = chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(first),
                                   chunks_.begin() + static_cast<std::ptrdiff_t>(last));
  for (const Chunk& c : built) {
    bytes_ += c.capacity + sizeof(Chunk);
    size_ += c.count;
  }
  chunks_.insert(where, std::make_move_iterator(built.begin()),
                 std::make_move_iterator(built.end()));
}

std::vector<std::string_view> PackedList::ChunkItems(size_t c, size_t first) const {
  std::vector<std::string_view> items;
  ForEach(first, first + chunks_[c].count, false, [&](size_t, std::string_view v) {
    items.push_back(v);
    return true;
  });
  return items;
}

void PackedList::Set(size_t i, std::string_view item) {
  const auto [c, k] = Locate(i);
  std::vector<std::string_view> items = ChunkItems(c, i - k);
  items[k] = item;
  Replace(c, c + 1, items);
}

void PackedList::Insert(size_t i, std::string_view item) {
  if (i == 0) return PushFront(item);
  if (i == size_) return PushBack(item);
  const auto [c, k] = Locate(i);
  std::vector<std::string_view> items = ChunkItems(c, i - k);
  items.insert(items.begin() + static_cast<std::ptrdiff_t>(k), item);
  Replace(c, c + 1, items);
}

size_t PackedList::Remove(std::string_view item, size_t limit, bool from_tail) {
  std::vector<std::string_view> kept;
  kept.reserve(size_);
  size_t removed = 0;
  ForEach(0, size_, from_tail, [&](size_t, std::string_view v) {
    if (v == item && (limit == 0 || removed < limit)) {
      ++removed;
    } else {
      kept.push_back(v);
    }
    return true;
  });
  if (removed == 0) return 0;
  if (from_tail) std::reverse(kept.begin(), kept.end());
  Replace(0, chunks_.size(), kept);
  return removed;
}

}  // namespace quiver
