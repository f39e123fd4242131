package dev.dmalab.cli;

/** Human-readable byte counts in binary units, and simulated times. */
final class Units {
    private Units() {}

    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (v == Math.rint(v)) {
            return (long) v + " " + units[u];
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
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
