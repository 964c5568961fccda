#pragma once

#include <span>
#include <string_view>

/// The web console's files (server/console), embedded in the binary at build time by
/// embed_assets.cmake: index.html at "/", the others at "/console/<name>".
namespace sidestream::console {

/// One embedded file. Static storage: valid for the life of the process.
struct Asset {
  std::string_view path;  // the URL path it is served at
  std::string_view content_type;
  std::string_view body;
};

/// The asset served at `path` (the URL path, without its query string), or nullptr. Any
/// thread.
const Asset* FindAsset(std::string_view path);

/// Every asset.
std::span<const Asset> Assets();

}  // namespace sidestream::console
