package dev.dmalab.dma;

import dev.dmalab.device.Device;
import dev.dmalab.device.DmaOps;

/**
 * {@code struct dma_map_ops} ({@code include/linux/dma-map-ops.h}; {@code dma-mapping.h} before 5.10): the table
 * a DMA backend fills in. An op the table leaves NULL is modelled by {@link #implementsOp} returning false; the
 * core then behaves as the kernel does for a NULL callback (skip it, or fail).
 *
 * <p>Addresses are physical ({@code pagePhys}, {@code phys}) or bus addresses ({@code dmaAddr}); CPU addresses of
 * coherent buffers are kernel virtual addresses. A coherent allocation returns its CPU address and stores the
 * handle in {@code dmaHandle[0]}, as the kernel's {@code dma_addr_t *} out-parameter.
 *
 * <p>Contract (checked for every implementation by {@code DmaMapOpsContractTest}): a successful map returns an
 * address through which the device reaches exactly the mapped bytes; unmap and syncs move data per the
 * direction; a failed map returns the version's error cookie and leaves no state behind.
 */
public interface DmaMapOps extends DmaOps {
    /** The callbacks of the table, in the member order of the 5.0 {@code struct dma_map_ops}. */
    enum Op {
        ALLOC,
        FREE,
        MMAP,
        GET_SGTABLE,
        MAP_PAGE,
        UNMAP_PAGE,
        MAP_SG,
        UNMAP_SG,
        MAP_RESOURCE,
        UNMAP_RESOURCE,
        SYNC_SINGLE_FOR_CPU,
        SYNC_SINGLE_FOR_DEVICE,
        SYNC_SG_FOR_CPU,
        SYNC_SG_FOR_DEVICE,
        CACHE_SYNC,
        MAPPING_ERROR,
        DMA_SUPPORTED,
        GET_REQUIRED_MASK,
        MAX_MAPPING_SIZE,
        ALLOC_PAGES,
        FREE_PAGES
    }

    /** Whether the callback is non-NULL in this table. */
    default boolean implementsOp(Op op) {
        return true;
    }

    /** {@code ->alloc}: returns the CPU address (0 = NULL) and stores the bus address in {@code dmaHandle[0]}. */
    long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs);

    /** {@code ->free}. */
    void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs);

    /** {@code ->mmap}: returns 0 or a negative errno. */
    default int mmap(Device dev, Vma vma, long cpuAddr, long dmaAddr, long size, long attrs) {
        return -Errno.ENXIO;
    }

    /** {@code ->get_sgtable}: returns 0 or a negative errno. */
    default int getSgtable(Device dev, SgTable sgt, long cpuAddr, long dmaAddr, long size, long attrs) {
        return -Errno.ENXIO;
    }

    /** {@code ->map_page}: {@code pagePhys} is {@code page_to_phys(page)}. */
    long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs);

    /** {@code ->unmap_page}. */
    void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs);

    /**
     * {@code ->map_sg}: returns the number of DMA segments filled (&gt; 0), or 0 / a negative errno on failure as
     * the version defines.
     */
    int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs);

    /** {@code ->unmap_sg}, with the {@code nents} originally passed to map. */
    void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs);

    /** {@code ->map_resource}: maps an MMIO range; error cookie on failure. */
    long mapResource(Device dev, long phys, long size, Direction dir, long attrs);

    /** {@code ->unmap_resource}. */
    void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs);

    /** {@code ->sync_single_for_cpu}. */
    void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir);

    /** {@code ->sync_single_for_device}. */
    void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir);

    /** {@code ->sync_sg_for_cpu}. */
    void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir);

    /** {@code ->sync_sg_for_device}. */
    void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir);

    /** {@code ->dma_supported}: non-zero if the device can use {@code mask}. */
    int dmaSupported(Device dev, long mask);

    /** {@code ->get_required_mask}. */
    default long getRequiredMask(Device dev) {
        return dev.coherentDmaMask();
    }

    /** {@code ->max_mapping_size} (5.1+); SIZE_MAX (all ones) when absent. */
    default long maxMappingSize(Device dev) {
        return -1L;
    }

    /** {@code ->mapping_error} (≤ 4.20): whether {@code dmaAddr} is this table's error cookie. */
    default boolean mappingError(Device dev, long dmaAddr) {
        return dmaAddr == -1L;
    }

    /** {@code ->alloc_pages_op} (5.10+): returns the page's physical address or -1. */
    default long allocPages(Device dev, long size, long[] dmaHandle, Direction dir, int gfp) {
        return -1;
    }

    /** {@code ->free_pages}. */
    default void freePages(Device dev, long size, long pagePhys, long dmaHandle, Direction dir) {}

    /**
     * The byte offset of {@code op}'s member in the version's {@code struct dma_map_ops} — the faulting address
     * when the kernel calls through a NULL table. The 5.0 layout; 4.20 has {@code mapping_error} before {@code
     * dma_supported}; 5.x adds {@code max_mapping_size} after {@code get_required_mask}.
     */
    static long memberOffset(Op op, boolean hasMappingErrorMember) {
        return memberOffset(op, hasMappingErrorMember, 8);
    }

    /**
     * {@link #memberOffset(Op, boolean)} for pointers of {@code pointerBytes} bytes (4 on 32-bit arm, 8 on the
     * 64-bit arches): the members are function pointers, so the offset is the member index times the pointer size.
     */
    static long memberOffset(Op op, boolean hasMappingErrorMember, int pointerBytes) {
        int index =
                switch (op) {
                    case ALLOC -> 0;
                    case FREE -> 1;
                    case MMAP -> 2;
                    case GET_SGTABLE -> 3;
                    case MAP_PAGE -> 4;
                    case UNMAP_PAGE -> 5;
                    case MAP_SG -> 6;
                    case UNMAP_SG -> 7;
                    case MAP_RESOURCE -> 8;
                    case UNMAP_RESOURCE -> 9;
                    case SYNC_SINGLE_FOR_CPU -> 10;
                    case SYNC_SINGLE_FOR_DEVICE -> 11;
                    case SYNC_SG_FOR_CPU -> 12;
                    case SYNC_SG_FOR_DEVICE -> 13;
                    case CACHE_SYNC -> 14;
                    case MAPPING_ERROR -> 15;
                    case DMA_SUPPORTED -> hasMappingErrorMember ? 16 : 15;
                    case GET_REQUIRED_MASK -> hasMappingErrorMember ? 17 : 16;
                    case MAX_MAPPING_SIZE -> hasMappingErrorMember ? 18 : 17;
                    case ALLOC_PAGES -> 19;
                    case FREE_PAGES -> 20;
                };
        return (long) index * pointerBytes;
    }
}
