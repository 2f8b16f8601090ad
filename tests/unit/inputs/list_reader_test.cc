// tests/unit/inputs/list_reader_test.cc — DomainStream over real temporary files: list forms
// (plain, CSV, gzip of either), line syntax, damaged input, duplicates, error places and stats.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "inputs/domain_stream.h"
#include "tests/unit/inputs/list_files.h"

namespace danescan::inputs {
namespace {

using testing::ListFiles;
using testing::readAll;
using Names = std::vector<std::string>;

StreamStats statsOf(uint64_t lines, uint64_t accepted, uint64_t rejected = 0,
                    uint64_t duplicates = 0, uint64_t out_of_shard = 0,
                    uint64_t unreadable_sources = 0) {
  return {lines, accepted, rejected, duplicates, out_of_shard, unreadable_sources};
}

// A list big enough to cross the reader's 64 KiB buffers and zlib's internal ones many times.
std::string numberedNames(int count, const std::string& suffix = ".example") {
  std::string text;
  for (int i = 0; i < count; ++i) text += "name" + std::to_string(i) + suffix + "\n";
  return text;
}

TEST(ListReader, PlainTextWithCommentsBlanksCrlfAndWhitespace) {
  ListFiles files;
  const auto path = files.writePlain("list.txt",
                                     "# a comment\n"
                                     "\n"
                                     "example.com\r\n"
                                     "  Mail.Example.ORG.  \r\n"
                                     "\t \r\n"
                                     "   # indented comment\n"
                                     "bar.example # trailing comment\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "mail.example.org", "bar.example"}));
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.stats, statsOf(7, 3));
}

TEST(ListReader, EntriesCarrySourceAndLine) {
  ListFiles files;
  const auto path = files.writePlain("list.txt", "# c\n\nexample.com\nexample.net\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.entries,
            (std::vector<DomainEntry>{{"example.com", path, 3}, {"example.net", path, 4}}));
}

TEST(ListReader, LoneCarriageReturnsEndLines) {
  ListFiles files;
  const auto path = files.writePlain("mac.txt", "a.example\rb.example\r");
  const auto result = readAll({path});
  EXPECT_EQ(result.entries,
            (std::vector<DomainEntry>{{"a.example", path, 1}, {"b.example", path, 2}}));
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.stats, statsOf(2, 2));
}

TEST(ListReader, LineEndingsMayBeMixed) {
  ListFiles files;
  // LF, CRLF, lone CR, and CR CR (an empty line between two names).
  const auto path =
      files.writePlain("mixed.txt", "a.example\nb.example\r\nc.example\rd.example\r\re.example");
  const auto result = readAll({path});
  EXPECT_EQ(result.entries, (std::vector<DomainEntry>{{"a.example", path, 1},
                                                      {"b.example", path, 2},
                                                      {"c.example", path, 3},
                                                      {"d.example", path, 4},
                                                      {"e.example", path, 6}}));
  EXPECT_EQ(result.stats, statsOf(6, 5));
}

TEST(ListReader, CrlfSplitAcrossReadsIsOneLineEnd) {
  // Lines of 15 bytes + CRLF, a 64 KiB read then ends between '\r' and '\n' somewhere (65536 is
  // not a multiple of 17): line numbers stay exact and no empty line appears. Same with lone CR.
  for (const std::string ending : {"\r\n", "\r"}) {
    ListFiles files;
    std::string text;
    for (int i = 0; i < 10000; ++i) text += "n" + std::to_string(100000 + i) + ".example" + ending;
    const auto path = files.writePlain("big.txt", text);
    const auto result = readAll({path});
    ASSERT_EQ(result.entries.size(), 10000u) << ending.size();
    EXPECT_EQ(result.entries[9999], (DomainEntry{"n109999.example", path, 10000}));
    EXPECT_EQ(result.stats, statsOf(10000, 10000)) << ending.size();
  }
}

TEST(ListReader, ZipArchiveIsRefusedWithOneError) {
  ListFiles files;
  // A local file header ("PK\3\4") and stored data: binary noise as far as lines go.
  std::string zip("PK\x03\x04\x14\x00\x00\x00\x00\x00", 10);
  for (int i = 0; i < 3000; ++i) zip += static_cast<char>(i * 37 % 251) + std::string("\n");
  const auto path = files.writePlain("list.zip", zip);
  const auto good = files.writePlain("good.txt", "after.example\n");
  const auto result = readAll({path, good});
  EXPECT_EQ(result.errors, (std::vector<ListError>{
                               {path, 0, "zip archives are not supported; unzip it or use gzip"}}));
  EXPECT_EQ(result.names(), (Names{"after.example"}));
  EXPECT_EQ(result.stats, statsOf(1, 1, 0, 0, 0, 1));
}

TEST(ListReader, MissingFinalNewline) {
  ListFiles files;
  const auto path = files.writePlain("list.txt", "a.example\nb.example");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"a.example", "b.example"}));
  EXPECT_EQ(result.stats, statsOf(2, 2));
}

TEST(ListReader, EmptyFileAndNoSources) {
  ListFiles files;
  EXPECT_EQ(readAll({files.writePlain("empty.txt", "")}).stats, statsOf(0, 0));
  EXPECT_EQ(readAll(std::vector<std::string>{}).stats, statsOf(0, 0));
}

TEST(ListReader, ByteOrderMarkOnFirstLineIsIgnored) {
  ListFiles files;
  const auto result = readAll({files.writePlain("bom.txt",
                                                "\xEF\xBB\xBF"
                                                "example.com\n")});
  EXPECT_EQ(result.names(), (Names{"example.com"}));
  EXPECT_TRUE(result.errors.empty());
}

TEST(ListReader, CsvWithoutHeader) {
  ListFiles files;
  const auto path =
      files.writePlain("top.csv", "1,example.com\r\n2,Example.NET\r\n3, bücher.example \r\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "example.net", "xn--bcher-kva.example"}));
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.stats, statsOf(3, 3));
}

TEST(ListReader, RankOfARankDomainLineIsKept) {
  ListFiles files;
  // A rank too large for 64 bits is still a rank,domain line, with no rank kept.
  const auto path = files.writePlain("top.csv", "rank,domain\n7,example.com\nplain.example\n"
                                                "99999999999999999999,big.example\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.entries, (std::vector<DomainEntry>{{"example.com", path, 2, 7},
                                                      {"plain.example", path, 3, std::nullopt},
                                                      {"big.example", path, 4, std::nullopt}}));
}

TEST(ListReader, CsvHeaderIsSkippedNotAnError) {
  ListFiles files;
  const auto path = files.writePlain("top.csv", "rank,domain\n1,example.com\n2,example.net\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "example.net"}));
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.stats, statsOf(3, 2));
}

TEST(ListReader, CsvHeaderMayFollowComments) {
  ListFiles files;
  const auto path = files.writePlain("top.csv", "# exported 2024\n\nRank,Domain\n1,example.com\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com"}));
  EXPECT_TRUE(result.errors.empty());
}

TEST(ListReader, HeaderLikeLineAfterNamesIsAnError) {
  ListFiles files;
  const auto path = files.writePlain("top.csv", "1,example.com\nrank,domain\n2,example.net\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "example.net"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 2, "invalid character ','"}}));
}

TEST(ListReader, FirstLineInAnotherCsvLayoutIsReportedNotTakenForAHeader) {
  ListFiles files;
  const auto path = files.writePlain("other.csv", "example.com,1\n2,example.net\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.net"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 1, "invalid character ','"}}));
}

TEST(ListReader, CsvQuotedFieldsAndExtraColumns) {
  ListFiles files;
  const auto path =
      files.writePlain("top.csv", "\"1\",\"example.com\"\n2,example.net,extra,cols\n");
  EXPECT_EQ(readAll({path}).names(), (Names{"example.com", "example.net"}));
}

TEST(ListReader, CsvWithEmptyDomainIsRejected) {
  ListFiles files;
  const auto path = files.writePlain("top.csv", "1,\n2,example.net\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.net"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 1, "empty name"}}));
}

TEST(ListReader, PlainAndCsvLinesMayMix) {
  ListFiles files;
  const auto path = files.writePlain("mixed.txt", "example.com\n2,example.net\nexample.org\n");
  EXPECT_EQ(readAll({path}).names(), (Names{"example.com", "example.net", "example.org"}));
}

TEST(ListReader, GzipPlain) {
  ListFiles files;
  const auto path = files.writeGzip("list.txt.gz", "# c\nexample.com\r\nExample.NET.\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "example.net"}));
  EXPECT_EQ(result.stats, statsOf(3, 2));
}

TEST(ListReader, GzipCsvWithHeader) {
  ListFiles files;
  const auto path = files.writeGzip("top.csv.gz", "rank,domain\n1,example.com\n2,bücher.example\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"example.com", "xn--bcher-kva.example"}));
  EXPECT_EQ(result.stats, statsOf(3, 2));
}

TEST(ListReader, GzipIsDetectedFromContentNotName) {
  ListFiles files;
  const auto gz_named_txt = files.writeGzip("list.txt", "example.com\n");
  const auto txt_named_gz = files.writePlain("list.gz", "example.net\n");
  EXPECT_EQ(readAll({gz_named_txt, txt_named_gz}).names(), (Names{"example.com", "example.net"}));
}

TEST(ListReader, LargeListsCrossBufferBoundaries) {
  ListFiles files;
  const std::string text = numberedNames(50000);  // about 900 KiB
  Names expected;
  for (int i = 0; i < 50000; ++i) expected.push_back("name" + std::to_string(i) + ".example");
  EXPECT_EQ(readAll({files.writePlain("big.txt", text)}).names(), expected);
  EXPECT_EQ(readAll({files.writeGzip("big.txt.gz", text)}).names(), expected);
}

TEST(ListReader, ConcatenatedGzipMembers) {
  ListFiles files;
  const std::string a = ListFiles::readBytes(files.writeGzip("a.gz", "a.example\n"));
  const std::string b = ListFiles::readBytes(files.writeGzip("b.gz", "b.example\n"));
  const auto path = files.writePlain("ab.gz", a + b);
  EXPECT_EQ(readAll({path}).names(), (Names{"a.example", "b.example"}));
}

TEST(ListReader, OverLongLineIsRejectedAndReadingGoesOn) {
  ListFiles files;
  const auto path =
      files.writePlain("long.txt", "a.example\n" + std::string(5000, 'x') + "\nb.example\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"a.example", "b.example"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 2, "line longer than 4096 bytes"}}));
  EXPECT_EQ(result.stats, statsOf(3, 2, 1));
}

TEST(ListReader, OverLongLinesAcrossBuffersAndAtTheEnd) {
  ListFiles files;
  // A 1 MiB line spans many 64 KiB reads; the last one has no newline.
  const std::string huge(1 << 20, 'y');
  const auto path = files.writePlain("long.txt", "a.example\n" + huge + "\nb.example\n" + huge);
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"a.example", "b.example"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 2, "line longer than 4096 bytes"},
                                                   {path, 4, "line longer than 4096 bytes"}}));
  EXPECT_EQ(result.stats, statsOf(4, 2, 2));
  // Same through zlib.
  const auto gz = files.writeGzip("long.gz", "a.example\n" + huge + "\nb.example\n" + huge);
  EXPECT_EQ(readAll({gz}).stats, statsOf(4, 2, 2));
}

TEST(ListReader, LineOfExactlyTheLimitIsJudgedAsAName) {
  ListFiles files;
  const auto path = files.writePlain("limit.txt", std::string(4096, 'z') + "\n");
  const auto result = readAll({path});
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 1, "label longer than 63 octets"}}));
}

TEST(ListReader, NulByteRejectsOnlyItsLine) {
  ListFiles files;
  const auto path = files.writePlain("nul.txt", std::string("exa\0mple.com\nok.example\n\0\n", 26));
  const auto result = readAll({path});
  EXPECT_EQ(result.names(), (Names{"ok.example"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{path, 1, "NUL byte"}, {path, 3, "NUL byte"}}));
  EXPECT_EQ(result.stats, statsOf(3, 1, 2));
}

TEST(ListReader, InvalidLinesAreReportedWithFileAndLine) {
  ListFiles files;
  const auto first = files.writePlain("first.txt", "ok.example\n*.example\n\n..\n");
  const auto second = files.writeGzip("second.gz", "# c\nbad name.example\nfine.example\n");
  const auto result = readAll({first, second});
  EXPECT_EQ(result.names(), (Names{"ok.example", "fine.example"}));
  EXPECT_EQ(result.errors, (std::vector<ListError>{{first, 2, "invalid character '*'"},
                                                   {first, 4, "empty label"},
                                                   {second, 2, "invalid character 0x20"}}));
  EXPECT_EQ(result.stats, statsOf(7, 2, 3));
}

TEST(ListReader, MissingFileIsReportedAndTheNextSourceIsRead) {
  ListFiles files;
  const auto missing = files.path("does-not-exist.txt");
  const auto good = files.writePlain("good.txt", "example.com\n");
  const auto result = readAll({missing, good});
  EXPECT_EQ(result.names(), (Names{"example.com"}));
  EXPECT_EQ(result.errors,
            (std::vector<ListError>{{missing, 0, "cannot open: No such file or directory"}}));
  EXPECT_EQ(result.stats, statsOf(1, 1, 0, 0, 0, 1));
}

TEST(ListReader, DirectoryIsUnreadable) {
  ListFiles files;
  const auto dir = files.path("");
  const auto result = readAll({dir});
  EXPECT_EQ(result.errors, (std::vector<ListError>{{dir, 0, "cannot open: Is a directory"}}));
  EXPECT_EQ(result.stats.unreadable_sources, 1u);
}

TEST(ListReader, CorruptGzipIsAnErrorNotACrash) {
  ListFiles files;
  const std::string text = numberedNames(20000);
  std::string bytes = ListFiles::readBytes(files.writeGzip("orig.gz", text));
  ASSERT_GT(bytes.size(), 4000u);
  // Scramble the deflate data well inside the stream, after the 10-byte gzip header.
  for (size_t i = 2000; i < 2400; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  const auto corrupt = files.writePlain("corrupt.gz", bytes);
  const auto good = files.writePlain("good.txt", "after.example\n");
  const auto result = readAll({corrupt, good});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].source, corrupt);
  EXPECT_EQ(result.errors[0].line, 0u);
  // zlib decompresses ahead, so the damage may surface before the first line is returned.
  EXPECT_EQ(result.errors[0].reason.rfind("read failed", 0), 0u) << result.errors[0].reason;
  EXPECT_EQ(result.stats.unreadable_sources, 1u);
  // Every line read from the damaged source before the error was a whole name, handed out in
  // order; then the one line of good.txt. So the count of lines is exact: names before + 1.
  ASSERT_FALSE(result.entries.empty());
  const size_t before = result.entries.size() - 1;
  EXPECT_EQ(result.stats, statsOf(before + 1, before + 1, 0, 0, 0, 1));
  for (size_t i = 0; i < before; ++i) {
    EXPECT_EQ(result.entries[i],
              (DomainEntry{"name" + std::to_string(i) + ".example", corrupt, i + 1}));
  }
  // The damage is 2 KB into a ~70 KB stream: most of the 20000 names are lost, not read.
  EXPECT_LT(before, 10000u);
  EXPECT_EQ(result.entries.back(), (DomainEntry{"after.example", good, 1}));
}

TEST(ListReader, TruncatedGzipIsAnError) {
  ListFiles files;
  const std::string text = numberedNames(20000);
  const std::string bytes = ListFiles::readBytes(files.writeGzip("orig.gz", text));
  const auto cut = files.writePlain("cut.gz", bytes.substr(0, bytes.size() / 2));
  const auto result = readAll({cut});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0u);
  EXPECT_NE(result.errors[0].reason.find("truncated gzip stream"), std::string::npos)
      << result.errors[0].reason;
  EXPECT_EQ(result.stats.unreadable_sources, 1u);
  // Whatever came before the cut is whole names, never a fragment of one.
  for (size_t i = 0; i < result.entries.size(); ++i) {
    EXPECT_EQ(result.entries[i].name, "name" + std::to_string(i) + ".example");
  }
}

TEST(ListReader, GzipChecksumMismatchIsAnError) {
  ListFiles files;
  std::string bytes = ListFiles::readBytes(files.writeGzip("orig.gz", "a.example\nb.example\n"));
  // The gzip trailer is CRC-32 then length, 4 bytes each (RFC 1952 section 2.2).
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0x01);
  const auto path = files.writePlain("crc.gz", bytes);
  const auto result = readAll({path});
  EXPECT_EQ(result.errors,
            (std::vector<ListError>{{path, 0, "read failed: incorrect data check"}}));
  EXPECT_EQ(result.stats.unreadable_sources, 1u);
}

TEST(ListReader, DuplicatesAreHandedOutOnce) {
  ListFiles files;
  const auto a = files.writePlain("a.txt", "a.example\nA.EXAMPLE.\nb.example\n1,a.example\n");
  const auto b = files.writeGzip("b.gz", "b.example\nbücher.example\nxn--bcher-kva.example\n");
  const auto result = readAll({a, b});
  EXPECT_EQ(result.names(), (Names{"a.example", "b.example", "xn--bcher-kva.example"}));
  EXPECT_EQ(result.stats, statsOf(7, 3, 0, 4));
  // The first occurrence is the one handed out.
  EXPECT_EQ(result.entries[1], (DomainEntry{"b.example", a, 3}));
}

TEST(ListReader, ExcludedNamesAreHeldBackOnce) {
  ListFiles files;
  StreamOptions options;
  options.sources = {files.writePlain("a.txt", "a.example\nB.example\nc.example\nb.example.\n")};
  options.exclude = [](std::string_view name) { return name == "b.example"; };
  const auto result = readAll(std::move(options));
  EXPECT_EQ(result.names(), (Names{"a.example", "c.example"}));
  EXPECT_EQ(result.stats.excluded, 1u);    // the repeat is a duplicate, not a second exclusion
  EXPECT_EQ(result.stats.duplicates, 1u);
}

TEST(ListReader, DedupCanBeTurnedOff) {
  ListFiles files;
  StreamOptions options;
  options.sources = {files.writePlain("a.txt", "a.example\nA.example\na.example.\n")};
  options.dedup = false;
  const auto result = readAll(std::move(options));
  EXPECT_EQ(result.names(), (Names{"a.example", "a.example", "a.example"}));
  EXPECT_EQ(result.stats, statsOf(3, 3));
}

TEST(ListReader, ManyDistinctNamesSurviveTableGrowth) {
  ListFiles files;
  // 100,000 distinct names force several doublings of the duplicate filter; each repeats once.
  const std::string text = numberedNames(100000);
  const auto path = files.writePlain("big.txt", text + text);
  EXPECT_EQ(readAll({path}).stats, statsOf(200000, 100000, 0, 100000));
}

TEST(ListReader, DefaultErrorHandlerPrintsFileLineReason) {
  ListFiles files;
  const auto path = files.writePlain("list.txt", "ok.example\n*.example\n");
  const auto missing = files.path("missing.txt");
  StreamOptions options;
  options.sources = {path, missing};
  ::testing::internal::CaptureStderr();
  {
    DomainStream stream(std::move(options));
    DomainEntry entry;
    while (stream.next(entry)) {
    }
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            path + ":2: invalid character '*'\n" + missing +
                ": cannot open: No such file or directory\n");
}

TEST(ListReader, StatsAddUp) {
  ListFiles files;
  const auto path = files.writePlain("mix.txt",
                                     "rank,domain\n"      // header
                                     "1,a.example\n"      // accepted
                                     "# comment\n"        // comment
                                     "\n"                 // blank
                                     "2,A.example\n"      // duplicate
                                     "3,-\xFF.example\n"  // rejected
                                     "4,b.example\n");    // accepted
  StreamOptions options;
  options.sources = {path, files.path("missing")};
  const auto result = readAll(std::move(options));
  EXPECT_EQ(result.stats, statsOf(7, 2, 1, 1, 0, 1));
  EXPECT_EQ(result.errors[0], (ListError{path, 6, "invalid UTF-8"}));
}

}  // namespace
}  // namespace danescan::inputs
