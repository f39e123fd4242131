package dev.dmalab.scenario;

import dev.dmalab.check.DmaFinding;
import dev.dmalab.kernel.OopsReport;
import java.util.List;
import java.util.SortedMap;

/**
 * The result of one workload run.
 *
 * @param failures what went wrong, one plain sentence each (empty when ok)
 * @param counters named counts (maps, bytes bounced, stale bytes, ...), sorted by name
 * @param oops the crash report when the outcome is {@link Outcome#OOPS}, else null
 * @param findings what the model's checks reported, one line each (each also makes the outcome {@link
 *     Outcome#FAILED}): the kernel-side checks first, then the DMA checker's
 * @param checks the DMA checker's findings in full (empty when no checker was attached)
 * @param checksSuppressed dma-debug errors the checker counted but did not report (past {@code num_errors} or
 *     filtered out)
 * @param unsupported why the workload did not run, when the outcome is {@link Outcome#UNSUPPORTED}, else null
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
        List<String> findings,
        List<DmaFinding> checks,
        long checksSuppressed,
        String unsupported) {
    public RunResult {
        failures = List.copyOf(failures);
        findings = List.copyOf(findings);
        checks = List.copyOf(checks);
    }
}
