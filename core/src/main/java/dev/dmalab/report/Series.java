package dev.dmalab.report;

import java.util.Arrays;

/**
 * A step function of simulated time: the value changes only at the recorded points and holds in between. Points are
 * kept only where the value changes, in primitive arrays, so a replay of millions of events that rarely changes a
 * value costs little; several points may share a time (the value went up and down within one timestamp), and then
 * the plot shows the peak as a vertical stroke.
 */
public final class Series {
    private final String name;
    private long[] timesNs = new long[64];
    private long[] values = new long[64];
    private int size;
    private long max;

    /**
     * @param name the legend label
     * @param startNs when the series starts
     * @param initial its value then
     */
    public Series(String name, long startNs, long initial) {
        this.name = name;
        timesNs[0] = startNs;
        values[0] = initial;
        size = 1;
        max = initial;
    }

    /** Records {@code value} at {@code timeNs} (not earlier than the last point) if it differs from the last one. */
    public void record(long timeNs, long value) {
        if (value == values[size - 1]) {
            return;
        }
        if (timeNs < timesNs[size - 1]) {
            throw new IllegalArgumentException("time went backwards: " + timeNs + " < " + timesNs[size - 1]);
        }
        if (size == timesNs.length) {
            timesNs = Arrays.copyOf(timesNs, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        timesNs[size] = timeNs;
        values[size] = value;
        size++;
        max = Math.max(max, value);
    }

    /** Moves the start to {@code timeNs} while nothing has been recorded after it (the first event sets it). */
    public void restart(long timeNs) {
        if (size == 1) {
            timesNs[0] = timeNs;
        }
    }

    public String name() {
        return name;
    }

    /** How many points (changes, plus the start). */
    public int size() {
        return size;
    }

    public long timeNs(int i) {
        return timesNs[i];
    }

    public long value(int i) {
        return values[i];
    }

    /** The largest value it ever held. */
    public long max() {
        return max;
    }

    /** The value at the end. */
    public long last() {
        return values[size - 1];
    }

    /** The time of the first point. */
    public long startNs() {
        return timesNs[0];
    }

    /** The time of the last change. */
    public long lastChangeNs() {
        return timesNs[size - 1];
    }
}
