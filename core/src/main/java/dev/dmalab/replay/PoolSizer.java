package dev.dmalab.replay;

import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.trace.FtraceParser;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The sizing oracle: the smallest swiotlb pool, for each area count up to the machine's, with which the trace
 * replays without a single failed mapping.
 *
 * <p>Candidates are the sizes the kernel can have: {@code round_up_default_nslabs()} makes every pool a power of
 * two of at least 128 slots per area (validated-swiotlb.md C1), so for each area count the search doubles from
 * {@code max(128 × areas, the next power of two above the open-loop replay's peak)} — a pool smaller than the
 * peak the trace needs cannot hold it — and replays the trace, open-loop, with {@code swiotlb=N,A} (plus {@code
 * force} where the replayed machine forces bouncing) until no mapping fails. Each candidate is one more pass over
 * the trace; passes stop at 2^21 slots (4 GiB) or at the first size the machine cannot boot with.
 */
public final class PoolSizer {
    /** Largest pool tried, in slots. */
    public static final long MAX_SLOTS = 1L << 21;

    /** The smallest sufficient pool for one area count; {@code slots} is -1 when none up to the limit sufficed. */
    public record Fit(int areas, long slots, int passes) {
        public long bytes() {
            return slots << 11;
        }
    }

    private PoolSizer() {}

    /**
     * @param setup the replayed machine's set-up
     * @param trace opens the trace for each pass
     * @param replayed the machine the trace was replayed on (its areas and force mode bound the search)
     * @param peakSlots the replay's peak use of the default pool
     */
    public static List<Fit> smallest(
            ReplaySetup setup, Supplier<FtraceParser> trace, Machine replayed, long peakSlots, String name) {
        int maxAreas = Math.max(1, replayed.swiotlbGeometry().nareas());
        boolean force = replayed.swiotlb().defaultMem().forceBounce();
        List<Fit> out = new ArrayList<>();
        for (int areas = 1; areas <= maxAreas; areas <<= 1) {
            long slots = Math.max(128L * areas, Long.highestOneBit(Math.max(1, peakSlots - 1)) << 1);
            int passes = 0;
            long found = -1;
            for (; slots <= MAX_SLOTS; slots <<= 1) {
                Machine m;
                try {
                    m = setup.boot("swiotlb=" + slots + "," + areas + (force ? ",force" : ""));
                } catch (InputException e) {
                    break; // the machine has no room for a pool this large
                }
                passes++;
                try (FtraceParser p = trace.get()) {
                    TraceReplay r = new TraceReplay(name, p, m, null).run();
                    if (r.model().modelFailures() == 0) {
                        found = slots;
                        break;
                    }
                }
            }
            out.add(new Fit(areas, found, passes));
        }
        return out;
    }
}
