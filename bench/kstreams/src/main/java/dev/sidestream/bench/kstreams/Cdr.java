package dev.sidestream.bench.kstreams;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The fields of a call detail record (shared/cdr/SCHEMA.md) that W2 and W3 read. Jackson
 * skips the other fields of the JSON value, as a Kafka Streams user's POJO would.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class Cdr {
  @JsonProperty("callee")
  public String callee; // null for DATA records

  @JsonProperty("start_ts")
  public long startTs; // event time, epoch ms

  @JsonProperty("setup_ms")
  public int setupMs;

  @JsonProperty("cell_id")
  public String cellId;
}
