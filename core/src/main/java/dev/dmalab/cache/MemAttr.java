package dev.dmalab.cache;

/** The memory type of the mapping through which the CPU accesses an address (arm64 MAIR attributes). */
public enum MemAttr {
    /** Normal, write-back cacheable: the linear map and ordinary vmalloc ({@code PAGE_KERNEL}). */
    NORMAL_WB,
    /** Normal, non-cacheable: {@code pgprot_dmacoherent} / {@code pgprot_writecombine} remaps on arm64. */
    NORMAL_NC,
    /** Device memory (MMIO): never cached. */
    DEVICE;

    public boolean cacheable() {
        return this == NORMAL_WB;
    }
}
