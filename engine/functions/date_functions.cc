// Date and time arithmetic (TIMESTAMPADD, DATEADD, TIMEADD and their SUB twins),
// CONVERT_TZ, and the TIME and day-number formatters (FORMAT_TIME, PARSE_TIME,
// DATETOSTRING, STRINGTODATE). The unit of an *ADD function is written bare, as in
// TIMESTAMPADD(SECONDS, 5, ts); the analyzer binds it as a STRING literal.
#include "functions/function_builder.h"
#include "functions/temporal_format.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The result type of an *ADD function, after checking its three arguments.
ResultRule AddResult(std::string name, TypeId target) {
  return [name, target](const std::vector<SqlType>& arguments) -> Result<SqlType> {
    auto is = [](const SqlType& type, bool fits) { return fits || type.id() == TypeId::kNull; };
    bool fits = is(arguments[0], arguments[0].id() == TypeId::kString) &&
                is(arguments[1], arguments[1].is_integral()) &&
                is(arguments[2], arguments[2].id() == target);
    if (!fits) {
      std::string written;
      for (const SqlType& type : arguments) {
        written += (written.empty() ? "" : ", ") + type.ToString();
      }
      return Status::BindError("Function '" + name + "' does not accept parameters (" + written +
                               "); it takes (unit, amount INT or BIGINT, " +
                               SqlType(target).ToString() + ")");
    }
    return SqlType(target);
  };
}

// TIMESTAMPADD and friends: `sign` is -1 for the SUB functions; `target` says what the
// third argument counts.
ScalarFactory AddTime(int sign, TypeId target) {
  return [sign, target](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    // A bad unit is an error of each call, as a failing ksqlDB UDF is.
    const Value* unit_name = site.constant(0);
    Result<TimeUnit> unit =
        unit_name == nullptr || unit_name->is_null()
            ? Result<TimeUnit>(Status::InvalidArgument(
                  "The time unit of " + site.name + " must be written as a unit such as SECONDS"))
            : ParseTimeUnit(unit_name->string());
    return Strict([sign, target, unit](Arguments arguments, Value& out) {
      if (!unit.ok()) return unit.status();
      int64_t delta = sign * unit->ToMillis(arguments[1].integer());
      int64_t base = arguments[2].integer();
      if (target == TypeId::kTimestamp) {
        out = Value::Timestamp(base + delta);
      } else if (target == TypeId::kTime) {
        int64_t millis = (base + delta) % kMsPerDay;
        out = Value::Time(static_cast<int32_t>(millis < 0 ? millis + kMsPerDay : millis));
      } else {
        // DATEADD moves by whole days: Java's TimeUnit.toDays truncates.
        out = Value::Date(static_cast<int32_t>(base + delta / kMsPerDay));
      }
      return Status::OK();
    });
  };
}

// A pattern compiled once when the argument is a literal.
Result<std::shared_ptr<const TemporalPattern>> CompileIfConstant(const CallSite& site,
                                                                 size_t index) {
  const Value* constant = site.constant(index);
  if (constant == nullptr || constant->is_null()) return std::shared_ptr<const TemporalPattern>();
  ASSIGN_OR_RAISE(TemporalPattern pattern, TemporalPattern::Compile(constant->string()));
  return std::make_shared<const TemporalPattern>(std::move(pattern));
}

Result<std::shared_ptr<const TemporalPattern>> PatternFor(
    const std::shared_ptr<const TemporalPattern>& fixed, const Value& text) {
  if (fixed) return fixed;
  ASSIGN_OR_RAISE(TemporalPattern pattern, TemporalPattern::Compile(text.string()));
  return std::make_shared<const TemporalPattern>(std::move(pattern));
}

// FORMAT_TIME and DATETOSTRING: the first argument in milliseconds (`unit_ms` per unit).
ScalarFactory FormatAs(int64_t unit_ms) {
  return [unit_ms](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(auto fixed, CompileIfConstant(site, 1));
    return Strict([fixed, unit_ms](Arguments arguments, Value& out) {
      ASSIGN_OR_RAISE(auto pattern, PatternFor(fixed, arguments[1]));
      std::string& text = Scratch();
      pattern->Format(arguments[0].integer() * unit_ms, 0, text);
      out.AssignString(text);
      return Status::OK();
    });
  };
}

// PARSE_TIME (a TIME: milliseconds of the day) and STRINGTODATE (INT days).
ScalarFactory ParseAs(TypeId result) {
  return [result](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(auto fixed, CompileIfConstant(site, 1));
    return Strict([fixed, result](Arguments arguments, Value& out) {
      ASSIGN_OR_RAISE(auto pattern, PatternFor(fixed, arguments[1]));
      ASSIGN_OR_RAISE(int64_t epoch_ms, pattern->Parse(arguments[0].string(), 0));
      int64_t days = FloorDiv(epoch_ms, kMsPerDay);
      if (result == TypeId::kTime) {
        out = Value::Time(static_cast<int32_t>(epoch_ms - days * kMsPerDay));
      } else {
        out = Value::Int(static_cast<int32_t>(days));
      }
      return Status::OK();
    });
  };
}

}  // namespace

void AddDateFunctions(FunctionBuilder& add) {
  using A = Accepts;
  struct Arithmetic {
    const char* name;
    int sign;
    TypeId target;
  };
  for (const Arithmetic& function :
       {Arithmetic{"TIMESTAMPADD", 1, TypeId::kTimestamp},
        Arithmetic{"TIMESTAMPSUB", -1, TypeId::kTimestamp}, Arithmetic{"DATEADD", 1, TypeId::kDate},
        Arithmetic{"DATESUB", -1, TypeId::kDate}, Arithmetic{"TIMEADD", 1, TypeId::kTime},
        Arithmetic{"TIMESUB", -1, TypeId::kTime}}) {
    std::string type = SqlType(function.target).ToString();
    add.Scalar(function.name, {A::kAny, A::kAny, A::kAny}, 0,
               AddResult(function.name, function.target),
               std::string(function.name) + "(unit, amount INT, x " + type + ") -> " + type,
               function.sign > 0 ? "Adds amount units (SECONDS, DAYS, ...) to x."
                                 : "Subtracts amount units (SECONDS, DAYS, ...) from x.",
               false, AddTime(function.sign, function.target));
  }
  add.Scalar("CONVERT_TZ", {A::kTemporal, A::kString, A::kString}, 0, Returns(SqlType::Timestamp()),
             "CONVERT_TZ(ts TIMESTAMP, from_zone STRING, to_zone STRING) -> TIMESTAMP",
             "Reads ts as a wall-clock time in from_zone and gives it in to_zone.", false,
             [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
               // Zones given as literals are looked up once; an unknown one is an error of
               // each call, as in ksqlDB.
               auto zone_at = [&site](size_t index) -> std::optional<Result<TimeZone>> {
                 const Value* name = site.constant(index);
                 if (name == nullptr || name->is_null()) return std::nullopt;
                 return TimeZone::Find(name->string());
               };
               std::optional<Result<TimeZone>> from = zone_at(1), to = zone_at(2);
               return Strict([from, to](Arguments arguments, Value& out) {
                 Result<TimeZone> source = from ? *from : TimeZone::Find(arguments[1].string());
                 Result<TimeZone> target = to ? *to : TimeZone::Find(arguments[2].string());
                 if (!source.ok()) return source.status();
                 if (!target.ok()) return target.status();
                 int64_t wall = arguments[0].integer();
                 int64_t instant = wall - source->OffsetForLocal(wall);
                 out = Value::Timestamp(instant + target->OffsetAt(instant));
                 return Status::OK();
               });
             });
  add.Scalar("FORMAT_TIME", {A::kTemporal, A::kString}, 0, Returns(SqlType::String()),
             "FORMAT_TIME(t TIME, format STRING) -> STRING", "Formats a TIME.", false, FormatAs(1));
  add.Scalar("PARSE_TIME", {A::kString, A::kString}, 0, Returns(SqlType::Time()),
             "PARSE_TIME(s STRING, format STRING) -> TIME", "Parses a TIME.", false,
             ParseAs(TypeId::kTime));
  add.Scalar("DATETOSTRING", {A::kIntegral, A::kString}, 0, Returns(SqlType::String()),
             "DATETOSTRING(days INT, format STRING) -> STRING",
             "Formats a number of days since the epoch.", false, FormatAs(kMsPerDay));
  add.Scalar("STRINGTODATE", {A::kString, A::kString}, 0, Returns(SqlType::Int()),
             "STRINGTODATE(s STRING, format STRING) -> INT",
             "Parses a date to a number of days since the epoch.", false, ParseAs(TypeId::kDate));
}

}  // namespace sidestream::functions
