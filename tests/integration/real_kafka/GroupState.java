// Prints each consumer group whose id starts with PREFIX: its state, its member count, and
// its committed offsets. Run as a single-file program on the broker's classpath:
//   java -cp "$cache/lib/*" GroupState.java BOOTSTRAP PREFIX
// Output lines: "group <id> <state> members=<n>" then "offset <id> <topic> <partition> <offset>".
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

public class GroupState {
  public static void main(String[] args) throws Exception {
    Properties properties = new Properties();
    properties.put("bootstrap.servers", args[0]);
    try (Admin admin = Admin.create(properties)) {
      List<String> ids = admin.listConsumerGroups().all().get().stream()
          .map(ConsumerGroupListing::groupId)
          .filter(id -> id.startsWith(args[1]))
          .sorted()
          .collect(Collectors.toList());
      Map<String, ConsumerGroupDescription> groups =
          admin.describeConsumerGroups(ids).all().get();
      for (String id : ids) {
        ConsumerGroupDescription group = groups.get(id);
        System.out.println("group " + id + " " + group.groupState() + " members="
            + group.members().size());
        Map<TopicPartition, OffsetAndMetadata> offsets =
            admin.listConsumerGroupOffsets(id).partitionsToOffsetAndMetadata().get();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> entry : offsets.entrySet()) {
          if (entry.getValue() == null) continue;
          System.out.println("offset " + id + " " + entry.getKey().topic() + " "
              + entry.getKey().partition() + " " + entry.getValue().offset());
        }
      }
    }
  }
}
