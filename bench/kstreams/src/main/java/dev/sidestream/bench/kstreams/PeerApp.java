package dev.sidestream.bench.kstreams;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.WindowStore;

/**
 * W2 or W3 of bench/README.md as a Kafka Streams application, run until it has aggregated N
 * input records, then closed; prints one JSON line with its records, wall and CPU seconds.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' dev.sidestream.bench.kstreams.PeerApp
 *     --workload W2|W3 --bootstrap-servers HOST:PORT --input TOPIC --output TOPIC
 *     --records N --application-id ID --state-dir DIR
 *     [--cache-max-bytes B (default 0)] [--commit-interval-ms MS (default: Kafka Streams')]
 * </pre>
 *
 * <p>W2: tumbling 1-minute windows (grace 30 s), COUNT(*) and AVG(setup_ms) per cell_id; the
 * input is keyed by caller, so records go through a repartition topic first. W3: hopping
 * 5-minute windows advancing by 1 minute (grace 30 s), COUNT_DISTINCT(callee) per caller (the
 * input key), as an aggregate of a set. Event time is start_ts. With the record cache off
 * (the default here) every update is emitted, as EMIT CHANGES does; state lives in Kafka
 * Streams' default RocksDB window stores with changelog topics.
 *
 * <p>Measured: wall from the first input record seen to the end of close() (outputs flushed,
 * offsets committed); CPU (OperatingSystemMXBean.getProcessCpuTime) from just before start()
 * to the end of close(), so JVM start-up and topology building are left out but every Kafka
 * Streams thread (consumer, producer, RocksDB, GC, JIT) is counted.
 */
public final class PeerApp {
  private PeerApp() {}

  /** Counts input records where the aggregation consumes them; one stream thread writes. */
  static final class Progress {
    final long target;
    final CountDownLatch done = new CountDownLatch(1);
    volatile long firstNanos;
    volatile long doneNanos;
    private long counted;

    Progress(long target) {
      this.target = target;
    }

    void started() {
      if (firstNanos == 0) firstNanos = System.nanoTime();
    }

    void counted() {
      if (++counted == target) {
        doneNanos = System.nanoTime();
        done.countDown();
      }
    }
  }

  static String windowedKey(Windowed<String> window) {
    // The same readable form as Sidestream's windowed result keys.
    return window.key() + "@" + window.window().start() + "/" + window.window().end();
  }

  static void buildW2(StreamsBuilder builder, KStream<String, Cdr> cdrs, Serde<Cdr> cdrSerde,
      String output, Progress progress) {
    cdrs.peek((caller, cdr) -> progress.started())
        .selectKey((caller, cdr) -> cdr.cellId)
        // What groupBy(cell_id) would do; explicit so that records are counted after it.
        .repartition(Repartitioned.<String, Cdr>as("by-cell")
            .withKeySerde(Serdes.String()).withValueSerde(cdrSerde))
        .peek((cell, cdr) -> progress.counted())
        .groupByKey(Grouped.with(Serdes.String(), cdrSerde))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofSeconds(30)))
        .aggregate(CellStats::new, (cell, cdr, stats) -> stats.add(cdr),
            Materialized.<String, CellStats, WindowStore<Bytes, byte[]>>as("cell-stats")
                .withKeySerde(Serdes.String()).withValueSerde(JsonSerde.of(CellStats.class)))
        .toStream()
        .map((window, stats) -> KeyValue.pair(windowedKey(window),
            "{\"CALLS\":" + stats.calls + ",\"AVG_SETUP_MS\":" + stats.averageSetupMs() + "}"))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  static void buildW3(StreamsBuilder builder, KStream<String, Cdr> cdrs, Serde<Cdr> cdrSerde,
      String output, Progress progress) {
    cdrs.peek((caller, cdr) -> {
          progress.started();
          progress.counted();
        })
        .groupByKey(Grouped.with(Serdes.String(), cdrSerde)) // keyed by caller: no repartition
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofSeconds(30))
            .advanceBy(Duration.ofMinutes(1)))
        .aggregate(Callees::new, (caller, cdr, callees) -> callees.add(cdr),
            Materialized.<String, Callees, WindowStore<Bytes, byte[]>>as("callees")
                .withKeySerde(Serdes.String()).withValueSerde(JsonSerde.of(Callees.class)))
        .toStream()
        .map((window, callees) -> KeyValue.pair(windowedKey(window),
            "{\"DISTINCT_CALLEES\":" + callees.callees.size() + "}"))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  static Map<String, String> parseArgs(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("bad option " + args[i]);
      options.put(args[i].substring(2), args[i + 1]);
    }
    for (String required : new String[] {"workload", "bootstrap-servers", "input", "output",
        "records", "application-id", "state-dir"}) {
      if (!options.containsKey(required)) {
        throw new IllegalArgumentException("missing --" + required);
      }
    }
    return options;
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    // One WARN line per late record would cost CPU and flood stderr; they are counted in the
    // dropped-records metric, which the result reports.
    System.setProperty(
        "org.slf4j.simpleLogger.log.org.apache.kafka.streams.kstream.internals", "error");
    Map<String, String> options = parseArgs(args);
    String workload = options.get("workload");
    long records = Long.parseLong(options.get("records"));
    long cacheMaxBytes = Long.parseLong(options.getOrDefault("cache-max-bytes", "0"));

    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, options.get("application-id"));
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, options.get("bootstrap-servers"));
    config.put(StreamsConfig.STATE_DIR_CONFIG, options.get("state-dir"));
    config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1); // Sidestream runs on one thread too
    config.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheMaxBytes);
    if (options.containsKey("commit-interval-ms")) {
      config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, options.get("commit-interval-ms"));
    }
    // at_least_once (the default) or exactly_once_v2: the commit interval then defaults to
    // 100 ms, as Sidestream's does.
    String guarantee = options.getOrDefault("processing-guarantee", "at_least_once");
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);

    Progress progress = new Progress(records);
    Serde<Cdr> cdrSerde = JsonSerde.of(Cdr.class);
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, Cdr> cdrs = builder.stream(options.get("input"),
        Consumed.with(Serdes.String(), cdrSerde).withTimestampExtractor(new StartTsExtractor()));
    switch (workload) {
      case "W2" -> buildW2(builder, cdrs, cdrSerde, options.get("output"), progress);
      case "W3" -> buildW3(builder, cdrs, cdrSerde, options.get("output"), progress);
      default -> throw new IllegalArgumentException("unknown workload " + workload);
    }

    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    KafkaStreams streams = new KafkaStreams(builder.build(), config);
    streams.setUncaughtExceptionHandler(exception -> {
      System.err.println("PeerApp: stream thread failed: " + exception);
      progress.done.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    long cpuStart = os.getProcessCpuTime();
    streams.start();
    long timeoutSeconds = Long.parseLong(options.getOrDefault("timeout-seconds", "900"));
    boolean finished = progress.done.await(timeoutSeconds, TimeUnit.SECONDS);
    double dropped = 0; // late records (window closed), summed over tasks
    for (Metric metric : streams.metrics().values()) {
      if (metric.metricName().name().equals("dropped-records-total")) {
        dropped += ((Number) metric.metricValue()).doubleValue();
      }
    }
    streams.close(Duration.ofSeconds(60));
    long closedNanos = System.nanoTime();
    long cpuEnd = os.getProcessCpuTime();
    if (!finished || progress.doneNanos == 0) {
      System.err.println("PeerApp: did not aggregate " + records + " records (timeout or failure)");
      System.exit(1);
    }
    double wall = (closedNanos - progress.firstNanos) / 1e9;
    double cpu = (cpuEnd - cpuStart) / 1e9;
    System.out.printf(
        "{\"engine\":\"kafka-streams\",\"version\":\"%s\",\"workload\":\"%s\",\"records\":%d,"
            + "\"wall_seconds\":%.3f,\"processing_seconds\":%.3f,\"cpu_seconds\":%.3f,"
            + "\"jvm_cpu_seconds\":%.3f,\"records_per_s\":%.0f,\"records_per_s_per_core\":%.0f,"
            + "\"late_records\":%.0f,\"cache_max_bytes\":%d,\"commit_interval_ms\":%d,"
            + "\"stream_threads\":1,\"processing_guarantee\":\"%s\"}%n",
        AppInfoParser.getVersion(), workload, records, wall,
        (progress.doneNanos - progress.firstNanos) / 1e9, cpu, cpuEnd / 1e9, records / wall,
        records / cpu, dropped, cacheMaxBytes,
        new StreamsConfig(config).getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG), guarantee);
  }
}
