package dev.dmalab.swiotlb;

import dev.dmalab.device.IoTlbMemRef;

/**
 * {@code struct io_tlb_mem}: a swiotlb instance (the default one, or a restricted pool) with its pool, its force
 * flag and the debugfs counters ({@code io_tlb_nslabs}, {@code io_tlb_used}, {@code io_tlb_used_hiwater}).
 *
 * <p>The 5.0 globals ({@code io_tlb_start}, {@code io_tlb_nslabs}, {@code io_tlb_index}, {@code swiotlb_force})
 * are modelled by the same object with a one-area pool.
 */
public final class IoTlbMem implements IoTlbMemRef {
    /** {@code enum swiotlb_force} (≤ 5.x) and the {@code force_bounce} / {@code force_disable} flags (6.x). */
    public enum ForceMode {
        NORMAL,
        FORCE,
        NO_FORCE
    }

    private final IoTlbPool defpool;
    private final ForceMode force;
    private final boolean allocationFailed;
    private long totalUsed;
    private long usedHiwater;

    /** @param defpool the pool, or null if swiotlb was never set up */
    public IoTlbMem(IoTlbPool defpool, ForceMode force) {
        this(defpool, force, false);
    }

    /**
     * @param allocationFailed the pool was wanted but could not be allocated ({@code no_iotlb_memory}); a later
     *     bounce panics (5.x) rather than finding no table
     */
    public IoTlbMem(IoTlbPool defpool, ForceMode force, boolean allocationFailed) {
        this.defpool = defpool;
        this.force = force;
        this.allocationFailed = allocationFailed;
    }

    /** {@code no_iotlb_memory}: boot wanted a pool and could not allocate one. */
    public boolean allocationFailed() {
        return allocationFailed;
    }

    /** The default pool, or null. */
    public IoTlbPool defpool() {
        return defpool;
    }

    /** {@code mem->nslabs}. */
    public int nslabs() {
        return defpool == null ? 0 : defpool.nslabs();
    }

    public ForceMode force() {
        return force;
    }

    /** {@code is_swiotlb_force_bounce}. */
    public boolean forceBounce() {
        return force == ForceMode.FORCE;
    }

    /** debugfs {@code io_tlb_used}. */
    public long used() {
        return totalUsed;
    }

    /** debugfs {@code io_tlb_used_hiwater}. */
    public long usedHiwater() {
        return usedHiwater;
    }

    void incUsed(long nslots) {
        totalUsed += nslots;
        if (totalUsed > usedHiwater) {
            usedHiwater = totalUsed;
        }
    }

    void decUsed(long nslots) {
        totalUsed -= nslots;
    }

    /** Writing 0 to debugfs {@code io_tlb_used_hiwater}. */
    public void resetHiwater() {
        usedHiwater = 0;
    }
}
