package dev.dmalab.replay;

/**
 * The swiotlb pool base of a capture whose kernel did not print it (x86 with {@code swiotlb=force}), derived from
 * its first bounced mapping by the rule of {@code validated-swiotlb.md} §2: the pool is page aligned, every area
 * starts on a page, and the first allocation of a fresh area lands in the area's first page (slot 0, or slot 1
 * when the min_align bit-11 test moves it), so {@code start = round_down(first_dma, PAGE_SIZE) - area(cpu) *
 * area_nslabs * 2048}.
 */
public final class PoolBase {
    private PoolBase() {}

    /**
     * @param firstBounceDma the DMA address of the first bounced mapping in the capture
     * @param cpu the CPU column of its {@code swiotlb_bounced} line
     * @param nareas the pool's area count
     * @param nslabs the pool's slot count
     * @param pageSize {@code PAGE_SIZE}
     */
    public static long derive(long firstBounceDma, int cpu, int nareas, long nslabs, long pageSize) {
        if (nareas < 1 || Integer.bitCount(nareas) != 1) {
            throw new IllegalArgumentException("nareas must be a power of two: " + nareas);
        }
        long areaNslabs = nslabs / nareas;
        int area = cpu & (nareas - 1);
        return (firstBounceDma & -pageSize) - area * areaNslabs * 2048L;
    }
}
