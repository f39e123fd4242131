package dev.dmalab.trace;

/**
 * One line of an ftrace text capture: the standard prefix and the typed payload.
 *
 * @param line 1-based line number in the input
 * @param timestampNs the timestamp in nanoseconds (the text has microseconds)
 * @param text the line as read (for reports that quote their context)
 */
public record TraceRecord(
        int line,
        String comm,
        int pid,
        int cpu,
        String flags,
        long timestampNs,
        String eventName,
        TraceEvent event,
        String text) {}
