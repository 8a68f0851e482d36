// Redis's HyperLogLog, in its own string representation, so that an HLL
// value moves between quiverd and Redis with GET and SET and counts the
// same on both: a 16-byte header ("HYLL", the encoding, 3 unused bytes,
// the cached cardinality, little-endian, whose top bit marks it stale),
// then 16384 registers of 6 bits, either sparse (run-length opcodes ZERO,
// XZERO and VAL, while small) or dense (12288 bytes, registers packed
// from the least significant bit). Elements are hashed with MurmurHash64A
// (seed 0xadc83b19); the estimate is Ertl's improved estimator, as Redis 7
// computes it. Every change follows Redis's steps, so the bytes are the
// ones Redis would hold. Pure functions on the value's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver::resp::hll {

inline constexpr size_t kHeaderSize = 16;
inline constexpr uint32_t kRegisters = 16384;
inline constexpr size_t kDenseSize = kHeaderSize + kRegisters * 6 / 8;
inline constexpr uint8_t kDense = 0, kSparse = 1;
// Redis's default hll-sparse-max-bytes.
inline constexpr size_t kDefaultSparseMaxBytes = 3000;

// An empty HLL: sparse, its cached cardinality 0.
std::string Create();
// Whether value is an HLL as Redis checks one: long enough, "HYLL", a
// known encoding, a dense one exactly kDenseSize bytes.
bool LooksValid(std::string_view value);

// The register an element updates, and the value it brings (1 to 51).
std::pair<uint32_t, uint8_t> Pattern(std::string_view element);
uint64_t MurmurHash64A(std::string_view data, uint64_t seed);

// Raises register `index` to `count` (no change if it holds as much):
// 1 if it changed, 0 if not, -1 if a sparse value is corrupt. A sparse
// value that would pass max_sparse bytes, or a count over 32, turns dense.
int Set(std::string* hll, uint32_t index, uint8_t count, size_t max_sparse);
// Set for an element's register.
int Add(std::string* hll, std::string_view element, size_t max_sparse);
// A sparse value made dense (a dense one is left as it is); false if corrupt.
bool ToDense(std::string* hll);
// Raises each of max's kRegisters registers to hll's; false if corrupt.
bool Merge(std::string_view hll, uint8_t* max);
// Every register of the value (kRegisters bytes); false if corrupt.
bool Registers(std::string_view hll, uint8_t* out);

// The cardinality estimate of registers (kRegisters bytes).
uint64_t Estimate(const uint8_t* registers);

// The cached cardinality, if it is valid.
std::optional<uint64_t> Cached(std::string_view hll);
void SetCached(std::string* hll, uint64_t cardinality);
void InvalidateCache(std::string* hll);

}  // namespace quiver::resp::hll
