// Geo functions for location jobs: GEOHASH groups points by area (and keys geofence joins),
// GEO_WITHIN tests a point against a circular geofence.
#include <cmath>

#include "functions/numbers.h"
#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::SqlType;
using types::Value;

namespace {

constexpr int kMaxGeohashPrecision = 12;  // 12 characters: cells of about 4 cm

Status CheckCoordinates(const char* function, double lat, double lon) {
  if (std::fabs(lat) > 90 || std::fabs(lon) > 180 || std::isnan(lat) || std::isnan(lon)) {
    return Status::InvalidArgument(std::string(function) +
                                   ": latitudes must be within [-90, 90] and longitudes within "
                                   "[-180, 180]");
  }
  return Status::OK();
}

Status CheckPrecision(int64_t precision) {
  if (precision < 1 || precision > kMaxGeohashPrecision) {
    return Status::InvalidArgument("GEOHASH precision must be between 1 and " +
                                   std::to_string(kMaxGeohashPrecision) + " but is " +
                                   std::to_string(precision));
  }
  return Status::OK();
}

// The standard geohash (geohash.org): bits alternate longitude and latitude, each halving
// its interval, five bits to a base-32 character.
void EncodeGeohash(double lat, double lon, int precision, std::string& out) {
  static constexpr char kBase32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  double lat_range[2] = {-90.0, 90.0};
  double lon_range[2] = {-180.0, 180.0};
  out.clear();
  bool longitude = true;
  int bits = 0;
  int character = 0;
  while (static_cast<int>(out.size()) < precision) {
    double* range = longitude ? lon_range : lat_range;
    double value = longitude ? lon : lat;
    double middle = (range[0] + range[1]) / 2;
    character <<= 1;
    if (value >= middle) {
      character |= 1;
      range[0] = middle;
    } else {
      range[1] = middle;
    }
    longitude = !longitude;
    if (++bits == 5) {
      out += kBase32[character];
      bits = 0;
      character = 0;
    }
  }
}

TelecomFunction Geohash() {
  TelecomFunction function;
  function.definition.name = "GEOHASH";
  function.definition.min_arguments = 3;
  function.definition.max_arguments = 3;
  function.definition.signature = "GEOHASH(lat, lon, precision INT) -> STRING";
  function.definition.description =
      "The geohash cell (1 to 12 characters) that holds the point, for grouping by area.";
  function.definition.resolve = TelecomTyping(
      "GEOHASH", {TelecomArgument::kNumeric, TelecomArgument::kNumeric, TelecomArgument::kIntegral},
      SqlType::String());
  function.make_scalar =
      [](const std::vector<SqlType>&,
         const std::vector<const Value*>& constants) -> Result<std::unique_ptr<ScalarFunction>> {
    // A literal precision is checked once, so a bad one fails the CREATE.
    if (constants.size() > 2 && constants[2] != nullptr && !constants[2]->is_null()) {
      RETURN_NOT_OK(CheckPrecision(constants[2]->integer()));
    }
    return std::make_unique<ScalarFunction>(
        [](std::span<const Value> arguments, Value& out) -> Status {
          double lat = NumberAsDouble(arguments[0]);
          double lon = NumberAsDouble(arguments[1]);
          RETURN_NOT_OK(CheckCoordinates("GEOHASH", lat, lon));
          RETURN_NOT_OK(CheckPrecision(arguments[2].integer()));
          thread_local std::string hash;
          EncodeGeohash(lat, lon, static_cast<int>(arguments[2].integer()), hash);
          out.AssignString(hash);
          return Status::OK();
        },
        /*null_on_null=*/true);
  };
  return function;
}

TelecomFunction GeoWithin() {
  TelecomFunction function;
  function.definition.name = "GEO_WITHIN";
  function.definition.min_arguments = 5;
  function.definition.max_arguments = 5;
  function.definition.signature =
      "GEO_WITHIN(lat, lon, centre_lat, centre_lon, radius_km) -> BOOLEAN";
  function.definition.description =
      "True when the point is at most radius_km from the centre (haversine, R = 6371 km): a "
      "circular geofence.";
  const auto numeric = TelecomArgument::kNumeric;
  function.definition.resolve = TelecomTyping(
      "GEO_WITHIN", {numeric, numeric, numeric, numeric, numeric}, SqlType::Boolean());
  function.make_scalar =
      [](const std::vector<SqlType>&,
         const std::vector<const Value*>&) -> Result<std::unique_ptr<ScalarFunction>> {
    return std::make_unique<ScalarFunction>(
        [](std::span<const Value> arguments, Value& out) -> Status {
          double lat = NumberAsDouble(arguments[0]);
          double lon = NumberAsDouble(arguments[1]);
          double centre_lat = NumberAsDouble(arguments[2]);
          double centre_lon = NumberAsDouble(arguments[3]);
          double radius_km = NumberAsDouble(arguments[4]);
          RETURN_NOT_OK(CheckCoordinates("GEO_WITHIN", lat, lon));
          RETURN_NOT_OK(CheckCoordinates("GEO_WITHIN", centre_lat, centre_lon));
          if (!(radius_km >= 0)) {
            return Status::InvalidArgument("GEO_WITHIN: the radius must be a number >= 0 but is " +
                                           JavaDoubleString(radius_km));
          }
          out = Value::Boolean(HaversineDistance(lat, lon, centre_lat, centre_lon, 6371.0) <=
                               radius_km);
          return Status::OK();
        },
        /*null_on_null=*/true);
  };
  return function;
}

}  // namespace

double HaversineDistance(double lat1, double lon1, double lat2, double lon2, double radius) {
  // Radians as Java 8's Math.toRadians computes them.
  auto radians = [](double degrees) { return degrees / 180.0 * M_PI; };
  auto haversin = [](double angle) { return std::pow(std::sin(angle / 2), 2); };
  double delta_lat = radians(lat2 - lat1);
  double delta_lon = radians(lon2 - lon1);
  double a =
      haversin(delta_lat) + haversin(delta_lon) * std::cos(radians(lat1)) * std::cos(radians(lat2));
  // Rounding can lift a past 1 for antipodal points, where asin would give NaN.
  return 2 * std::asin(std::sqrt(std::min(a, 1.0))) * radius;
}

std::vector<TelecomFunction> GeoFunctions() { return {Geohash(), GeoWithin()}; }

}  // namespace sidestream::functions
