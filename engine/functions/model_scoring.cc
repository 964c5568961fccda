// PREDICT: scores an XGBoost model (Debian's libxgboost) inside a query. The model is loaded
// once per call site, when the query is created, from the models directory; a missing or
// unreadable model, or one that expects another number of features, fails the CREATE with
// the file's name.
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "functions/numbers.h"
#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

// The directory models are read from: $SIDESTREAM_MODELS_DIR, else ./models.
std::filesystem::path ModelsDirectory() {
  const char* configured = std::getenv("SIDESTREAM_MODELS_DIR");
  return configured != nullptr && *configured != '\0' ? configured : "models";
}

// XGBoost's last error, its first line without the time and source location it starts with
// ("[16:10:31] ./src/c_api/c_api.cc:1073: Check failed: ...") or the stack trace after it.
std::string LastError() {
  std::string message = XGBGetLastError();
  message = message.substr(0, message.find('\n'));
  if (!message.empty() && message.front() == '[') {
    size_t location = message.find("] ");
    size_t text = location == std::string::npos ? location : message.find(": ", location);
    if (text != std::string::npos) message = message.substr(text + 2);
  }
  while (!message.empty() && (message.back() == ' ' || message.back() == ':')) message.pop_back();
  return message;
}

// A loaded booster. Owns its handle; shared by the copies of one call site's body.
// XGBoosterPredict keeps its output in a per-thread buffer, so concurrent calls are safe.
class Model {
 public:
  static Result<std::shared_ptr<const Model>> Load(const std::string& name, size_t features) {
    if (name.empty() || name.find("..") != std::string::npos || name.front() == '/') {
      return Status::InvalidArgument("PREDICT: model name '" + name +
                                     "' must be a file name inside the models directory");
    }
    std::filesystem::path path = ModelsDirectory() / name;
    if (!path.has_extension()) path += ".json";
    auto model = std::shared_ptr<Model>(new Model());
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
      return Status::InvalidArgument("PREDICT: model file " + path.string() +
                                     " does not exist (hint: models are read from "
                                     "$SIDESTREAM_MODELS_DIR, else ./models)");
    }
    if (XGBoosterCreate(nullptr, 0, &model->booster_) != 0 ||
        XGBoosterLoadModel(model->booster_, path.c_str()) != 0) {
      return Status::InvalidArgument("PREDICT: cannot load model file " + path.string() + ": " +
                                     LastError());
    }
    // One thread per prediction: a query scores one row at a time on its task's thread.
    if (XGBoosterSetParam(model->booster_, "nthread", "1") != 0) {
      return Status::InvalidArgument("PREDICT: model file " + path.string() + ": " + LastError());
    }
    bst_ulong expected = 0;
    if (XGBoosterGetNumFeature(model->booster_, &expected) != 0) {
      return Status::InvalidArgument("PREDICT: model file " + path.string() + ": " + LastError());
    }
    if (expected != features) {
      return Status::InvalidArgument("PREDICT: model file " + path.string() + " expects " +
                                     std::to_string(expected) + " features but the call gives " +
                                     std::to_string(features));
    }
    model->path_ = path.string();
    return std::shared_ptr<const Model>(std::move(model));
  }

  ~Model() {
    if (booster_ != nullptr) XGBoosterFree(booster_);
  }

  /// The model's output (a probability for a binary:logistic model) for one row; NaN marks
  /// a missing feature.
  Result<double> Score(const std::vector<float>& row) const {
    DMatrixHandle matrix = nullptr;
    if (XGDMatrixCreateFromMat(row.data(), 1, row.size(), NAN, &matrix) != 0) {
      return Status::InvalidArgument("PREDICT: " + LastError());
    }
    bst_ulong length = 0;
    const float* result = nullptr;
    int failed = XGBoosterPredict(booster_, matrix, 0, 0, 0, &length, &result);
    double score = failed == 0 && length > 0 ? result[0] : NAN;
    XGDMatrixFree(matrix);
    if (failed != 0 || length == 0) {
      return Status::InvalidArgument("PREDICT: scoring with " + path_ + " failed: " + LastError());
    }
    return score;
  }

 private:
  Model() = default;

  BoosterHandle booster_ = nullptr;
  std::string path_;
};

TelecomFunction Predict() {
  TelecomFunction function;
  function.definition.name = "PREDICT";
  function.definition.min_arguments = 2;
  function.definition.max_arguments = -1;
  function.definition.literal_arguments = {0};
  function.definition.signature = "PREDICT('model', feature numeric, ...) -> DOUBLE";
  function.definition.description =
      "Scores an XGBoost model from the models directory ($SIDESTREAM_MODELS_DIR, else "
      "./models; 'name' reads name.json) on the features, in the order it was trained with; "
      "a NULL feature is missing.";
  function.definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    if (!types.empty() && types[0].id() != TypeId::kString && types[0].id() != TypeId::kNull) {
      return Status::BindError("Function PREDICT expects STRING for argument 1 but got " +
                               types[0].ToString());
    }
    for (size_t i = 1; i < types.size(); ++i) {
      if (!types[i].is_numeric() && types[i].id() != TypeId::kNull) {
        return Status::BindError("Function PREDICT expects a numeric type for argument " +
                                 std::to_string(i + 1) + " but got " + types[i].ToString());
      }
    }
    return SqlType::Double();
  };
  function.make_scalar =
      [](const std::vector<SqlType>& types,
         const std::vector<const Value*>& constants) -> Result<std::unique_ptr<ScalarFunction>> {
    const Value* name = constants.empty() ? nullptr : constants[0];
    if (name == nullptr || name->is_null()) {
      return Status::InvalidArgument("PREDICT: the model name must be a non-NULL literal");
    }
    ASSIGN_OR_RAISE(auto model, Model::Load(name->string(), types.size() - 1));
    return std::make_unique<ScalarFunction>(
        [model](std::span<const Value> arguments, Value& out) -> Status {
          thread_local std::vector<float> row;
          row.clear();
          for (size_t i = 1; i < arguments.size(); ++i) {
            row.push_back(
                arguments[i].is_null() ? NAN : static_cast<float>(NumberAsDouble(arguments[i])));
          }
          ASSIGN_OR_RAISE(double score, model->Score(row));
          out = Value::Double(score);
          return Status::OK();
        },
        /*null_on_null=*/false);
  };
  return function;
}

}  // namespace

std::vector<TelecomFunction> ModelScoringFunctions() { return {Predict()}; }

}  // namespace sidestream::functions
