#include "server/resp/hyperloglog.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace quiver::resp::hll {

namespace {

constexpr uint32_t kIndexMask = kRegisters - 1;
constexpr int kIndexBits = 14;         // log2(kRegisters)
constexpr int kPatternBits = 64 - 14;  // hash bits left for the run of zeros
constexpr uint8_t kRegisterMax = 63;
constexpr int kValMaxValue = 32, kValMaxLen = 4, kZeroMaxLen = 64, kXZeroMaxLen = 16384;
constexpr size_t kCardinality = 8;  // where the cached cardinality starts

// Sparse opcodes: ZERO 00xxxxxx (1 to 64 zero registers), XZERO 01xxxxxx
// yyyyyyyy (1 to 16384), VAL 1vvvvvxx (1 to 4 registers holding 1 to 32).
bool IsZero(uint8_t b) {
  return (b & 0xc0) == 0;
}
bool IsXZero(uint8_t b) {
  return (b & 0xc0) == 0x40;
}
bool IsVal(uint8_t b) {
  return (b & 0x80) != 0;
}
int ZeroLen(uint8_t b) {
  return (b & 0x3f) + 1;
}
int ValValue(uint8_t b) {
  return ((b >> 2) & 0x1f) + 1;
}
int ValLen(uint8_t b) {
  return (b & 0x3) + 1;
}
uint8_t Val(int value, int len) {
  return static_cast<uint8_t>(0x80 | (value - 1) << 2 | (len - 1));
}
uint8_t Zero(int len) {
  return static_cast<uint8_t>(len - 1);
}

uint8_t At(std::string_view s, size_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}
int XZeroLen(std::string_view s, size_t p) {
  return (((At(s, p) & 0x3f) << 8) | At(s, p + 1)) + 1;
}

// One opcode: its size in bytes and how many registers it covers.
struct Op {
  size_t bytes;
  int span;
};
Op OpAt(std::string_view s, size_t p) {
  const uint8_t b = At(s, p);
  if (IsZero(b)) return {1, ZeroLen(b)};
  if (IsVal(b)) return {1, ValLen(b)};
  return {2, XZeroLen(s, p)};
}

// Appends the opcodes of `len` zero registers (len <= kXZeroMaxLen).
void AppendZeros(int len, uint8_t* seq, int* n) {
  if (len > kZeroMaxLen) {
    seq[(*n)++] = static_cast<uint8_t>(((len - 1) >> 8) | 0x40);
    seq[(*n)++] = static_cast<uint8_t>((len - 1) & 0xff);
  } else {
    seq[(*n)++] = Zero(len);
  }
}

// The dense registers: 6 bits each, from the least significant bit of
// byte regnum * 6 / 8 (a register may straddle two bytes).
uint8_t DenseGet(const uint8_t* regs, size_t size, uint32_t i) {
  const size_t byte = i * 6 / 8;
  const unsigned shift = i * 6 % 8;
  const unsigned b0 = regs[byte], b1 = byte + 1 < size ? regs[byte + 1] : 0;
  return static_cast<uint8_t>(((b0 >> shift) | (b1 << (8 - shift))) & kRegisterMax);
}
void DenseSet(uint8_t* regs, size_t size, uint32_t i, uint8_t v) {
  const size_t byte = i * 6 / 8;
  const unsigned shift = i * 6 % 8;
  regs[byte] = static_cast<uint8_t>((regs[byte] & ~(kRegisterMax << shift)) | (v << shift));
  if (byte + 1 < size) {
    const unsigned rest = 8 - shift;
    regs[byte + 1] = static_cast<uint8_t>((regs[byte + 1] & ~(kRegisterMax >> rest)) | (v >> rest));
  }
}

uint8_t* DenseRegisters(std::string* hll) {
  return reinterpret_cast<uint8_t*>(hll->data()) + kHeaderSize;
}

// Walks a sparse value's opcodes, calling fn(first register, count, value)
// for each run; false if the runs do not cover exactly kRegisters.
template <typename Fn>
bool ForEachRun(std::string_view hll, Fn fn) {
  uint64_t index = 0;
  for (size_t p = kHeaderSize; p < hll.size();) {
    const uint8_t b = At(hll, p);
    const Op op = OpAt(hll, p);
    const int value = IsVal(b) ? ValValue(b) : 0;
    if (value != 0 && index + op.span > kRegisters) return false;  // overflow
    fn(index, op.span, value);
    index += op.span;
    p += op.bytes;
  }
  return index == kRegisters;
}

int DenseSetMax(std::string* hll, uint32_t index, uint8_t count) {
  uint8_t* regs = DenseRegisters(hll);
  const size_t size = hll->size() - kHeaderSize;
  if (DenseGet(regs, size, index) >= count) return 0;
  DenseSet(regs, size, index, count);
  return 1;
}

int Promote(std::string* hll, uint32_t index, uint8_t count) {
  if (!ToDense(hll)) return -1;
  return DenseSetMax(hll, index, count);  // changes it: a sparse value could not hold it
}

// Merges adjacent VAL opcodes of equal value (up to 4 registers), looking
// at up to 5 opcodes from `from`, as Redis does after a change.
void MergeVals(std::string* s, size_t from) {
  int scan = 5;
  for (size_t q = from; q < s->size() && scan--;) {
    const uint8_t b = At(*s, q);
    if (!IsVal(b)) {
      q += IsXZero(b) ? 2 : 1;
      continue;
    }
    const uint8_t c = At(*s, q + 1);
    if (q + 1 < s->size() && IsVal(c) && ValValue(b) == ValValue(c) &&
        ValLen(b) + ValLen(c) <= kValMaxLen) {
      (*s)[q + 1] = static_cast<char>(Val(ValValue(b), ValLen(b) + ValLen(c)));
      s->erase(q, 1);
      continue;  // and try the merged one with its right neighbour
    }
    ++q;
  }
}

int SparseSet(std::string* s, uint32_t index, uint8_t count, size_t max_sparse) {
  if (count > kValMaxValue) return Promote(s, index, count);
  // The opcode covering the register, and the one before it.
  size_t p = kHeaderSize;
  std::optional<size_t> prev;
  int64_t first = 0, span = 0;
  while (p < s->size()) {
    const Op op = OpAt(*s, p);
    span = op.span;
    if (index <= first + span - 1) break;
    prev = p;
    p += op.bytes;
    first += span;
  }
  if (span == 0 || p >= s->size()) return -1;  // corrupt: the register is not covered
  const uint8_t b = At(*s, p);
  if (IsVal(b) && ValValue(b) >= count) return 0;
  if ((IsVal(b) || IsZero(b)) && span == 1) {  // the run is this register alone
    (*s)[p] = static_cast<char>(Val(count, 1));
  } else {
    // Split the run: [run before] VAL(count) [run after].
    uint8_t seq[5];
    int n = 0;
    const int64_t last = first + span - 1;
    const auto before = static_cast<int>(index - first), after = static_cast<int>(last - index);
    if (IsVal(b)) {
      if (before > 0) seq[n++] = Val(ValValue(b), before);
      seq[n++] = Val(count, 1);
      if (after > 0) seq[n++] = Val(ValValue(b), after);
    } else {
      if (before > 0) AppendZeros(before, seq, &n);
      seq[n++] = Val(count, 1);
      if (after > 0) AppendZeros(after, seq, &n);
    }
    const size_t old_bytes = IsXZero(b) ? 2 : 1;
    if (static_cast<size_t>(n) > old_bytes && s->size() + n - old_bytes > max_sparse) {
      return Promote(s, index, count);
    }
    s->replace(p, old_bytes, reinterpret_cast<const char*>(seq), n);
  }
  MergeVals(s, prev.value_or(kHeaderSize));
  InvalidateCache(s);
  return 1;
}

double Sigma(double x) {
  if (x == 1.) return std::numeric_limits<double>::infinity();
  double z = x, y = 1, before;
  do {
    x *= x;
    before = z;
    z += x * y;
    y += y;
  } while (before != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double y = 1.0, z = 1 - x, before;
  do {
    x = std::sqrt(x);
    before = z;
    y *= 0.5;
    const double square = std::pow(1 - x, 2.0);
    z -= square * y;
  } while (before != z);
  return z / 3;
}

}  // namespace

std::string Create() {
  std::string s(kHeaderSize + 2, '\0');
  std::memcpy(s.data(), "HYLL", 4);
  s[4] = static_cast<char>(kSparse);
  s[kHeaderSize] = static_cast<char>(((kXZeroMaxLen - 1) >> 8) | 0x40);  // every register zero
  s[kHeaderSize + 1] = static_cast<char>((kXZeroMaxLen - 1) & 0xff);
  return s;
}

bool LooksValid(std::string_view v) {
  if (v.size() < kHeaderSize || v.substr(0, 4) != "HYLL") return false;
  const auto encoding = static_cast<uint8_t>(v[4]);
  if (encoding > kSparse) return false;
  return encoding != kDense || v.size() == kDenseSize;
}

uint64_t MurmurHash64A(std::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  uint64_t h = seed ^ (data.size() * m);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t blocks = data.size() / 8;
  for (size_t i = 0; i < blocks; ++i, p += 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);  // little-endian, as Redis reads it on x86
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = data.size() & 7;
  if (tail != 0) {
    for (size_t i = tail; i-- > 0;)
      h ^= static_cast<uint64_t>(p[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

std::pair<uint32_t, uint8_t> Pattern(std::string_view element) {
  uint64_t hash = MurmurHash64A(element, 0xadc83b19ULL);
  const auto index = static_cast<uint32_t>(hash & kIndexMask);
  hash >>= kIndexBits;
  hash |= uint64_t{1} << kPatternBits;  // the run ends by bit 50: count <= 51
  return {index, static_cast<uint8_t>(std::countr_zero(hash) + 1)};
}

int Set(std::string* hll, uint32_t index, uint8_t count, size_t max_sparse) {
  if (static_cast<uint8_t>((*hll)[4]) == kDense) return DenseSetMax(hll, index, count);
  return SparseSet(hll, index, count, max_sparse);
}

int Add(std::string* hll, std::string_view element, size_t max_sparse) {
  const auto [index, count] = Pattern(element);
  return Set(hll, index, count, max_sparse);
}

bool ToDense(std::string* hll) {
  if (static_cast<uint8_t>((*hll)[4]) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), hll->data(), kHeaderSize);  // the cached cardinality too
  dense[4] = static_cast<char>(kDense);
  uint8_t* regs = DenseRegisters(&dense);
  const bool ok = ForEachRun(*hll, [&](uint64_t from, int span, int value) {
    for (int k = 0; value != 0 && k < span; ++k)
      DenseSet(regs, kDenseSize - kHeaderSize, static_cast<uint32_t>(from + k),
               static_cast<uint8_t>(value));
  });
  if (!ok) return false;
  *hll = std::move(dense);
  return true;
}

bool Registers(std::string_view hll, uint8_t* out) {
  std::memset(out, 0, kRegisters);
  return Merge(hll, out);
}

bool Merge(std::string_view hll, uint8_t* max) {
  if (static_cast<uint8_t>(hll[4]) == kDense) {
    const auto* regs = reinterpret_cast<const uint8_t*>(hll.data()) + kHeaderSize;
    for (uint32_t i = 0; i < kRegisters; ++i)
      max[i] = std::max(max[i], DenseGet(regs, hll.size() - kHeaderSize, i));
    return true;
  }
  return ForEachRun(hll, [&](uint64_t from, int span, int value) {
    for (int k = 0; value != 0 && k < span; ++k)
      max[from + k] = std::max(max[from + k], static_cast<uint8_t>(value));
  });
}

uint64_t Estimate(const uint8_t* registers) {
  int histogram[64] = {};
  for (uint32_t i = 0; i < kRegisters; ++i)
    ++histogram[registers[i] & kRegisterMax];
  const double m = kRegisters;
  double z = m * Tau((m - histogram[kPatternBits + 1]) / m);
  for (int j = kPatternBits; j >= 1; --j) {
    z += histogram[j];
    z *= 0.5;
  }
  z += m * Sigma(histogram[0] / m);
  const double alpha_inf = 0.721347520444481703680;  // 0.5 / ln(2)
  return static_cast<uint64_t>(std::llroundl(alpha_inf * m * m / z));
}

std::optional<uint64_t> Cached(std::string_view hll) {
  if ((At(hll, kCardinality + 7) & 0x80) != 0) return std::nullopt;
  uint64_t card = 0;
  for (int i = 7; i >= 0; --i)
    card = card << 8 | At(hll, kCardinality + i);
  return card;
}

void SetCached(std::string* hll, uint64_t cardinality) {
  for (size_t i = 0; i < 8; ++i)
    (*hll)[kCardinality + i] = static_cast<char>((cardinality >> (8 * i)) & 0xff);
}

void InvalidateCache(std::string* hll) {
  (*hll)[kCardinality + 7] = static_cast<char>(At(*hll, kCardinality + 7) | 0x80);
}

}  // namespace quiver::resp::hll
