package dev.dmalab.cli;

import dev.dmalab.report.Html;

/** Human-readable byte counts in binary units, and simulated times. */
final class Units {
    private Units() {}

    static String bytes(long n) {
        return Html.bytes(n);
    }

    /** A simulated duration in microseconds with one decimal: {@code 401.0 µs}. */
    static String span(long ns) {
        return String.format(java.util.Locale.ROOT, "%.1f µs", ns / 1000.0);
    }

    /** Simulated nanoseconds as microseconds: {@code t=12.000 µs}. */
    static String micros(long ns) {
        return String.format(java.util.Locale.ROOT, "t=%.3f µs", ns / 1000.0);
    }
}
