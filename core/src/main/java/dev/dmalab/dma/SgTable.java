package dev.dmalab.dma;

/**
 * {@code struct sg_table}: a scatterlist with its original entry count and the mapped count {@code
 * dma_map_sgtable} stores.
 */
public final class SgTable {
    private final ScatterList sgl;
    private int nents;

    public SgTable(ScatterList sgl) {
        this.sgl = sgl;
    }

    public ScatterList sgl() {
        return sgl;
    }

    /** {@code orig_nents}: the CPU-side entries. */
    public int origNents() {
        return sgl.nents();
    }

    /** {@code nents}: the DMA-mapped entries after {@code dma_map_sgtable}, else 0. */
    public int nents() {
        return nents;
    }

    void setNents(int nents) {
        this.nents = nents;
    }
}
