#include "antiphon/core/text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace antiphon {

TEST(DecodeText, passes_utf8_through_and_drops_bom) {
  DecodedText t = decode_text("\xEF\xBB\xBFK\xC3\xB6ln\n", "a.krn");
  EXPECT_EQ(t.utf8, "K\xC3\xB6ln\n");
  EXPECT_TRUE(t.warnings.empty());
}

TEST(DecodeText, reads_latin1_with_a_warning_naming_the_position) {
  DecodedText t = decode_text("!!!OTL: x\n!!!OTL: K\xF6ln\n", "b.krn");
  EXPECT_EQ(t.utf8, "!!!OTL: x\n!!!OTL: K\xC3\xB6ln\n");
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_EQ(t.warnings[0].line, 2);
  EXPECT_EQ(t.warnings[0].column, 10);
  EXPECT_EQ(t.warnings[0].to_string(), "b.krn:2:10: not valid UTF-8 (byte 0xF6); read as Latin-1");
}

TEST(DecodeText, rejects_binary_data_with_position) {
  try {
    decode_text(std::string("**kern\n4c\0\x01", 11), "junk.krn");
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "junk.krn");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 3);
    EXPECT_EQ(e.reason(), "binary data");
    EXPECT_STREQ(e.what(), "junk.krn:2:3: binary data, not a text file (control byte 0x00)");
  }
}

TEST(SplitLines, handles_crlf_and_missing_final_newline) {
  auto lines = split_lines("a\r\nbc\n\nd");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "bc");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "d");
}

TEST(WriteFileAtomic, replaces_content_and_leaves_no_temporary) {
  auto dir = std::filesystem::temp_directory_path() / ("antiphon_atomic_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "out.txt";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file_bytes(path), "second");
  size_t count = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_THROW(write_file_atomic(dir / "missing" / "x.txt", "x"), IoError);
  EXPECT_THROW(read_file_bytes(dir / "nope.txt"), IoError);
  std::filesystem::remove_all(dir);
}

}  // namespace antiphon
