#include "auth/base64url.hpp"

#include <gtest/gtest.h>

using portico::auth::base64url_decode;
using portico::auth::base64url_encode;

TEST(Base64Url, EncodesWithUrlAlphabetAndNoPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff\xfe"), "-__-");
}

TEST(Base64Url, RoundTripsAllByteValuesAndLengths) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= bytes.size(); ++len) {
    auto text = base64url_encode(bytes.substr(0, len));
    auto back = base64url_decode(text);
    ASSERT_TRUE(back) << len;
    EXPECT_EQ(*back, bytes.substr(0, len));
  }
}

TEST(Base64Url, DecodesKnownValues) {
  EXPECT_EQ(base64url_decode("eyJhbGciOiJSUzI1NiJ9"), R"({"alg":"RS256"})");
  EXPECT_EQ(base64url_decode("-__-"), "\xfb\xff\xfe");
  EXPECT_EQ(base64url_decode(""), "");
}

TEST(Base64Url, RefusesAnythingButCanonicalUnpaddedUrlAlphabet) {
  for (const char* bad : {"Zg==", "Zm8=", "+/+/", "Zm9v\n", " Zm9v", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9", "Zm\x80v", "Zm9v."})
    EXPECT_FALSE(base64url_decode(bad)) << bad;
  EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)));
}
