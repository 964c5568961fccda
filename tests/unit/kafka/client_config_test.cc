#include "connectors/kafka/client_config.h"

#include <gtest/gtest.h>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"

namespace sidestream::kafka {
namespace {

TEST(ClientConfigTest, BuildsConfWithDefaultsThenOverrides) {
  ClientConfig config{"127.0.0.1:9092", {{"linger.ms", "42"}}};
  Result<UniqueConf> conf = BuildConf(config, {{"linger.ms", "5"}, {"client.id", "x"}});
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  char value[64];
  size_t size = sizeof(value);
  ASSERT_EQ(rd_kafka_conf_get(conf->get(), "linger.ms", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "42");
  size = sizeof(value);
  ASSERT_EQ(rd_kafka_conf_get(conf->get(), "bootstrap.servers", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "127.0.0.1:9092");
}

// Under exactly-once a killed producer's open transaction stalls readers and restores until
// the broker aborts it: 10 s (Kafka Streams') rather than librdkafka's 60 s, unless set.
TEST(ClientConfigTest, TransactionalProducerTimesOutAfterTenSeconds) {
  ProducerOptions options;
  options.transactional_id = "app-1";
  auto timeout = [](const ProducerOptions& options) {
    Result<UniqueConf> conf = BuildConf(options.client, ProducerDefaults(options));
    EXPECT_TRUE(conf.ok()) << conf.status().ToString();
    char value[64];
    size_t size = sizeof(value);
    EXPECT_EQ(rd_kafka_conf_get(conf->get(), "transaction.timeout.ms", value, &size),
              RD_KAFKA_CONF_OK);
    return std::string(value);
  };
  EXPECT_EQ(timeout(options), "10000");
  options.client.properties = {{"transaction.timeout.ms", "30000"}};
  EXPECT_EQ(timeout(options), "30000");
  options = ProducerOptions();
  EXPECT_EQ(timeout(options), "60000");  // librdkafka's own, for a producer without transactions
}

TEST(ClientConfigTest, UnknownPropertyIsInvalidArgumentNamingIt) {
  ClientConfig config{"127.0.0.1:9092", {{"no.such.property", "1"}}};
  Result<UniqueConf> conf = BuildConf(config, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conf.status().message().find("no.such.property"), std::string::npos)
      << conf.status().message();
}

TEST(ClientConfigTest, ProducerWithBadPropertyIsInvalidArgument) {
  ProducerOptions options;
  options.client = {"127.0.0.1:9092", {{"linger.ms", "not-a-number"}}};
  auto producer = BatchProducer::Create(options);
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(producer.status().message().find("linger.ms"), std::string::npos);

  options.client = {"127.0.0.1:9092", {{"enable.idempotency", "true"}}};  // misspelt
  producer = BatchProducer::Create(options);
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(producer.status().message().find("enable.idempotency"), std::string::npos);
}

TEST(ClientConfigTest, ConsumerNeedsGroupTopicsAndGoodProperties) {
  ConsumerOptions options;
  options.client = {"127.0.0.1:9092", {}};
  options.topics = {"t"};
  EXPECT_EQ(BatchConsumer::Create(options).status().code(), StatusCode::kInvalidArgument);
  options.group_id = "g";
  options.topics.clear();
  EXPECT_EQ(BatchConsumer::Create(options).status().code(), StatusCode::kInvalidArgument);
  options.topics = {"t"};
  options.client.properties = {{"session.timeout.ms", "-5"}};
  auto consumer = BatchConsumer::Create(options);
  ASSERT_FALSE(consumer.ok());
  EXPECT_EQ(consumer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(consumer.status().message().find("session.timeout.ms"), std::string::npos);
}

TEST(ClientConfigTest, ErrorsAreClassifiedRetriableOrFatal) {
  EXPECT_TRUE(StatusFromError(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  EXPECT_TRUE(StatusFromError(RD_KAFKA_RESP_ERR__TRANSPORT, "x").retriable());
  EXPECT_TRUE(StatusFromError(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "x").retriable());
  EXPECT_TRUE(StatusFromError(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x").retriable());
  EXPECT_TRUE(StatusFromError(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, "x").retriable());
  EXPECT_EQ(StatusFromError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "x").code(),
            StatusCode::kNotFound);
  Status fatal = StatusFromError(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "read t");
  EXPECT_EQ(fatal.code(), StatusCode::kInternal);
  EXPECT_FALSE(fatal.retriable());
  EXPECT_NE(fatal.message().find("read t"), std::string::npos);
  EXPECT_NE(fatal.message().find("[fatal]"), std::string::npos);
}

}  // namespace
}  // namespace sidestream::kafka
