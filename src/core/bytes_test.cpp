#include "core/bytes.hpp"

#include <gtest/gtest.h>

namespace portico::core {
namespace {

TEST(Bytes, Base64IsRfc4648WithPadding) {
  // RFC 4648 §10's test vectors.
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(Bytes, Base64OfMoreThanOneBlock) {
  std::string data(3 * 1024 * 1024 + 4, 'a');
  auto text = base64(data);
  EXPECT_EQ(text.size(), 4 * ((data.size() + 2) / 3));
  EXPECT_EQ(text.substr(text.size() - 8), "YWFhYQ==");
}

TEST(Bytes, HexIsLowerCase) { EXPECT_EQ(hex("\x01\xab"), "01ab"); }

}  // namespace
}  // namespace portico::core
