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

TEST(InMemoryRegistryTest, ResolvesReferencesDependenciesFirstAndRefusesCycles) {
  auto registry = MakeInMemorySchemaRegistry("mock://references");
  ASSERT_TRUE(registry->Register("base.proto", SchemaType::kProtobuf, "base").ok());
  ASSERT_TRUE(
      registry
          ->Register("mid.proto", SchemaType::kProtobuf, "mid", {{"base.proto", "base.proto", 1}})
          .ok());
  auto top = registry->Register("t-value", SchemaType::kProtobuf, "top",
                                {{"mid.proto", "mid.proto", 1}, {"base.proto", "base.proto", 1}});
  ASSERT_TRUE(top.ok());
  auto schema = registry->GetById(*top);
  ASSERT_TRUE(schema.ok());
  ASSERT_EQ(schema->references.size(), 2u);
  auto referenced = ReferencedSchemas(*registry, *schema);
  ASSERT_TRUE(referenced.ok()) << referenced.status().ToString();
  // base.proto once, before mid.proto, which imports it.
  ASSERT_EQ(referenced->size(), 2u);
  EXPECT_EQ((*referenced)[0].name, "base.proto");
  EXPECT_EQ((*referenced)[0].schema, "base");
  EXPECT_EQ((*referenced)[1].name, "mid.proto");
  EXPECT_EQ(registry->GetVersion("mid.proto", 1)->schema, "mid");
  EXPECT_EQ(registry->GetVersion("mid.proto", 2).status().code(), StatusCode::kNotFound);

  // A reference to a version that is not there names it.
  auto dangling =
      registry->Register("d-value", SchemaType::kProtobuf, "d", {{"gone.proto", "gone.proto", 3}});
  ASSERT_TRUE(dangling.ok());
  auto missing = ReferencedSchemas(*registry, *registry->GetById(*dangling));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("'gone.proto'"), std::string::npos);

  // a.proto (version 2) references b.proto, which references a.proto's version 2.
  ASSERT_TRUE(registry->Register("a.proto", SchemaType::kProtobuf, "a0").ok());
  ASSERT_TRUE(
      registry->Register("b.proto", SchemaType::kProtobuf, "b", {{"a.proto", "a.proto", 2}}).ok());
  ASSERT_TRUE(
      registry->Register("a.proto", SchemaType::kProtobuf, "a", {{"b.proto", "b.proto", 1}}).ok());
  auto cyclic = ReferencedSchemas(*registry, *registry->GetVersion("a.proto", 2));
  ASSERT_FALSE(cyclic.ok());
  EXPECT_NE(cyclic.status().message().find("cycle"), std::string::npos);
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
