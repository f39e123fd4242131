package dev.dmalab.matrix;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A whole matrix: what ran, and its cells in platform × kernel order (every kernel of the first platform, then of
 * the second, ...).
 */
public record MatrixResult(Subject subject, String cmdline, long seed, List<Cell> cells) {
    /** The order outcomes are counted in by {@link #summary()}: from the best to the worst, unsupported last. */
    public static final List<CellOutcome> SUMMARY_ORDER = List.of(
            CellOutcome.OK,
            CellOutcome.FINDINGS,
            CellOutcome.FAILED,
            CellOutcome.POOL_EXHAUSTED,
            CellOutcome.OOPS,
            CellOutcome.UNSUPPORTED);

    public MatrixResult {
        cells = List.copyOf(cells);
    }

    /** How many cells ended with each outcome, in the order of {@link CellOutcome}. */
    public Map<CellOutcome, Integer> counts() {
        Map<CellOutcome, Integer> n = new EnumMap<>(CellOutcome.class);
        for (Cell c : cells) {
            n.merge(c.outcome(), 1, Integer::sum);
        }
        return n;
    }

    /** Whether any cell failed (findings, failed, oops, pool exhausted). */
    public boolean failed() {
        return cells.stream().anyMatch(c -> c.outcome().failing());
    }

    /**
     * One line: {@code 60 cells: 48 ok, 6 findings, 6 unsupported}, outcomes in {@link #SUMMARY_ORDER}, those with
     * no cell left out.
     */
    public String summary() {
        Map<CellOutcome, Integer> n = counts();
        StringBuilder sb = new StringBuilder();
        sb.append(cells.size()).append(cells.size() == 1 ? " cell" : " cells");
        String sep = ": ";
        for (CellOutcome o : SUMMARY_ORDER) {
            Integer k = n.get(o);
            if (k != null) {
                sb.append(sep).append(k).append(' ').append(o.label());
                sep = ", ";
            }
        }
        return sb.toString();
    }
}
