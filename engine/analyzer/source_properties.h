#pragma once

#include <string>
#include <vector>

namespace sidestream::analyzer {

enum class PropertyValueType { kString, kInteger, kBoolean };

/// Where a WITH property may appear.
enum class PropertyScope { kDeclaration, kQuery, kBoth };

/// One WITH (...) property of CREATE STREAM|TABLE. This table is the single source of
/// truth: the analyzer validates against it and `sidestream properties` prints it.
struct PropertyDefinition {
  const char* name;
  PropertyValueType type;
  PropertyScope scope;
  const char* default_value;  // "" when none
  const char* doc;
};

/// Every WITH property, in documentation order.
const std::vector<PropertyDefinition>& SourceProperties();

/// Looks up a property by upper-case name; null when unknown.
const PropertyDefinition* FindSourceProperty(const std::string& name);

/// The table as Markdown, for docs/properties.md.
std::string SourcePropertiesMarkdown();

}  // namespace sidestream::analyzer
