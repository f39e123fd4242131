package dev.dmalab.report;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Hand-written inline SVG charts: step lines over time, horizontal stacked bars, a stacked histogram and a
 * timeline of intervals. Each chart is one {@code <svg>} element with a {@code viewBox} (it scales with the page),
 * a {@code <title>} for screen readers, hover titles on its marks, and the class {@code plot}; colours come from the
 * Okabe–Ito palette, which stays distinguishable for colour-blind readers. Coordinates are printed with one decimal,
 * so the same data gives the same bytes.
 *
 * <p>A step series with more points than the plot has pixel columns is drawn as its envelope per column (the
 * highest and lowest value in the column, then the last), so peaks survive the downsampling.
 */
public final class Svg {
    /** Okabe–Ito, without its yellow (too light on white). */
    public static final List<String> PALETTE =
            List.of("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#999999");

    static final int WIDTH = 760;
    static final int LEFT = 78;
    static final int RIGHT = 34;
    static final int TOP = 12;
    static final int BOTTOM = 44;

    private Svg() {}

    /** The colour of the {@code i}-th series (the palette repeats past its end). */
    public static String colour(int i) {
        return PALETTE.get(Math.floorMod(i, PALETTE.size()));
    }

    /**
     * Step lines of {@code series} over {@code [startNs, endNs]}.
     *
     * @param title what the chart shows (the SVG's accessible title)
     * @param yFormat how to print a y value
     * @param yLabel the y axis' name
     * @param capacity a dashed line at this value ("limit"), or -1 for none; drawn only when the data comes within
     *     a quarter of it, so that a nearly empty pool is not a flat line on the floor
     * @param capacityLabel the dashed line's label
     */
    public static String steps(
            String id,
            String title,
            List<Series> series,
            long startNs,
            long endNs,
            String yLabel,
            LongFunction<String> yFormat,
            boolean binary,
            long capacity,
            String capacityLabel) {
        int height = 250;
        long max = 1;
        for (Series s : series) {
            max = Math.max(max, s.max());
        }
        boolean showCap = capacity > 0 && capacity <= max + max / 3;
        long top = showCap ? Math.max(max, capacity) : max;
        long yMax = binary ? niceBinary(top) : nice(top);
        long span = Math.max(1, endNs - startNs);
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = height - TOP - BOTTOM;
        StringBuilder sb = open(id, title, height);
        grid(sb, yMax, binary ? ticksBinary(yMax) : ticks(yMax), height, yFormat, yLabel);
        timeAxis(sb, span, height, "simulated time since the first DMA call");
        if (showCap) {
            double y = TOP + plotH - plotH * capacity / yMax;
            sb.append("<line class=\"cap\" x1=\"")
                    .append(f(LEFT))
                    .append("\" x2=\"")
                    .append(f(LEFT + plotW))
                    .append("\" y1=\"")
                    .append(f(y))
                    .append("\" y2=\"")
                    .append(f(y))
                    .append("\" stroke=\"#b00\" stroke-dasharray=\"6 4\"/>\n");
            text(sb, LEFT + plotW - 4, y - 4, "end", " fill=\"#b00\"", capacityLabel);
        }
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            sb.append("<path class=\"series\" data-series=\"")
                    .append(Html.esc(s.name()))
                    .append("\" fill=\"none\" stroke=\"")
                    .append(colour(i))
                    .append("\" stroke-width=\"1.6\" d=\"")
                    .append(stepPath(s, startNs, span, endNs, plotW, plotH, yMax))
                    .append("\"><title>")
                    .append(Html.esc(
                            s.name() + ": peak " + yFormat.apply(s.max()) + ", at the end " + yFormat.apply(s.last())))
                    .append("</title></path>\n");
        }
        return close(sb);
    }

    private static String stepPath(Series s, long t0, long span, long endNs, double plotW, double plotH, long yMax) {
        StringBuilder d = new StringBuilder();
        int n = s.size();
        d.append('M').append(f(LEFT)).append(' ').append(f(y(s.value(0), plotH, yMax)));
        if (n <= 4 * plotW) {
            for (int i = 1; i < n; i++) {
                d.append('H').append(f(x(s.timeNs(i), t0, span, plotW)));
                d.append('V').append(f(y(s.value(i), plotH, yMax)));
            }
        } else {
            int i = 1;
            while (i < n) {
                int col = column(s.timeNs(i), t0, span, plotW);
                long lo = s.value(i);
                long hi = lo;
                long last = lo;
                while (i < n && column(s.timeNs(i), t0, span, plotW) == col) {
                    long v = s.value(i);
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                    last = v;
                    i++;
                }
                d.append('H').append(f(LEFT + col));
                d.append('V').append(f(y(hi, plotH, yMax)));
                d.append('V').append(f(y(lo, plotH, yMax)));
                d.append('V').append(f(y(last, plotH, yMax)));
            }
        }
        d.append('H').append(f(x(endNs, t0, span, plotW)));
        return d.toString();
    }

    private static int column(long t, long t0, long span, double plotW) {
        return (int) Math.min(plotW - 1, Math.floor((t - t0) * plotW / span));
    }

    private static double x(long t, long t0, long span, double plotW) {
        return LEFT + plotW * (double) (t - t0) / span;
    }

    private static double y(long v, double plotH, long yMax) {
        return TOP + plotH - plotH * v / yMax;
    }

    /** One horizontal bar per label, stacked from {@code parts} (each row's values in {@code partNames} order). */
    public static String bars(
            String id,
            String title,
            List<String> labels,
            List<long[]> parts,
            List<String> partNames,
            LongFunction<String> format,
            boolean binary,
            String xLabel) {
        int rowH = 26;
        int height = TOP + BOTTOM + rowH * labels.size();
        long max = 1;
        for (long[] p : parts) {
            long t = 0;
            for (long v : p) {
                t += v;
            }
            max = Math.max(max, t);
        }
        long xMax = binary ? niceBinary(max) : nice(max);
        int left = 190;
        double plotW = WIDTH - left - RIGHT;
        StringBuilder sb = open(id, title, height);
        for (long tick : binary ? ticksBinary(xMax) : ticks(xMax)) {
            xTick(sb, left + plotW * tick / xMax, height, true, format.apply(tick));
        }
        axisLabel(sb, left + plotW / 2, height - 8, xLabel);
        for (int r = 0; r < labels.size(); r++) {
            double y = TOP + r * rowH + 4;
            text(sb, left - 8, y + 13, "end", "", labels.get(r));
            double x = left;
            long[] p = parts.get(r);
            for (int k = 0; k < p.length; k++) {
                double w = plotW * p[k] / xMax;
                if (p[k] > 0) {
                    sb.append("<rect class=\"bar\" x=\"")
                            .append(f(x))
                            .append("\" y=\"")
                            .append(f(y))
                            .append("\" width=\"")
                            .append(f(Math.max(w, 0.5)))
                            .append("\" height=\"18\" fill=\"")
                            .append(colour(k))
                            .append("\"><title>")
                            .append(Html.esc(labels.get(r) + ", " + partNames.get(k) + ": " + format.apply(p[k])))
                            .append("</title></rect>\n");
                }
                x += w;
            }
        }
        return close(sb);
    }

    /**
     * Vertical bars per bucket, stacked by group ({@code counts}: group name → count per bucket, all the same
     * length); only the buckets from the first to the last non-empty one are drawn.
     */
    public static String histogram(
            String id,
            String title,
            List<String> bucketLabels,
            List<String> groups,
            List<long[]> counts,
            String xLabel) {
        int height = 270;
        int first = Integer.MAX_VALUE;
        int last = -1;
        long max = 1;
        for (int b = 0; b < bucketLabels.size(); b++) {
            long t = 0;
            for (long[] c : counts) {
                t += c[b];
            }
            if (t > 0) {
                first = Math.min(first, b);
                last = b;
                max = Math.max(max, t);
            }
        }
        if (last < 0) {
            first = 0;
            last = 0;
        }
        long yMax = nice(max);
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = height - TOP - BOTTOM;
        int n = last - first + 1;
        double slot = plotW / n;
        StringBuilder sb = open(id, title, height);
        grid(sb, yMax, ticks(yMax), height, Html::count, "mappings");
        axisLabel(sb, LEFT + plotW / 2, height - 6, xLabel);
        for (int b = first; b <= last; b++) {
            double x = LEFT + (b - first) * slot;
            text(sb, x + slot / 2, height - BOTTOM + 15, "middle", " class=\"small\"", bucketLabels.get(b));
            long below = 0;
            for (int g = 0; g < counts.size(); g++) {
                long c = counts.get(g)[b];
                if (c == 0) {
                    continue;
                }
                double y0 = y(below, plotH, yMax);
                double y1 = y(below + c, plotH, yMax);
                sb.append("<rect class=\"bar\" x=\"")
                        .append(f(x + slot * 0.12))
                        .append("\" y=\"")
                        .append(f(y1))
                        .append("\" width=\"")
                        .append(f(slot * 0.76))
                        .append("\" height=\"")
                        .append(f(Math.max(y0 - y1, 0.5)))
                        .append("\" fill=\"")
                        .append(colour(g))
                        .append("\"><title>")
                        .append(Html.esc(groups.get(g) + ", " + bucketLabels.get(b) + ": " + Html.count(c)))
                        .append("</title></rect>\n");
                below += c;
            }
        }
        return close(sb);
    }

    /** One interval of {@link #intervals}: a row's label, its colour index, start and end (-1: still open). */
    public record Interval(String label, String tooltip, int colour, long startNs, long endNs) {}

    /** One row per interval over {@code [startNs, endNs]}; an interval still open at the end is drawn hatched. */
    public static String intervals(String id, String title, List<Interval> rows, long startNs, long endNs) {
        int rowH = 13;
        int height = TOP + BOTTOM + rowH * Math.max(1, rows.size());
        long span = Math.max(1, endNs - startNs);
        int left = 150;
        double plotW = WIDTH - left - RIGHT;
        StringBuilder sb = open(id, title, height);
        sb.append("<defs><pattern id=\"")
                .append(id)
                .append("-open\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
                        + " patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#888\"/></pattern>"
                        + "</defs>\n");
        timeTicks(sb, left, plotW, span, height, true);
        axisLabel(sb, left + plotW / 2, height - 8, "simulated time since the first DMA call");
        for (int r = 0; r < rows.size(); r++) {
            Interval iv = rows.get(r);
            double y = TOP + r * rowH + 2;
            text(sb, left - 6, y + 9, "end", " class=\"small\"", iv.label());
            boolean live = iv.endNs() < 0;
            long end = live ? endNs : iv.endNs();
            double x0 = left + plotW * (double) (iv.startNs() - startNs) / span;
            double x1 = left + plotW * (double) (end - startNs) / span;
            sb.append("<rect class=\"bar")
                    .append(live ? " live" : "")
                    .append("\" x=\"")
                    .append(f(x0))
                    .append("\" y=\"")
                    .append(f(y))
                    .append("\" width=\"")
                    .append(f(Math.max(x1 - x0, 1.5)))
                    .append("\" height=\"10\" fill=\"")
                    .append(live ? "url(#" + id + "-open)" : colour(iv.colour()))
                    .append(live ? "\" stroke=\"" + colour(iv.colour()) : "")
                    .append("\"><title>")
                    .append(Html.esc(iv.tooltip()))
                    .append("</title></rect>\n");
        }
        return close(sb);
    }

    // ---------------------------------------------------------------------------------------------------------

    private static StringBuilder open(String id, String title, int height) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("<svg class=\"plot\" id=\"")
                .append(Html.esc(id))
                .append("\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ")
                .append(WIDTH)
                .append(' ')
                .append(height)
                .append("\" role=\"img\" aria-labelledby=\"")
                .append(Html.esc(id))
                .append("-title\">\n<title id=\"")
                .append(Html.esc(id))
                .append("-title\">")
                .append(Html.esc(title))
                .append("</title>\n");
        return sb;
    }

    private static String close(StringBuilder sb) {
        return sb.append("</svg>\n").toString();
    }

    /** Horizontal grid lines and y tick labels, and the y axis name rotated on the left. */
    private static void grid(
            StringBuilder sb, long yMax, List<Long> ticks, int height, LongFunction<String> yFormat, String yLabel) {
        double plotH = height - TOP - BOTTOM;
        for (long tick : ticks) {
            double y = y(tick, plotH, yMax);
            sb.append("<line x1=\"")
                    .append(LEFT)
                    .append("\" x2=\"")
                    .append(WIDTH - RIGHT)
                    .append("\" y1=\"")
                    .append(f(y))
                    .append("\" y2=\"")
                    .append(f(y))
                    .append("\" stroke=\"")
                    .append(tick == 0 ? "#888" : "#e3e3e3")
                    .append("\"/>\n");
            text(sb, LEFT - 6, y + 4, "end", "", yFormat.apply(tick));
        }
        sb.append("<text transform=\"translate(14 ")
                .append(f(TOP + plotH / 2))
                .append(") rotate(-90)\" text-anchor=\"middle\" class=\"axis\">")
                .append(Html.esc(yLabel))
                .append("</text>\n");
    }

    private static void timeAxis(StringBuilder sb, long span, int height, String label) {
        double plotW = WIDTH - LEFT - RIGHT;
        timeTicks(sb, LEFT, plotW, span, height, false);
        axisLabel(sb, LEFT + plotW / 2, height - 8, label);
    }

    /** Time ticks over {@code [0, span]} from x = {@code left}, with vertical grid lines if {@code grid}. */
    private static void timeTicks(StringBuilder sb, double left, double plotW, long span, int height, boolean grid) {
        for (long tick : ticks(nice(span))) {
            if (tick > span) {
                break;
            }
            xTick(sb, left + plotW * tick / span, height, grid, tick == 0 ? "0" : Html.time(tick));
        }
    }

    /** A label under the plot at {@code x}, and a vertical grid line above it if {@code grid}. */
    private static void xTick(StringBuilder sb, double x, int height, boolean grid, String label) {
        if (grid) {
            sb.append("<line x1=\"")
                    .append(f(x))
                    .append("\" x2=\"")
                    .append(f(x))
                    .append("\" y1=\"")
                    .append(TOP)
                    .append("\" y2=\"")
                    .append(height - BOTTOM)
                    .append("\" stroke=\"#e3e3e3\"/>\n");
        }
        text(sb, x, height - BOTTOM + 16, "middle", "", label);
    }

    /**
     * A {@code <text>} at ({@code x}, {@code y}) anchored {@code anchor}; {@code attrs} is more attributes, each with a
     * leading space, or "".
     */
    private static void text(StringBuilder sb, double x, double y, String anchor, String attrs, String label) {
        sb.append("<text x=\"")
                .append(f(x))
                .append("\" y=\"")
                .append(f(y))
                .append("\" text-anchor=\"")
                .append(anchor)
                .append('"')
                .append(attrs)
                .append('>')
                .append(Html.esc(label))
                .append("</text>\n");
    }

    private static void axisLabel(StringBuilder sb, double x, double y, String label) {
        text(sb, x, y, "middle", " class=\"axis\"", label);
    }

    /** The smallest of 1, 2, 2.5, 5 × 10^k (or a power of two times those for bytes-like values) at or above v. */
    static long nice(long v) {
        if (v <= 1) {
            return 1;
        }
        long p = 1;
        while (true) {
            for (long m : new long[] {1, 2, 5}) {
                if (m * p >= v) {
                    return m * p;
                }
            }
            if (p > Long.MAX_VALUE / 10) {
                return v;
            }
            p *= 10;
        }
    }

    /**
     * {@link #nice} in the binary unit (B, KiB, MiB, ...) that keeps {@code v} between 1 and 1023 of it, so that byte
     * axes tick at 50 KiB rather than 48.8 KiB.
     */
    static long niceBinary(long v) {
        long unit = 1;
        while (v / unit >= 1024 && unit <= Long.MAX_VALUE / 1024 / 1024) {
            unit *= 1024;
        }
        long n = nice((v + unit - 1) / unit);
        // 1000 KiB would print as 1000 KiB: round up to the next unit instead
        return n >= 1000 && unit <= Long.MAX_VALUE / 1024 / 1024 ? unit * 1024 : n * unit;
    }

    /** {@link #ticks} for a {@link #niceBinary} maximum: evenly spaced in its binary unit (10 KiB, not 12.5 KiB). */
    static List<Long> ticksBinary(long max) {
        long unit = 1;
        while (max / unit >= 1024 && max % (unit * 1024) == 0) {
            unit *= 1024;
        }
        List<Long> out = new ArrayList<>();
        for (long t : ticks(max / unit)) {
            out.add(t * unit);
        }
        return out;
    }

    /** Five evenly spaced ticks from 0 to {@code max} (a {@link #nice} value), without repeats. */
    static List<Long> ticks(long max) {
        List<Long> out = new ArrayList<>();
        int n = max % 4 == 0 ? 4 : max % 5 == 0 ? 5 : max % 2 == 0 ? 2 : 1;
        for (int i = 0; i <= n; i++) {
            long t = max / n * i;
            if (out.isEmpty() || out.get(out.size() - 1).longValue() != t) {
                out.add(t);
            }
        }
        return out;
    }

    /** {@code v} with one decimal, {@code .0} left out. */
    static String f(double v) {
        long tenths = Math.round(v * 10);
        long whole = tenths / 10;
        long frac = Math.abs(tenths % 10);
        if (frac == 0) {
            return Long.toString(whole);
        }
        return (tenths < 0 && whole == 0 ? "-" : "") + whole + "." + frac;
    }
}
