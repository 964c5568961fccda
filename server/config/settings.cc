#include "server/config/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <sstream>

namespace sidestream::config {

namespace {

// The table. Keep it the only place a setting is defined: the server, the flags and
// docs/CONFIG.md all read it.
const std::vector<SettingSpec>& Table() {
  static const std::vector<SettingSpec> table = {
      {"host", SettingType::kString, "127.0.0.1", 0, 0,
       "Address the REST API listens on. A sidecar shares its pod's loopback, so the default "
       "keeps the API off the network."},
      {"port", SettingType::kInt, "8088", 0, 65535,
       "Port of the REST API, for HTTP/1.1 and HTTP/2 (h2c) alike. 0 picks a free port, which "
       "is printed at start."},
      {"bootstrap.servers",
       SettingType::kString,
       "",
       0,
       0,
       "Kafka bootstrap servers (host:port,...). Empty starts the embedded broker (librdkafka's "
       "mock cluster) on loopback.",
       {"ksql.streams.bootstrap.servers"}},
      {"service.id",
       SettingType::kString,
       "sidestream",
       0,
       0,
       "Prefix of the consumer groups of persistent queries (<service.id>_<query id>).",
       {"ksql.service.id"}},
      {"command.topic.enabled", SettingType::kBool, "false", 0, 0,
       "Share one catalog between the instances with the same service.id through ksqlDB's "
       "command topic (_confluent-ksql-<service.id>_command_topic, one partition, kept "
       "forever). Statements that change the catalog or the persistent queries are appended "
       "to it and every instance runs them in order, so a persistent query sent to any "
       "instance runs on all of them, which share its partitions. Each instance keeps its copy "
       "of the catalog in <state.dir>/<service.id>/catalog.db and resumes after the last "
       "command it applied; without that file it rebuilds the catalog from the topic. false: "
       "one instance, its catalog in memory."},
      {"commit.interval.ms",
       SettingType::kInt,
       "2000",
       0,
       3600000,
       "How often a persistent query commits its offsets, after its state and outputs are "
       "delivered. 0 commits after every poll. Under processing.guarantee=exactly_once_v2 the "
       "default is 100, as in Kafka Streams.",
       {"ksql.streams.commit.interval.ms"}},
      {"processing.guarantee",
       SettingType::kString,
       "at_least_once",
       0,
       0,
       "What a crash may cost (Kafka Streams' guarantee). at_least_once: offsets are committed "
       "after the outputs they caused are delivered, so records since the last commit are "
       "processed again and their outputs written twice. exactly_once_v2 (KIP-447): each commit "
       "is one Kafka transaction holding outputs, changelog writes and input offsets; consumers "
       "read committed records only, and a read_committed reader sees each input's effect once. "
       "Needs a real broker (the embedded one does not hide aborted records). commit.interval.ms "
       "defaults to 100 under it, and transaction.timeout.ms to 10000 (Kafka Streams' value; "
       "librdkafka's is 60000): a killed process's open transaction holds back readers, and the "
       "restores of its tasks' next owners, until the broker aborts it after that long "
       "(kafka.transaction.timeout.ms sets it). exactly_once and exactly_once_beta are taken "
       "as exactly_once_v2, with a warning.",
       {"ksql.streams.processing.guarantee"},
       {"at_least_once", "exactly_once_v2"}},
      {"num.stream.threads",
       SettingType::kInt,
       "0",
       0,
       64,
       "Threads that run the persistent queries' tasks; every query's partitions spread over "
       "them. 0: one per core on a real broker, and one on a mock broker (the embedded one, or "
       "`sidestream broker`), whose group coordinator refuses commits while members rejoin (a "
       "group of several members there reprocesses records or stalls).",
       {"ksql.streams.num.stream.threads"}},
      {"default.partitions", SettingType::kInt, "4", 1, 1024,
       "Partitions of topics created for declared sources without PARTITIONS, on the embedded "
       "broker."},
      {"idle.timeout.ms", SettingType::kInt, "5000", 0, 86400000,
       "With no input for this long, stream time follows the wall clock so that windows close "
       "while every source is quiet."},
      {"state.store",
       SettingType::kString,
       "memory",
       0,
       0,
       "Where persistent queries keep their state: `memory` (every task restores its state "
       "from its changelog topics in full when it starts) or `rocksdb` (RocksDB under "
       "state.dir, checkpointed at each commit, so a task that restarts on the same disk "
       "replays only the changelogs' tail).",
       {},
       {"memory", "rocksdb"}},
      {"state.dir",
       SettingType::kString,
       "/tmp/sidestream/state",
       0,
       0,
       "Directory of the RocksDB state stores (state.store rocksdb): "
       "<state.dir>/<service.id>/<stage>_<partition>/<store>. Give each instance its own, on a "
       "volume that outlives the container (a StatefulSet's), or every restart restores in full.",
       {"ksql.streams.state.dir"}},
      {"num.standby.replicas",
       SettingType::kInt,
       "0",
       0,
       16,
       "Standby replicas (state.store rocksdb only; refused with memory stores). 1 or more: this "
       "instance keeps a warm copy of every task of every persistent query that it does not "
       "run itself, in RocksDB under state.dir, caught up from the task's changelog partitions "
       "about once a second (read directly, without a consumer group) and checkpointed; when "
       "the group moves a task here (an instance died or left), it replays only the "
       "changelogs' tail past that checkpoint. The group's assignor (librdkafka's, which "
       "cannot be steered) does not know about the copies, so every value from 1 up acts as "
       "instances - 1: every instance keeps a copy of every task it does not run, which costs "
       "that task's disk and changelog reads on each instance. A task moved to an instance "
       "that has no warm copy (a new instance, or before its first pass) restores from the "
       "changelogs as without standbys. 0: no copies.",
       {"ksql.streams.num.standby.replicas"}},
      {"state.rocksdb.memory.bytes", SettingType::kInt, "134217728", 8388608, 1099511627776,
       "RocksDB's memory for the whole process (state.store rocksdb): one block cache shared by "
       "every store, with the stores' memtables (at most half of it) charged to it."},
      {"state.cache.max.bytes", SettingType::kInt, "67108864", 0, 1099511627776,
       "The RocksDB stores' write caches over the whole process, split evenly between the open "
       "stores: entries changed since the last commit, and recently read ones. Unlike Kafka "
       "Streams' cache.max.bytes.buffering it does not hold back results."},
      {"max.body.bytes", SettingType::kInt, "1048576", 1024, 268435456,
       "Largest request body the REST API accepts; a larger one gets 413."},
      {"max.push.queries",
       SettingType::kInt,
       "100",
       0,
       100000,
       "Most transient push queries running at once; one more gets 429.",
       {"ksql.query.push.max.concurrent"}},
      {"push.v2.enabled",
       SettingType::kBool,
       "true",
       0,
       0,
       "Scalable push queries: a push query (EMIT CHANGES, no JOIN, WINDOW, GROUP BY, "
       "PARTITION BY or HAVING, auto.offset.reset latest) on a stream or table that one "
       "persistent query running here writes reads that query's results in process as they "
       "are produced: no consumer group and no query of its own. It sees rows from the "
       "moment it starts. false: every push query runs as a query of its own. A request may "
       "turn it off for one query with the property ksql.query.push.v2.enabled=false.",
       {"ksql.query.push.v2.enabled"}},
      {"push.query.max.queued.bytes", SettingType::kInt, "4194304", 65536, 1073741824,
       "Most bytes of a push query's rows that may wait for a client that reads slowly (and, "
       "for a scalable push query, of its source's records waiting for it); past it the "
       "query ends with an error in its stream and is counted in "
       "sidestream_push_queries_dropped_total."},
      {"log.level",
       SettingType::kString,
       "info",
       0,
       0,
       "Least severe log lines written to stderr. librdkafka's lines are included, at their "
       "own severity.",
       {},
       {"trace", "debug", "info", "warn", "error", "off"}},
      {"log.format",
       SettingType::kString,
       "text",
       0,
       0,
       "Log lines as text (time, level, message) or json (one object per line: time, level, "
       "logger, message), for log collectors.",
       {},
       {"text", "json"}},
      {"queries.file",
       SettingType::kString,
       "",
       0,
       0,
       "A SQL file run at start, before the API listens (a Kubernetes ConfigMap's queries): "
       "an error in it stops the server with the error and its line:column. Empty: none.",
       {"ksql.queries.file"}},
      {"shutdown.timeout.ms", SettingType::kInt, "30000", 1000, 3600000,
       "On SIGTERM or SIGINT the server commits, closes its stores and leaves its consumer "
       "groups; if that takes longer than this, it exits anyway (code 1). Keep it below the "
       "pod's terminationGracePeriodSeconds. A second signal exits at once."},
      {"max.persistent.queries",
       SettingType::kInt,
       "1000",
       0,
       100000,
       "Most persistent queries (CREATE ... AS SELECT, INSERT INTO ... SELECT) running at once; "
       "a statement that would start one more gets 429.",
       {"ksql.query.persistent.active.limit"}},
      {"schema.registry.url",
       SettingType::kString,
       "",
       0,
       0,
       "The schema registry (Confluent's REST API, e.g. http://127.0.0.1:8081 or Apicurio's "
       "http://HOST:PORT/apis/ccompat/v7) that AVRO and JSON_SR use: schemas are registered "
       "under <topic>-value and <topic>-key, and read by the id in each message. Empty: AVRO "
       "and JSON_SR are read and written as plain JSON.",
       {"ksql.schema.registry.url"}},
      {"auth.basic.users", SettingType::kString, "", 0, 0,
       "HTTP basic authentication: comma-separated user:password pairs. When this or "
       "auth.bearer.tokens is set, every route but /chc/live needs a credential: none gets 401, "
       "a wrong one 403. Shown masked by SHOW PROPERTIES."},
      {"auth.bearer.tokens", SettingType::kString, "", 0, 0,
       "Bearer token authentication (Authorization: Bearer <token>): comma-separated tokens that "
       "are accepted. Shown masked by SHOW PROPERTIES."},
  };
  return table;
}

const SettingSpec* Find(const std::string& name) {
  for (const SettingSpec& spec : Table()) {
    if (name == spec.name) return &spec;
    for (const char* alias : spec.ksql_names) {
      if (name == alias) return &spec;
    }
  }
  return nullptr;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Status Rejected(const std::string& name, const std::string& origin, const std::string& why) {
  return Status::InvalidArgument("setting '" + name + "' from " + origin + ": " + why);
}

// Environment variables of the project that are not settings.
constexpr const char* kNotSettings[] = {"SIDESTREAM_MODELS_DIR", "SIDESTREAM_GOLDEN_REWRITE",
                                        "SIDESTREAM_KAFKA_CACHE"};

Status Flatten(const YAML::Node& node, const std::string& prefix, const std::string& origin,
               Settings& settings) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      std::string key = entry.first.as<std::string>();
      RETURN_NOT_OK(
          Flatten(entry.second, prefix.empty() ? key : prefix + "." + key, origin, settings));
    }
    return Status::OK();
  }
  if (node.IsNull()) return Status::OK();
  if (!node.IsScalar()) {
    return Rejected(prefix, origin, "expected a single value, not a list");
  }
  return settings.Set(prefix, node.Scalar(), origin);
}

}  // namespace

std::span<const SettingSpec> SettingTable() { return Table(); }

Settings::Settings() {
  for (const SettingSpec& spec : Table()) values_[spec.name] = spec.default_value;
}

Status Settings::Set(const std::string& name, const std::string& value, const std::string& origin) {
  if (name.starts_with(kKafkaPrefix)) {
    std::string property = name.substr(kKafkaPrefix.size());
    if (property.empty()) return Rejected(name, origin, "a kafka.* property needs a name");
    kafka_[property] = value;
    return Status::OK();
  }
  const SettingSpec* spec = Find(name);
  if (spec == nullptr) {
    return Rejected(name, origin,
                    "unknown setting (see docs/CONFIG.md; librdkafka properties go under "
                    "kafka.)");
  }
  given_.insert(spec->name);
  switch (spec->type) {
    case SettingType::kString: {
      if (spec->choices.empty()) break;
      std::string lower = Lower(value);
      // Kafka Streams' older names of the same guarantee (exactly_once, its v1, was removed
      // in Kafka 4.0; ksqlDB still takes it): mean v2, and say so.
      if (std::string_view(spec->name) == "processing.guarantee" &&
          (lower == "exactly_once" || lower == "exactly_once_beta")) {
        warnings_.push_back("setting '" + name + "' from " + origin + ": '" + value +
                            "' is deprecated; it runs as exactly_once_v2");
        lower = "exactly_once_v2";
      }
      std::string allowed;
      for (const char* choice : spec->choices) {
        if (lower == choice) {
          values_[spec->name] = lower;
          return Status::OK();
        }
        allowed += (allowed.empty() ? "" : ", ") + std::string(choice);
      }
      return Rejected(name, origin, "'" + value + "' is not one of " + allowed);
    }
    case SettingType::kInt: {
      int64_t number = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (error != std::errc() || end != value.data() + value.size()) {
        return Rejected(name, origin, "'" + value + "' is not an integer");
      }
      if (number < spec->min || number > spec->max) {
        return Rejected(name, origin,
                        value + " is out of range [" + std::to_string(spec->min) + ", " +
                            std::to_string(spec->max) + "]");
      }
      break;
    }
    case SettingType::kBool: {
      std::string lower = Lower(value);
      if (lower != "true" && lower != "false") {
        return Rejected(name, origin, "'" + value + "' is not true or false");
      }
      values_[spec->name] = lower;
      return Status::OK();
    }
  }
  values_[spec->name] = value;
  return Status::OK();
}

Status Settings::LoadFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::IOError("cannot read the config file " + path);
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument(path + ": not YAML: " + error.what());
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a map of settings");
  try {
    return Flatten(root, "", path, *this);
  } catch (const YAML::Exception& error) {
    return Status::InvalidArgument(path + ": " + error.what());
  }
}

Status Settings::LoadEnvironment(const std::vector<std::string>& environment) {
  constexpr std::string_view kPrefix = "SIDESTREAM_";
  for (const std::string& entry : environment) {
    if (!entry.starts_with(kPrefix)) continue;
    size_t equals = entry.find('=');
    if (equals == std::string::npos) continue;
    std::string variable = entry.substr(0, equals);
    std::string value = entry.substr(equals + 1);
    if (std::find(std::begin(kNotSettings), std::end(kNotSettings), variable) !=
        std::end(kNotSettings)) {
      continue;
    }
    std::string origin = "environment variable " + variable;
    std::string rest = Lower(variable.substr(kPrefix.size()));
    if (rest.starts_with("kafka_")) {
      std::string property = rest.substr(6);
      std::replace(property.begin(), property.end(), '_', '.');
      RETURN_NOT_OK(Set(std::string(kKafkaPrefix) + property, value, origin));
      continue;
    }
    const SettingSpec* match = nullptr;
    for (const SettingSpec& spec : Table()) {
      std::string name = spec.name;
      std::replace(name.begin(), name.end(), '.', '_');
      if (name == rest) match = &spec;
    }
    if (match == nullptr) {
      return Rejected(rest, origin, "unknown setting (see docs/CONFIG.md)");
    }
    RETURN_NOT_OK(Set(match->name, value, origin));
  }
  return Status::OK();
}

const std::string& Settings::GetString(const std::string& name) const { return values_.at(name); }

int64_t Settings::GetInt(const std::string& name) const {
  const std::string& text = values_.at(name);
  int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return number;
}

bool Settings::GetBool(const std::string& name) const { return values_.at(name) == "true"; }

std::vector<std::pair<std::string, std::string>> Settings::kafka_properties() const {
  return {kafka_.begin(), kafka_.end()};
}

bool ExactlyOnce(const Settings& settings) {
  return settings.GetString("processing.guarantee") == "exactly_once_v2";
}

int64_t CommitIntervalMs(const Settings& settings) {
  if (!settings.IsSet("commit.interval.ms") && ExactlyOnce(settings)) return 100;
  return settings.GetInt("commit.interval.ms");
}

std::string SettingsMarkdown() {
  std::ostringstream out;
  out << "# Settings of `sidestream serve`\n\n"
      << "Generated from the table in `server/config/settings.cc` by `sidestream settings`; do "
         "not edit.\n\n"
      << "Each setting is read, in increasing precedence, from the YAML file given with "
         "`--config` (nested maps are joined with dots), from a `SIDESTREAM_<NAME>` environment "
         "variable (the name upper-cased, dots as underscores), and from the command line "
         "(`--set name=value`, or the named flags `--host`, `--port` and "
         "`--bootstrap-servers`). An unknown setting or a value out of range stops the server "
         "with a message naming the setting and where the value came from.\n\n"
      << "Any `kafka.<property>` (environment: `SIDESTREAM_KAFKA_<PROPERTY>`, underscores as "
         "dots) is passed to every librdkafka client as `<property>`.\n\n"
      << "| name | type | default | range | ksqlDB name | description |\n"
      << "|---|---|---|---|---|---|\n";
  for (const SettingSpec& spec : Table()) {
    const char* type = spec.type == SettingType::kInt    ? "integer"
                       : spec.type == SettingType::kBool ? "boolean"
                                                         : "string";
    std::string range = spec.type == SettingType::kInt
                            ? std::to_string(spec.min) + " to " + std::to_string(spec.max)
                            : "";
    for (const char* choice : spec.choices) {
      range += (range.empty() ? "`" : ", `") + std::string(choice) + "`";
    }
    std::string aliases;
    for (const char* alias : spec.ksql_names) {
      aliases += (aliases.empty() ? "`" : ", `") + std::string(alias) + "`";
    }
    std::string default_value =
        *spec.default_value ? "`" + std::string(spec.default_value) + "`" : "(empty)";
    out << "| `" << spec.name << "` | " << type << " | " << default_value << " | " << range << " | "
        << aliases << " | " << spec.doc << " |\n";
  }
  return out.str();
}

}  // namespace sidestream::config
