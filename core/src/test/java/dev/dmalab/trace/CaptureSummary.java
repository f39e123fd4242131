package dev.dmalab.trace;

import dev.dmalab.testing.Captures;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: the event counts a capture's own {@code summary.txt} states. The x86 summaries list {@code event
 * counts:} as {@code name count} (markers included); the arm64 ones list {@code == event counts (dma:* /
 * swiotlb:*)} as {@code count name} (markers excluded) and the function-tracer hits as {@code count fn <- caller}.
 */
final class CaptureSummary {
    private static final Pattern NAME_COUNT = Pattern.compile("^\\s+([a-z_]+)\\s+(\\d+)$");
    private static final Pattern COUNT_NAME = Pattern.compile("^\\s+(\\d+)\\s+([a-z_]+)$");
    private static final Pattern COUNT_FN = Pattern.compile("^\\s+(\\d+)\\s+(\\S+) <- (\\S+)$");

    private CaptureSummary() {}

    /** Event name to count, as the summary states them. */
    static Map<String, Long> eventCounts(String capture) {
        Map<String, Long> out = new LinkedHashMap<>();
        String[] lines = Captures.read(capture, "summary.txt").split("\n");
        boolean in = false;
        for (String l : lines) {
            if (l.equals("event counts:") || l.startsWith("== event counts (dma:*")) {
                in = true;
                continue;
            }
            if (!in) {
                continue;
            }
            Matcher a = NAME_COUNT.matcher(l);
            Matcher b = COUNT_NAME.matcher(l);
            if (a.matches()) {
                out.put(a.group(1), Long.parseLong(a.group(2)));
            } else if (b.matches() && !b.group(2).equals("TOTAL")) {
                out.put(b.group(2), Long.parseLong(b.group(1)));
            } else {
                break;
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no event counts in the summary of " + capture);
        }
        return out;
    }

    /** "fn <-caller" (as the trace prints it) to count, from an arm64 summary's function-tracer section. */
    static Map<String, Long> functionCounts(String capture) {
        Map<String, Long> out = new LinkedHashMap<>();
        boolean in = false;
        for (String l : Captures.read(capture, "summary.txt").split("\n")) {
            if (l.startsWith("== function tracer")) {
                in = true;
                continue;
            }
            if (in) {
                Matcher m = COUNT_FN.matcher(l);
                if (!m.matches()) {
                    break;
                }
                out.put(m.group(2) + " <-" + m.group(3), Long.parseLong(m.group(1)));
            }
        }
        return out;
    }
}
