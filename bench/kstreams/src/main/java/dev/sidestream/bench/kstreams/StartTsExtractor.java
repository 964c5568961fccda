package dev.sidestream.bench.kstreams;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/** Event time is the CDR's start_ts (as ksqlDB's TIMESTAMP='start_ts' would take it). */
final class StartTsExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    Object value = record.value();
    return value instanceof Cdr cdr ? cdr.startTs : partitionTime;
  }
}
