// The state a libFuzzer target keeps across inputs (a store and what feeds
// it): built on the first input, torn down at exit before LeakSanitizer's
// check, since the online table's slots hold tagged pointers that LSan does
// not see as references to the rows.
#pragma once

#include <cstdlib>

namespace quiver::fuzz {

template <typename Fixture>
Fixture& Persistent() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    // Registered after the libraries' statics that building the fixture
    // created (RocksDB's among them), so it runs before they are destroyed.
    std::atexit([] { delete fixture; });
    return f;
  }();
  return *fixture;
}

}  // namespace quiver::fuzz
