// libFuzzer target: arbitrary bytes as a stored drift baseline (a metadata
// entry of the history; a damaged disk or a bug could leave any bytes
// there). DecodeBaseline must refuse them cleanly or decode them into a
// baseline that encodes back to the same bytes, and measuring drift
// against whatever it decoded must not crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz/fixture.h"
#include "storage/online/row.h"
#include "storage/stats/baseline.h"
#include "storage/stats/feature_stats.h"

namespace {

// A view with a number and a string, and a window of statistics for each.
struct Fixture {
  Fixture() {
    view.name = "v";
    for (auto [name, type] : {std::pair{"x", quiver::FieldType::kFloat64},
                              std::pair{"genre", quiver::FieldType::kString}}) {
      quiver::Field f;
      f.name = name;
      f.type = {type, 0};
      f.default_value = quiver::ZeroValue(f.type);
      view.fields.push_back(std::move(f));
    }
    quiver::FinalizeView(view);
    quiver::FeatureStats stats;
    {
      quiver::FeatureStats::Writer w = stats.Begin(view, 0);
      for (int i = 0; i < 500; ++i) {
        w.Row();
        const double x = i % 37;
        w.Fixed(0, reinterpret_cast<const uint8_t*>(&x));
        w.Var(1, i % 3 == 0 ? "drama" : "comedy");
      }
    }
    window = stats.Take(view, 0)->since_start;
  }
  quiver::ViewSchema view;
  quiver::WindowSummary window;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fixture = quiver::fuzz::Persistent<Fixture>();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  quiver::Result<quiver::ViewBaseline> decoded = quiver::DecodeBaseline(bytes);
  if (!decoded.ok()) return 0;
  if (quiver::EncodeBaseline(*decoded) != bytes) std::abort();  // not a round trip
  for (const quiver::FieldBaseline& f : decoded->fields) {
    for (size_t i = 0; i < fixture.view.fields.size(); ++i)
      (void)quiver::MeasureDrift(fixture.view.fields[i], f, fixture.window.fields[i]);
  }
  return 0;
}
