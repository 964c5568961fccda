#include "connectors/registry/schema_registry.h"

#include <gtest/gtest.h>

namespace sidestream::registry {
namespace {

TEST(WireHeaderTest, RoundTripsTheSchemaId) {
  std::string bytes;
  AppendWireHeader(0x01020304, bytes);
  bytes += "body";
  ASSERT_EQ(bytes.size(), kWireHeaderBytes + 4);
  EXPECT_EQ(bytes.substr(0, 5), std::string("\x00\x01\x02\x03\x04", 5));
  auto message = ParseWireHeader(bytes);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->schema_id, 0x01020304);
  EXPECT_EQ(message->payload, "body");
}

TEST(WireHeaderTest, RejectsShortMessagesAndOtherMagicBytes) {
  auto short_message = ParseWireHeader(std::string("\x00\x00\x01", 3));
  ASSERT_FALSE(short_message.ok());
  EXPECT_NE(short_message.status().message().find("3 bytes is shorter"), std::string::npos);
  auto magic = ParseWireHeader(std::string("\x01\x00\x00\x00\x01", 5));
  ASSERT_FALSE(magic.ok());
  EXPECT_NE(magic.status().message().find("magic byte 1"), std::string::npos);
}

TEST(InMemoryRegistryTest, RegistersOnceAndServesLatest) {
  auto registry = MakeInMemorySchemaRegistry("mock://unit");
  auto first = registry->Register("t-value", SchemaType::kAvro, R"("int")");
  auto again = registry->Register("t-value", SchemaType::kAvro, R"("int")");
  auto second = registry->Register("t-value", SchemaType::kAvro, R"("long")");
  ASSERT_TRUE(first.ok() && again.ok() && second.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*first, *second);
  auto latest = registry->GetLatest("t-value");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id, *second);
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(registry->GetById(*first)->schema, R"("int")");
  EXPECT_EQ(registry->GetById(77).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry->GetLatest("nope").status().code(), StatusCode::kNotFound);
}

TEST(SharedRegistryTest, OneClientPerUrl) {
  auto a = SharedSchemaRegistry("mock://shared");
  auto b = SharedSchemaRegistry("mock://shared");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(SharedSchemaRegistry("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SharedSchemaRegistry("ftp://x").status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpRegistryTest, UnreachableRegistryIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto registry = MakeHttpSchemaRegistry("http://127.0.0.1:1");
  auto schema = registry->GetById(1);
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(schema.status().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace sidestream::registry
