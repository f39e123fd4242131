package dev.dmalab.memory;

/** The Linux {@code PAGE_SIZE} of the modelled kernel (arm64 supports 4, 16 and 64 KiB; x86 and arm32 only 4). */
public enum PageSize {
    SIZE_4K(12),
    SIZE_16K(14),
    SIZE_64K(16);

    private final int shift;

    PageSize(int shift) {
        this.shift = shift;
    }

    /** {@code PAGE_SHIFT}. */
    public int shift() {
        return shift;
    }

    /** {@code PAGE_SIZE} in bytes. */
    public long bytes() {
        return 1L << shift;
    }

    /** {@code PAGE_MASK} (clears the offset bits). */
    public long pageMask() {
        return -(1L << shift);
    }

    /** {@code offset_in_page(addr)}. */
    public long offsetInPage(long addr) {
        return addr & ((1L << shift) - 1);
    }

    /** {@code PFN_DOWN(addr)}. */
    public long pfnDown(long addr) {
        return addr >>> shift;
    }

    /** {@code PFN_PHYS(pfn)}. */
    public long pfnPhys(long pfn) {
        return pfn << shift;
    }

    /** Default {@code MAX_PAGE_ORDER} of the 6.x kernels for this page size (arm64 defconfig values). */
    public int defaultMaxOrder() {
        return switch (this) {
            case SIZE_4K -> 10;
            case SIZE_16K -> 11;
            case SIZE_64K -> 13;
        };
    }

    public static PageSize ofBytes(long bytes) {
        for (PageSize p : values()) {
            if (p.bytes() == bytes) {
                return p;
            }
        }
        throw new IllegalArgumentException("unsupported page size " + bytes + " (4096, 16384 or 65536)");
    }

    @Override
    public String toString() {
        return (bytes() / 1024) + "K";
    }
}
