package dev.dmalab.trace;

/**
 * One line of an ftrace text capture: the standard prefix and the typed payload.
 *
 * @param line 1-based line number in the input
 * @param timestampNs the timestamp in nanoseconds (the text has microseconds)
 * @param source the line as read (for reports that quote their context); see {@link #text()}
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
        TraceLine source) {

    /** The line as read, decoded on demand. */
    public String text() {
        return source.toString();
    }
}
