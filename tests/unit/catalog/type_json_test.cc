#include "catalog/type_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sidestream::catalog {
namespace {

using nlohmann::json;
using types::SqlType;
using types::TypeId;

SqlType RoundTrip(const SqlType& type) {
  Result<SqlType> back = TypeFromJson(json::parse(TypeToJson(type).dump()));
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : SqlType::Null();
}

TEST(TypeJsonTest, EveryScalarRoundTrips) {
  for (TypeId id :
       {TypeId::kBoolean, TypeId::kInt, TypeId::kBigint, TypeId::kDouble, TypeId::kString,
        TypeId::kBytes, TypeId::kTimestamp, TypeId::kDate, TypeId::kTime, TypeId::kNull}) {
    SqlType type(id);
    EXPECT_EQ(RoundTrip(type).id(), id) << type.ToString();
  }
  // The stored names are part of the file format.
  EXPECT_EQ(TypeToJson(SqlType::Int()).dump(), R"({"type":"INT"})");
}

TEST(TypeJsonTest, DecimalKeepsPrecisionAndScale) {
  SqlType back = RoundTrip(SqlType::Decimal(12, 4));
  EXPECT_EQ(back.id(), TypeId::kDecimal);
  EXPECT_EQ(back.precision(), 12);
  EXPECT_EQ(back.scale(), 4);
  EXPECT_NE(back, SqlType::Decimal(12, 3));
}

TEST(TypeJsonTest, NestedTypesRoundTrip) {
  SqlType inner = SqlType::Struct({{"LAT", SqlType::Double()}, {"lon", SqlType::Decimal(9, 6)}});
  SqlType type = SqlType::Struct({
      {"ID", SqlType::Bigint()},
      {"TAGS", SqlType::Array(SqlType::String())},
      {"CELLS", SqlType::Map(SqlType::String(), SqlType::Array(inner))},
      {"EMPTY", SqlType::Struct({})},
  });
  SqlType back = RoundTrip(type);
  EXPECT_EQ(back, type);
  EXPECT_EQ(back.ToString(), type.ToString());
  ASSERT_EQ(back.fields().size(), 4u);
  EXPECT_EQ(back.fields()[2].type.value().element().fields()[1].name, "lon");
  EXPECT_EQ(back.fields()[2].type.value().element().fields()[1].type.scale(), 6);
}

TEST(TypeJsonTest, MalformedDocumentsAreInvalidArgument) {
  const char* documents[] = {
      R"("INT")",
      R"({})",
      R"({"type":"WIDGET"})",
      R"({"type":"DECIMAL","precision":10})",
      R"({"type":"DECIMAL","precision":"10","scale":2})",
      R"({"type":"DECIMAL","precision":99999999999,"scale":2})",
      R"({"type":"ARRAY"})",
      R"({"type":"MAP","key":{"type":"STRING"}})",
      R"({"type":"STRUCT","fields":{}})",
      R"({"type":"STRUCT","fields":[{"type":{"type":"INT"}}]})",
      R"({"type":"STRUCT","fields":[{"name":"A","type":{"type":"NOPE"}}]})",
  };
  for (const char* document : documents) {
    Result<SqlType> type = TypeFromJson(json::parse(document));
    ASSERT_FALSE(type.ok()) << document;
    EXPECT_EQ(type.status().code(), StatusCode::kInvalidArgument) << document;
  }
  Result<SqlType> unknown = TypeFromJson(json::parse(R"({"type":"WIDGET"})"));
  EXPECT_THAT(unknown.status().message(), testing::HasSubstr("WIDGET"));
}

TEST(TypeJsonTest, DeepNestingIsRejectedNotOverflowed) {
  json document = {{"type", "INT"}};
  for (int i = 0; i < 200; ++i) {
    document = json{{"type", "ARRAY"}, {"element", std::move(document)}};
  }
  Result<SqlType> type = TypeFromJson(document);
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(type.status().message(), testing::HasSubstr("deeper"));
}

}  // namespace
}  // namespace sidestream::catalog
