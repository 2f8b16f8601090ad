// storage/storage.h — SQLite ownership for danescan. The scan writer, schema, export and merge
// arrive with the scanner core; for now this module only reports the SQLite it was built with.
#pragma once

#include <string>

namespace danescan::storage {

[[nodiscard]] std::string sqliteVersion();

}  // namespace danescan::storage
