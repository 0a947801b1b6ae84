#include "core/ascii.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <string>

using portico::core::ascii_alnum;
using portico::core::iequals;

TEST(Iequals, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Disposition", "content-disposition"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("form-data", "form-dat"));
  EXPECT_FALSE(iequals("form-data", "form_data"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // É and é: not ASCII, not folded
  EXPECT_FALSE(iequals("[", "{"));                 // 0x5B and 0x7B differ by the case bit
}

// Found by fuzz/multipart_fuzz (corpus: finding-content-type-case-overread): Beast's iequals
// read a byte past both strings when they differed in case. Here each string ends its own heap
// block, so an AddressSanitizer build catches any read beyond.
TEST(Iequals, ReadsNothingPastEitherString) {
  const std::string text = "multipart/form-daTa";
  auto a = std::make_unique<char[]>(text.size());
  text.copy(a.get(), text.size());
  EXPECT_TRUE(iequals(std::string_view(a.get(), text.size()), "multipart/form-data"));
}

TEST(Ascii, AlnumIsCLocaleIsalnumForEveryByte) {
  for (int c = 0; c < 256; ++c)
    EXPECT_EQ(ascii_alnum(static_cast<unsigned char>(c)), std::isalnum(c) != 0) << c;  // tests run in the C locale
}
