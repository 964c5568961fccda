#include "connectors/redis/redis_writer.h"

#include <hiredis/hiredis.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>

namespace sidestream::redis {

namespace {

constexpr std::string_view kRetriableReplies[] = {"LOADING",    "BUSY",     "READONLY",   "OOM",
                                                  "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"};

bool RetriableReply(std::string_view error) {
  for (std::string_view prefix : kRetriableReplies) {
    if (error.starts_with(prefix)) return true;
  }
  return false;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string PartitionField(std::string_view topic, int32_t partition) {
  return std::string(topic) + "/" + std::to_string(partition);
}

}  // namespace

struct RedisWriter::Parser {
  simdjson::ondemand::parser parser;
};

Result<RedisAddress> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument("redis.url '" + std::string(url) +
                                   "' must start with redis:// (redis://host:port/db)");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisAddress address;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view user_info = rest.substr(0, at);
    const size_t colon = user_info.find(':');
    address.password =
        std::string(colon == std::string_view::npos ? user_info : user_info.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  std::string_view host_port = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    host_port = rest.substr(0, slash);
    std::string_view database = rest.substr(slash + 1);
    if (!database.empty()) {
      auto [end, error] =
          std::from_chars(database.data(), database.data() + database.size(), address.database);
      if (error != std::errc() || end != database.data() + database.size() ||
          address.database < 0) {
        return Status::InvalidArgument("redis.url '" + std::string(url) +
                                       "': the database must be a number");
      }
    }
  }
  std::string_view host = host_port;
  if (size_t colon = host_port.rfind(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    std::string_view port = host_port.substr(colon + 1);
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), address.port);
    if (error != std::errc() || end != port.data() + port.size() || address.port <= 0 ||
        address.port > 65535) {
      return Status::InvalidArgument("redis.url '" + std::string(url) + "': bad port");
    }
  }
  if (host.empty()) {
    return Status::InvalidArgument("redis.url '" + std::string(url) + "' names no host");
  }
  address.host = std::string(host);
  return address;
}

RedisWriter::RedisWriter(RedisWriterOptions options, RedisAddress address)
    : options_(std::move(options)),
      address_(std::move(address)),
      offsets_key_("sidestream:connector:" + options_.connector + ":offsets"),
      parser_(std::make_unique<Parser>()) {}

RedisWriter::~RedisWriter() { Disconnect(); }

Result<std::unique_ptr<RedisWriter>> RedisWriter::Create(RedisWriterOptions options) {
  ASSIGN_OR_RAISE(RedisAddress address, ParseRedisUrl(options.url));
  if (options.key_template.empty()) {
    return Status::InvalidArgument("the Redis key template is empty (e.g. 'cell:{KEY}')");
  }
  if (options.max_transaction_records == 0) options.max_transaction_records = 1;
  return std::unique_ptr<RedisWriter>(new RedisWriter(std::move(options), std::move(address)));
}

void RedisWriter::Disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

Status RedisWriter::ConnectionError(const char* doing) {
  std::string message = "Redis at " + address_.host + ":" + std::to_string(address_.port) + ": " +
                        doing + ": " +
                        (context_ != nullptr ? std::string(context_->errstr) : "no connection");
  Disconnect();
  return Status::Unavailable(message);
}

Status RedisWriter::Connect() {
  if (context_ != nullptr) return Status::OK();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout);
  timeval timeout{static_cast<time_t>(seconds.count()),
                  static_cast<suseconds_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               options_.timeout - seconds)
                                               .count())};
  context_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, timeout);
  if (context_ == nullptr) return Status::Unavailable("Redis: cannot allocate a connection");
  if (context_->err != 0) return ConnectionError("connect");
  if (redisSetTimeout(context_, timeout) != REDIS_OK) return ConnectionError("set timeout");
  auto simple = [&](std::vector<std::string> words) -> Status {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& word : words) {
      argv.push_back(word.data());
      lengths.push_back(word.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) return ConnectionError(words[0].c_str());
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string error(reply->str, reply->len);
      Disconnect();
      return Status::InvalidArgument("Redis refused " + words[0] + ": " + error);
    }
    return Status::OK();
  };
  if (!address_.password.empty()) RETURN_NOT_OK(simple({"AUTH", address_.password}));
  if (address_.database != 0) RETURN_NOT_OK(simple({"SELECT", std::to_string(address_.database)}));
  return Status::OK();
}

Status RedisWriter::LoadOffsets(std::span<const sink::SinkRecord> records) {
  std::vector<std::pair<std::string, int32_t>> missing;
  for (const sink::SinkRecord& record : records) {
    if (offsets_.count(std::pair<std::string_view, int32_t>(record.topic, record.partition))) {
      continue;
    }
    std::pair<std::string, int32_t> partition(std::string(record.topic), record.partition);
    if (std::find(missing.begin(), missing.end(), partition) == missing.end()) {
      missing.push_back(std::move(partition));
    }
  }
  if (missing.empty()) return Status::OK();
  for (const auto& [topic, partition] : missing) {
    std::string field = PartitionField(topic, partition);
    const char* argv[] = {"HGET", offsets_key_.data(), field.data()};
    const size_t lengths[] = {4, offsets_key_.size(), field.size()};
    if (redisAppendCommandArgv(context_, 3, argv, lengths) != REDIS_OK) {
      return ConnectionError("queue HGET");
    }
  }
  for (const auto& partition : missing) {
    redisReply* raw = nullptr;
    if (redisGetReply(context_, reinterpret_cast<void**>(&raw)) != REDIS_OK) {
      return ConnectionError("read the stored offsets");
    }
    Reply reply(raw);
    int64_t offset = -1;
    if (reply->type == REDIS_REPLY_STRING) {
      auto [end, error] = std::from_chars(reply->str, reply->str + reply->len, offset);
      if (error != std::errc() || end != reply->str + reply->len) {
        return Status::Corruption("Redis hash " + offsets_key_ + " holds a bad offset for " +
                                  PartitionField(partition.first, partition.second));
      }
    } else if (reply->type == REDIS_REPLY_ERROR) {
      std::string error(reply->str, reply->len);
      if (RetriableReply(error)) return Status::Unavailable("Redis: " + error);
      return Status::Internal("Redis refused reading " + offsets_key_ + ": " + error);
    }
    offsets_[partition] = offset;
  }
  return Status::OK();
}

Result<int64_t> RedisWriter::StoredOffset(std::string_view topic, int32_t partition) {
  RETURN_NOT_OK(Connect());
  return sink::ReloadOffset(
      offsets_, topic, partition,
      [this](std::span<const sink::SinkRecord> records) { return LoadOffsets(records); });
}

void RedisWriter::AppendCommand() {
  redisAppendCommandArgv(context_, static_cast<int>(arguments_.size()), arguments_.data(),
                         argument_lengths_.data());
}

bool RedisWriter::AppendRow(const sink::SinkRecord& record, std::string& reason) {
  key_.clear();
  sink::ExpandKeyTemplate(options_.key_template, *record.key, record.topic, key_);
  arguments_.clear();
  argument_lengths_.clear();
  auto argument = [&](std::string_view text) {
    arguments_.push_back(text.data());
    argument_lengths_.push_back(text.size());
  };
  if (!record.value) {
    argument("DEL");
    argument(key_);
    AppendCommand();
    return true;
  }
  if (options_.mode == RedisMode::kString) {
    argument("SET");
    argument(key_);
    argument(*record.value);
    AppendCommand();
    return true;
  }
  // Hash: the value's top-level fields. simdjson's views stay valid until the next parse.
  padded_.assign(*record.value);
  padded_.reserve(record.value->size() + simdjson::SIMDJSON_PADDING);
  simdjson::padded_string_view input(padded_.data(), padded_.size(), padded_.capacity());
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser_->parser.iterate(input).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    reason = "the value is not a JSON object (hash mode needs one)";
    return false;
  }
  argument("HSET");
  argument(key_);
  null_fields_.clear();
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view name;
    simdjson::ondemand::json_type type;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(name) != simdjson::SUCCESS ||
        field.value().type().get(type) != simdjson::SUCCESS) {
      reason = "the value is not valid JSON";
      return false;
    }
    std::string_view text;
    simdjson::error_code error = simdjson::SUCCESS;
    switch (type) {
      case simdjson::ondemand::json_type::null:
        null_fields_.push_back(name);
        continue;
      case simdjson::ondemand::json_type::string:
        error = field.value().get_string().get(text);
        break;
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object nested;
        error = field.value().get_object().get(nested);
        if (error == simdjson::SUCCESS) error = nested.raw_json().get(text);
        break;
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array nested;
        error = field.value().get_array().get(nested);
        if (error == simdjson::SUCCESS) error = nested.raw_json().get(text);
        break;
      }
      default:
        text = TrimRight(field.value().raw_json_token());
        break;
    }
    if (error != simdjson::SUCCESS) {
      reason = "the value is not valid JSON";
      return false;
    }
    argument(name);
    argument(text);
  }
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) {
    reason = "the value has trailing content after its JSON object";
    return false;
  }
  if (arguments_.size() == 2) {
    // No field to set: the row is empty, which Redis stores as no hash at all.
    arguments_[0] = "DEL";
    argument_lengths_[0] = 3;
    AppendCommand();
    return true;
  }
  AppendCommand();
  if (!null_fields_.empty()) {
    command_records_.push_back(command_records_.back());
    arguments_.resize(2);
    argument_lengths_.resize(2);
    arguments_[0] = "HDEL";
    argument_lengths_[0] = 4;
    for (std::string_view name : null_fields_) argument(name);
    AppendCommand();
  }
  return true;
}

Status RedisWriter::WriteTransaction(std::span<const sink::SinkRecord> records, size_t first_index,
                                     sink::WriteResult& result) {
  RETURN_NOT_OK(LoadOffsets(records));
  const size_t rejected_before = result.rejected.size();
  sink::SelectLatest(records, offsets_, selected_, result);
  for (size_t i = rejected_before; i < result.rejected.size(); ++i) {
    result.rejected[i].index += first_index;
  }
  sink::OffsetCache highest = sink::HighestOffsets(records);
  // Partitions whose records were all skipped need no offset write.
  for (auto it = highest.begin(); it != highest.end();) {
    it = it->second <= offsets_[it->first] ? highest.erase(it) : std::next(it);
  }
  if (highest.empty()) return Status::OK();

  const char* multi[] = {"MULTI"};
  const size_t multi_length[] = {5};
  redisAppendCommandArgv(context_, 1, multi, multi_length);
  command_records_.clear();
  int64_t upserts = 0, deletes = 0;
  for (size_t index : selected_) {
    const sink::SinkRecord& record = records[index];
    std::string reason;
    command_records_.push_back(index);
    if (!AppendRow(record, reason)) {
      command_records_.pop_back();
      result.rejected.push_back({first_index + index, std::move(reason)});
      continue;
    }
    ++(record.value ? upserts : deletes);
  }
  // The offsets, in the same transaction as the rows.
  std::vector<std::string> fields;
  arguments_.clear();
  argument_lengths_.clear();
  arguments_.push_back("HSET");
  argument_lengths_.push_back(4);
  arguments_.push_back(offsets_key_.data());
  argument_lengths_.push_back(offsets_key_.size());
  fields.reserve(highest.size() * 2);
  for (const auto& [partition, offset] : highest) {
    fields.push_back(PartitionField(partition.first, partition.second));
    fields.push_back(std::to_string(offset));
  }
  for (const std::string& field : fields) {
    arguments_.push_back(field.data());
    argument_lengths_.push_back(field.size());
  }
  AppendCommand();
  const char* exec[] = {"EXEC"};
  const size_t exec_length[] = {4};
  redisAppendCommandArgv(context_, 1, exec, exec_length);

  // Replies: +OK to MULTI, +QUEUED per command, then EXEC's array.
  const size_t queued = command_records_.size() + 1;
  std::string queue_error;
  for (size_t i = 0; i < 1 + queued; ++i) {
    redisReply* raw = nullptr;
    if (redisGetReply(context_, reinterpret_cast<void**>(&raw)) != REDIS_OK) {
      return ConnectionError("write a transaction");
    }
    Reply reply(raw);
    if (reply->type == REDIS_REPLY_ERROR && queue_error.empty()) {
      queue_error.assign(reply->str, reply->len);
    }
  }
  redisReply* raw = nullptr;
  if (redisGetReply(context_, reinterpret_cast<void**>(&raw)) != REDIS_OK) {
    return ConnectionError("read EXEC's reply");
  }
  Reply reply(raw);
  if (reply->type != REDIS_REPLY_ARRAY) {
    std::string error =
        reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "no array";
    if (!queue_error.empty()) error += " (" + queue_error + ")";
    // Nothing of the transaction was applied.
    if (RetriableReply(queue_error) || RetriableReply(error)) {
      return Status::Unavailable("Redis: " + error);
    }
    return Status::Internal("Redis refused a transaction: " + error);
  }
  if (reply->elements != queued) {
    return Status::Internal("Redis EXEC returned " + std::to_string(reply->elements) +
                            " replies for " + std::to_string(queued) + " commands");
  }
  for (size_t i = 0; i + 1 < queued; ++i) {
    const redisReply* element = reply->element[i];
    if (element->type != REDIS_REPLY_ERROR) continue;
    const size_t index = command_records_[i];
    // A row's HDEL follows its HSET: one rejection per record.
    if (i > 0 && command_records_[i - 1] == index &&
        reply->element[i - 1]->type == REDIS_REPLY_ERROR) {
      continue;
    }
    result.rejected.push_back(
        {first_index + index, "Redis refused: " + std::string(element->str, element->len)});
    const sink::SinkRecord& record = records[index];
    --(record.value ? upserts : deletes);
  }
  const redisReply* stored = reply->element[queued - 1];
  if (stored->type == REDIS_REPLY_ERROR) {
    return Status::Internal("Redis refused storing offsets in " + offsets_key_ + ": " +
                            std::string(stored->str, stored->len));
  }
  result.upserts += upserts;
  result.deletes += deletes;
  for (const auto& [partition, offset] : highest) offsets_[partition] = offset;
  return Status::OK();
}

Result<sink::WriteResult> RedisWriter::Write(std::span<const sink::SinkRecord> records) {
  sink::WriteResult result;
  RETURN_NOT_OK(Connect());
  for (size_t first = 0; first < records.size(); first += options_.max_transaction_records) {
    const size_t count = std::min(options_.max_transaction_records, records.size() - first);
    RETURN_NOT_OK(WriteTransaction(records.subspan(first, count), first, result));
  }
  return result;
}

}  // namespace sidestream::redis
