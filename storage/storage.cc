#include "storage/storage.h"

#include <sqlite3.h>

namespace danescan::storage {

std::string sqliteVersion() { return sqlite3_libversion(); }

}  // namespace danescan::storage
