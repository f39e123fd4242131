package dev.dmalab.report;

import java.util.Locale;

/** Escaping and number formatting for the report: HTML text and attributes, byte counts, simulated times. */
public final class Html {
    private Html() {}

    /** {@code s} as HTML text or attribute value ({@code & < > " '} escaped); null as the empty string. */
    public static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String r =
                    switch (c) {
                        case '&' -> "&amp;";
                        case '<' -> "&lt;";
                        case '>' -> "&gt;";
                        case '"' -> "&quot;";
                        case '\'' -> "&#39;";
                        default -> null;
                    };
            if (r != null) {
                if (sb == null) {
                    sb = new StringBuilder(s.length() + 16).append(s, 0, i);
                }
                sb.append(r);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** A byte count in binary units: {@code 0 B}, {@code 4 KiB}, {@code 1.5 MiB} (up to TiB). */
    public static String bytes(long n) {
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
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A fraction as a percentage with two decimals ({@code 99.72%}); {@code -} for NaN. */
    public static String pct(double f) {
        return Double.isNaN(f) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * f);
    }

    /** Counts by name as {@code a 2, b 1} in the map's order, or {@code none}. */
    public static String counts(java.util.Map<String, Long> counts) {
        if (counts.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) ->
                sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        return sb.toString();
    }

    /** A duration or instant in simulated nanoseconds, in the largest unit that keeps it readable. */
    public static String time(long ns) {
        long a = Math.abs(ns);
        if (a < 1_000) {
            return ns + " ns";
        }
        if (a < 1_000_000) {
            return trim(ns / 1e3) + " µs";
        }
        if (a < 1_000_000_000) {
            return trim(ns / 1e6) + " ms";
        }
        return trim(ns / 1e9) + " s";
    }

    /** A count with thousands separators: {@code 12,345}. */
    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** {@code v} with at most three significant decimals and no trailing zeros. */
    static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.3f", v);
        if (s.indexOf('.') >= 0) {
            int end = s.length();
            while (s.charAt(end - 1) == '0') {
                end--;
            }
            if (s.charAt(end - 1) == '.') {
                end--;
            }
            s = s.substring(0, end);
        }
        return s;
    }
}
