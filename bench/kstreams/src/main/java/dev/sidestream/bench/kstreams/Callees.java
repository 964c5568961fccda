package dev.sidestream.bench.kstreams;

import java.util.HashSet;
import java.util.Set;

/** W3's aggregate per (caller, window): the set behind COUNT_DISTINCT(callee). */
public final class Callees {
  public Set<String> callees = new HashSet<>();

  Callees add(Cdr cdr) {
    // COUNT_DISTINCT ignores NULL, as in ksqlDB.
    if (cdr.callee != null) callees.add(cdr.callee);
    return this;
  }
}
