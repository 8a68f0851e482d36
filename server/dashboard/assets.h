// The dashboard's files, built into quiverd: the page, its script and
// style, and Chart.js (Debian's libjs-chart.js, embedded at build time).
// Nothing is fetched from anywhere else (docs/dashboard.md).
#pragma once

#include <string_view>

namespace quiver::dashboard {

struct Asset {
  std::string_view path;  // as requested: "/", "/assets/app.js", ...
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;  // a strong validator: a hash of the body, quoted
};

// The asset served at `path`; null if none.
const Asset* FindAsset(std::string_view path);

// The Content-Security-Policy of the dashboard's page: its own scripts,
// styles and requests only.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace quiver::dashboard
