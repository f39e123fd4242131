package dev.dmalab.scenario;

import dev.dmalab.kernel.OopsReport;
import java.util.List;
import java.util.SortedMap;

/**
 * The result of one workload run.
 *
 * @param failures what went wrong, one plain sentence each (empty when ok)
 * @param counters named counts (maps, bytes bounced, stale bytes, ...), sorted by name
 * @param oops the crash report when the outcome is {@link Outcome#OOPS}, else null
 * @param findings what the model's checks reported (each also makes the outcome {@link Outcome#FAILED})
 */
public record RunResult(
        String workload,
        String platform,
        String kernel,
        long seed,
        Outcome outcome,
        List<String> failures,
        SortedMap<String, Long> counters,
        OopsReport oops,
        List<String> findings) {}
