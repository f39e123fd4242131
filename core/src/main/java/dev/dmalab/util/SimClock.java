package dev.dmalab.util;

/**
 * Simulated time in nanoseconds. Nothing in the model reads the wall clock: time advances only when the
 * workload (a scenario step, a trace timestamp) says so, which keeps every run a pure function of its inputs.
 */
public final class SimClock {
    private long nowNs;

    public SimClock() {}

    public SimClock(long startNs) {
        this.nowNs = startNs;
    }

    public long nowNs() {
        return nowNs;
    }

    /** Moves time forward by {@code deltaNs} (>= 0). */
    public void advanceNs(long deltaNs) {
        if (deltaNs < 0) {
            throw new IllegalArgumentException("time cannot go backwards: " + deltaNs);
        }
        nowNs = Math.addExact(nowNs, deltaNs);
    }

    /** Sets the time to {@code ns}, which must not be earlier than now (trace timestamps are monotonic per CPU). */
    public void advanceTo(long ns) {
        if (ns < nowNs) {
            throw new IllegalArgumentException("time cannot go backwards: " + ns + " < " + nowNs);
        }
        nowNs = ns;
    }
}
