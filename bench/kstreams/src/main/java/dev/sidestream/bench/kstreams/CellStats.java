package dev.sidestream.bench.kstreams;

/** W2's aggregate per (cell, window): COUNT(*) and the sum behind AVG(setup_ms). */
public final class CellStats {
  public long calls;
  public long setupMsSum;

  CellStats add(Cdr cdr) {
    calls++;
    setupMsSum += cdr.setupMs;
    return this;
  }

  double averageSetupMs() {
    return calls == 0 ? 0 : (double) setupMsSum / calls;
  }
}
