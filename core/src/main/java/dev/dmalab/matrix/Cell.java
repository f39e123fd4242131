package dev.dmalab.matrix;

import dev.dmalab.check.DmaFinding;
import dev.dmalab.kernel.OopsReport;
import java.util.List;

/**
 * The result of one cell: one platform, one kernel version.
 *
 * @param outcome how it ended
 * @param findings how many findings the kernel's checks and the DMA checker reported (0 for traces, which run
 *     without the checker)
 * @param detail one sentence on why the outcome is not ok: the first failure, finding or mapping the model could
 *     not make, the Oops summary, or why the cell is unsupported; null when ok
 * @param bounceBytes bytes swiotlb copied to and from its bounce buffers
 * @param peakSlots the most swiotlb slots in use at once (the default pool's {@code io_tlb_used_hiwater})
 * @param poolSlots the size of the default swiotlb pool in slots (0: no pool)
 * @param checks the DMA checker's findings in full (empty for traces and unsupported cells), for reports
 * @param oops the crash report of an {@code oops} cell, else null
 */
public record Cell(
        String platform,
        String kernel,
        CellOutcome outcome,
        int findings,
        String detail,
        long bounceBytes,
        long peakSlots,
        long poolSlots,
        List<DmaFinding> checks,
        OopsReport oops) {
    public Cell {
        checks = List.copyOf(checks);
    }

    /** A cell without the checker's findings in full or an Oops report. */
    public Cell(
            String platform,
            String kernel,
            CellOutcome outcome,
            int findings,
            String detail,
            long bounceBytes,
            long peakSlots,
            long poolSlots) {
        this(platform, kernel, outcome, findings, detail, bounceBytes, peakSlots, poolSlots, List.of(), null);
    }

    /** An unsupported cell: nothing ran. */
    static Cell unsupported(String platform, String kernel, String why) {
        return new Cell(platform, kernel, CellOutcome.UNSUPPORTED, 0, why, 0, 0, 0);
    }

    /** The outcome as printed: {@code findings 3}, {@code pool exhausted}, {@code ok}. */
    public String label() {
        return outcome == CellOutcome.FINDINGS ? outcome.label() + " " + findings : outcome.label();
    }
}
