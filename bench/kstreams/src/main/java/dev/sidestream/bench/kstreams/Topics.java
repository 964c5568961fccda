package dev.sidestream.bench.kstreams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Creates or deletes topics, for bench/peer/run.py (the broker jars carry no kafka-topics tool).
 *
 * <pre>
 * Topics BOOTSTRAP create PARTITIONS [name=value ...] TOPIC...  (configs for every TOPIC)
 * Topics BOOTSTRAP delete TOPIC...
 * </pre>
 */
public final class Topics {
  private Topics() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    try (Admin admin = Admin.create(config)) {
      if (args[1].equals("create")) {
        int partitions = Integer.parseInt(args[2]);
        Map<String, String> topicConfigs = new HashMap<>();
        List<NewTopic> topics = new ArrayList<>();
        for (String arg : Arrays.copyOfRange(args, 3, args.length)) {
          int equals = arg.indexOf('=');
          if (equals > 0) {
            topicConfigs.put(arg.substring(0, equals), arg.substring(equals + 1));
          } else {
            topics.add(new NewTopic(arg, partitions, (short) 1).configs(topicConfigs));
          }
        }
        admin.createTopics(topics).all().get();
      } else if (args[1].equals("delete")) {
        admin.deleteTopics(Arrays.asList(args).subList(2, args.length)).all().get();
      } else {
        throw new IllegalArgumentException("usage: Topics BOOTSTRAP create|delete ...");
      }
    }
  }
}
