#include "server/dashboard/assets.h"

#include <xxhash.h>

#include <array>
#include <cstdio>
#include <string>

// Each file is placed in .rodata by the assembler's .incbin, between two
// symbols (QUIVER_DASHBOARD_ASSETS and QUIVER_CHARTJS are set by CMake,
// which also rebuilds this file when one of them changes).
#define QUIVER_EMBED(symbol, file)                                                    \
  __asm__(".section .rodata\n.balign 16\n.global " #symbol "_begin\n.hidden " #symbol \
          "_begin\n" #symbol "_begin:\n.incbin \"" file "\"\n.global " #symbol        \
          "_end\n.hidden " #symbol "_end\n" #symbol "_end:\n.byte 0\n.previous\n");   \
  extern "C" __attribute__((visibility("hidden"))) const char symbol##_begin[];       \
  extern "C" __attribute__((visibility("hidden"))) const char symbol##_end[];

QUIVER_EMBED(quiver_index_html, QUIVER_DASHBOARD_ASSETS "/index.html")
QUIVER_EMBED(quiver_app_js, QUIVER_DASHBOARD_ASSETS "/app.js")
QUIVER_EMBED(quiver_app_css, QUIVER_DASHBOARD_ASSETS "/app.css")
QUIVER_EMBED(quiver_chart_js, QUIVER_CHARTJS)

namespace quiver::dashboard {

namespace {

std::string_view Between(const char* begin, const char* end) {
  return {begin, static_cast<size_t>(end - begin)};
}

struct Table {
  std::array<Asset, 4> assets;
  std::array<std::string, 4> etags;
  Table() {
    assets = {{
        {"/", "text/html; charset=utf-8", Between(quiver_index_html_begin, quiver_index_html_end)},
        {"/assets/app.js", "text/javascript; charset=utf-8",
         Between(quiver_app_js_begin, quiver_app_js_end)},
        {"/assets/app.css", "text/css; charset=utf-8",
         Between(quiver_app_css_begin, quiver_app_css_end)},
        {"/assets/chart.min.js", "text/javascript; charset=utf-8",
         Between(quiver_chart_js_begin, quiver_chart_js_end)},
    }};
    for (size_t i = 0; i < assets.size(); ++i) {
      char text[24];
      std::snprintf(text, sizeof text, "\"%016llx\"",
                    static_cast<unsigned long long>(
                        XXH3_64bits(assets[i].body.data(), assets[i].body.size())));
      etags[i] = text;
      assets[i].etag = etags[i];
    }
  }
};

}  // namespace

const Asset* FindAsset(std::string_view path) {
  static const Table table;
  if (path == "/index.html") path = "/";
  for (const Asset& a : table.assets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace quiver::dashboard
