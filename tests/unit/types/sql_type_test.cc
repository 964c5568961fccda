#include "types/sql_type.h"

#include <gtest/gtest.h>

namespace sidestream::types {
namespace {

TEST(SqlTypeTest, PrintsKsqlDbSpelling) {
  EXPECT_EQ(SqlType::Int().ToString(), "INTEGER");
  EXPECT_EQ(SqlType::Decimal(6, 2).ToString(), "DECIMAL(6, 2)");
  EXPECT_EQ(SqlType::Map(SqlType::String(), SqlType::Array(SqlType::Bigint())).ToString(),
            "MAP<STRING, ARRAY<BIGINT>>");
  EXPECT_EQ(SqlType::Struct({{"A", SqlType::Int()}, {"b", SqlType::String()}}).ToString(),
            "STRUCT<`A` INTEGER, `b` STRING>");
}

TEST(SqlTypeTest, EqualityLooksIntoChildrenAndDecimalScale) {
  EXPECT_EQ(SqlType::Array(SqlType::Int()), SqlType::Array(SqlType::Int()));
  EXPECT_NE(SqlType::Array(SqlType::Int()), SqlType::Array(SqlType::Bigint()));
  EXPECT_NE(SqlType::Decimal(6, 2), SqlType::Decimal(6, 3));
  EXPECT_NE(SqlType::Struct({{"A", SqlType::Int()}}), SqlType::Struct({{"B", SqlType::Int()}}));
}

TEST(SqlTypeTest, NamesResolveCaseInsensitively) {
  EXPECT_EQ(*ScalarTypeFromName("varchar"), SqlType::String());
  EXPECT_EQ(*ScalarTypeFromName("Integer"), SqlType::Int());
  EXPECT_EQ(ScalarTypeFromName("BLOB").status().code(), StatusCode::kNotFound);
}

TEST(SqlTypeTest, NumericWidening) {
  EXPECT_EQ(*CommonNumericType(SqlType::Int(), SqlType::Bigint()), SqlType::Bigint());
  EXPECT_EQ(*CommonNumericType(SqlType::Bigint(), SqlType::Double()), SqlType::Double());
  EXPECT_EQ(*CommonNumericType(SqlType::Int(), SqlType::Decimal(4, 2)), SqlType::Decimal(12, 2));
  EXPECT_FALSE(CommonNumericType(SqlType::String(), SqlType::Int()).ok());
}

TEST(SqlTypeTest, ConversionsAndCasts) {
  EXPECT_TRUE(ImplicitlyConvertible(SqlType::Int(), SqlType::Double()));
  EXPECT_FALSE(ImplicitlyConvertible(SqlType::Double(), SqlType::Int()));
  EXPECT_TRUE(ImplicitlyConvertible(SqlType::Null(), SqlType::Array(SqlType::Int())));
  EXPECT_TRUE(Castable(SqlType::String(), SqlType::Int()));
  EXPECT_TRUE(Castable(SqlType::Array(SqlType::Int()), SqlType::String()));
  EXPECT_FALSE(Castable(SqlType::String(), SqlType::Struct({{"F", SqlType::Int()}})));
  // ksqlDB: "Cast of STRING to ARRAY<INTEGER> is not supported", and so for MAP.
  EXPECT_FALSE(Castable(SqlType::String(), SqlType::Array(SqlType::Int())));
  EXPECT_FALSE(Castable(SqlType::String(), SqlType::Map(SqlType::String(), SqlType::Int())));
}

}  // namespace
}  // namespace sidestream::types
