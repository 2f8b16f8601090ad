// storage/storage.h — the SQLite library this module was built with (for `danescan --version`).
// The module's real interfaces: writer.h (the scan's writer), reader.h (reading a scan back,
// resume), export.h (JSON Lines, CSV), merge.h; SCHEMA.md documents the tables.
#pragma once

#include <string>

namespace danescan::storage {

[[nodiscard]] std::string sqliteVersion();

}  // namespace danescan::storage
