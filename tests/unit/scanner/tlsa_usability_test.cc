// TLSA usability as OpenSSL's DANE code decides it, one row per kind of record (after OpenSSL's
// test/danetest.in: the table is the test).
#include "scanner/tls/tlsa_usability.h"

#include <gtest/gtest.h>

namespace danescan::scanner::tls {
namespace {

using dns::TlsaRecord;

TlsaRecord record(uint8_t u, uint8_t s, uint8_t m, size_t bytes) {
  return TlsaRecord{u, s, m, std::vector<uint8_t>(bytes, 0xab)};
}

struct Row {
  const char* what;
  TlsaRecord tlsa;
  TlsaUsability expected;
};

TEST(ClassifyTlsa, Table) {
  const Row rows[] = {
      {"DANE-EE SPKI SHA-256", record(3, 1, 1, 32), TlsaUsability::Usable},
      {"DANE-EE cert SHA-256", record(3, 0, 1, 32), TlsaUsability::Usable},
      {"DANE-EE SPKI SHA-512", record(3, 1, 2, 64), TlsaUsability::Usable},
      {"DANE-TA SPKI SHA-256", record(2, 1, 1, 32), TlsaUsability::Usable},
      {"PKIX-TA is unusable in SMTP", record(0, 0, 1, 32), TlsaUsability::PkixUsage},
      {"PKIX-EE is unusable in SMTP", record(1, 1, 1, 32), TlsaUsability::PkixUsage},
      {"SHA-256 digest one byte short", record(3, 1, 1, 31), TlsaUsability::Malformed},
      {"SHA-512 length under SHA-256", record(3, 1, 2, 32), TlsaUsability::Malformed},
      {"PKIX with a broken digest is malformed", record(1, 1, 1, 20), TlsaUsability::Malformed},
      {"matching type 255 (PrivMD)", record(3, 1, 255, 32), TlsaUsability::Malformed},
      {"unknown matching type 3", record(3, 1, 3, 32), TlsaUsability::Malformed},
      {"unknown selector 2", record(3, 2, 1, 32), TlsaUsability::Malformed},
      {"full SPKI that is not a key", record(3, 1, 0, 40), TlsaUsability::Malformed},
      {"empty data", record(3, 1, 1, 0), TlsaUsability::Malformed},
      {"unknown usage 4", record(4, 1, 1, 32), TlsaUsability::UnknownUsage},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(toString(classifyTlsa(row.tlsa)), toString(row.expected)) << row.what;
  }
}

}  // namespace
}  // namespace danescan::scanner::tls
