#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

/// The settings of `sidestream serve`: one declarative table, the only place a setting is
/// defined. It is read from a YAML file, `SIDESTREAM_*` environment variables and command-line
/// flags (each overriding the one before), and it generates docs/CONFIG.md.
namespace sidestream::config {

enum class SettingType { kString, kInt, kBool };

/// One row of the table.
struct SettingSpec {
  const char* name;  // "port"
  SettingType type;
  const char* default_value;  // as text
  int64_t min = 0;            // kInt only: inclusive range
  int64_t max = 0;
  const char* doc;
  /// ksqlDB's names for the same thing ("ksql.service.id"); empty when none.
  std::vector<const char*> ksql_names = {};
  /// kString only: the values it takes (compared ignoring case, stored lower-cased); empty
  /// when any.
  std::vector<const char*> choices = {};
};

/// Every setting, in documentation order.
std::span<const SettingSpec> SettingTable();

/// Names with this prefix are librdkafka properties, passed through to every client with
/// the prefix removed ("kafka.security.protocol" sets "security.protocol").
inline constexpr std::string_view kKafkaPrefix = "kafka.";

/// Resolved settings. Thread: immutable once loaded; read from any thread.
class Settings {
 public:
  /// Every setting at its default.
  Settings();

  /// Sets `name` (a table name, a ksqlDB name or a kafka.* property) from `origin`
  /// ("sidestream.yaml", "environment variable SIDESTREAM_PORT", "--port"). InvalidArgument,
  /// naming the setting and the origin, when the name is unknown or the value has the wrong
  /// type or is out of range.
  Status Set(const std::string& name, const std::string& value, const std::string& origin);

  /// Reads a YAML file: nested maps are flattened with dots ("kafka: {acks: all}" sets
  /// "kafka.acks"). IOError when it cannot be read, InvalidArgument when it is not YAML or a
  /// value is rejected.
  Status LoadFile(const std::string& path);

  /// Applies `SIDESTREAM_<NAME>` variables from `environment` ("NAME=value" strings, as
  /// `environ`): the setting's name upper-cased with '.' as '_' (SIDESTREAM_SERVICE_ID);
  /// SIDESTREAM_KAFKA_<PROPERTY> sets kafka.<property> with every '_' as '.'. Variables the
  /// project uses for other things (SIDESTREAM_MODELS_DIR) are left alone; any other
  /// unknown SIDESTREAM_ variable is rejected.
  Status LoadEnvironment(const std::vector<std::string>& environment);

  const std::string& GetString(const std::string& name) const;
  /// Whether `name` was given (file, environment or flag), rather than left at its default.
  bool IsSet(const std::string& name) const { return given_.count(name) > 0; }
  /// What loading accepted but the user should hear of (a deprecated value), naming the
  /// setting and where it came from; cleared by the call.
  std::vector<std::string> TakeWarnings() { return std::exchange(warnings_, {}); }
  int64_t GetInt(const std::string& name) const;
  bool GetBool(const std::string& name) const;

  /// kafka.* properties, prefix removed, in name order.
  std::vector<std::pair<std::string, std::string>> kafka_properties() const;

 private:
  std::map<std::string, std::string> values_;  // by table name
  std::map<std::string, std::string> kafka_;   // without the prefix
  std::set<std::string> given_;                // table names set explicitly
  std::vector<std::string> warnings_;
};

/// Whether processing.guarantee is exactly_once_v2.
bool ExactlyOnce(const Settings& settings);
/// commit.interval.ms as given, else its default: 100 under exactly_once_v2 (Kafka Streams'
/// default there), the table's otherwise.
int64_t CommitIntervalMs(const Settings& settings);

/// docs/CONFIG.md, generated from the table.
std::string SettingsMarkdown();

}  // namespace sidestream::config
