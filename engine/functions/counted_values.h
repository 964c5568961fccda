#pragma once

#include <cstdint>
#include <functional>

#include "types/value.h"

/// A multiset of non-NULL values with their counts: the state of COUNT_DISTINCT and
/// HISTOGRAM. It lives inside a MAP Value, so the changelog codec stores it like any other
/// aggregate state, in one of two layouts:
///  - small (up to kSmallValues values): value0, count0, value1, count1, ... in arrival
///    order, searched linearly: the common case of a few values per group, in one
///    allocation;
///  - hashed: an open-addressing table of 2^k slots (linear probing, at most half full), each
///    slot a value and its count (two NULLs when empty), then the number of values as one
///    last child: the odd number of children marks the layout. Adding a value costs O(1)
///    however many a group holds; the small layout's scan would make a group of n values
///    cost O(n^2).
namespace sidestream::functions::counted_values {

inline constexpr size_t kSmallValues = 16;

/// Adds `delta` (negative: removes) to `value`'s count in `state` (a MAP from Initial()
/// or from earlier calls); a count that reaches zero removes the value. `value` is not NULL.
void Change(types::Value& state, const types::Value& value, int64_t delta);

/// How many distinct values `state` holds.
int64_t Size(const types::Value& state);

/// Calls `visit` with each value and its count, in no particular order.
void ForEach(const types::Value& state,
             const std::function<void(const types::Value&, int64_t)>& visit);

/// `state` as a plain MAP of value -> BIGINT count (HISTOGRAM's result).
types::Value ToMap(const types::Value& state);

}  // namespace sidestream::functions::counted_values
