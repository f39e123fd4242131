package dev.dmalab.check;

import java.util.Locale;

/**
 * What a finding is about. The first group are the checks of the kernel's {@code kernel/dma/debug.c} (6.x, spec
 * §4.3), each reported with the kernel's message; the second are checks only a model that sees memory and devices
 * can make.
 *
 * <p>Each category carries a plain explanation, the fix, and the kind of platform on which the bug bites ({@link
 * Hazard}): a missing sync corrupts data only where caches are not coherent or buffers bounce, while a wrong-size
 * unmap corrupts wherever unmapping does work (swiotlb copies, IOMMU page tables).
 */
public enum Category {
    // ---- dma-debug parity -----------------------------------------------------------------------------------
    INVALID_FREE(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the driver unmapped or freed DMA_MAPPING_ERROR, the cookie of a failed map",
            "check dma_mapping_error() after mapping and never unmap a failed mapping"),
    UNMAP_NOT_MAPPED(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the driver unmapped or freed a DMA address that no live mapping of this device has",
            "unmap exactly the address the map call returned, on the device that mapped it"),
    DOUBLE_UNMAP(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the driver unmapped a DMA address a second time; the slot or IOVA may already belong to another mapping",
            "unmap each mapping once, and clear the saved address after unmapping"),
    UNMAP_WRONG_SIZE(
            true,
            Severity.ERROR,
            Hazard.BOUNCING_OR_IOMMU,
            "the size given at unmap differs from the size mapped: swiotlb copies back and frees the wrong number of"
                    + " slots, an IOMMU unmaps the wrong range",
            "pass the same size to dma_unmap_*() as to dma_map_*()"),
    UNMAP_WRONG_TYPE(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the mapping was released with the function of another kind (page vs scatterlist vs coherent vs"
                    + " resource), which runs another backend path",
            "release with the counterpart of the map call: dma_unmap_single/page, dma_unmap_sg, dma_free_coherent"),
    UNMAP_WRONG_DIRECTION(
            true,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the direction at unmap differs from the direction mapped: cache maintenance and the bounce copy-back"
                    + " follow the unmap's direction",
            "pass the same direction to dma_unmap_*() as to dma_map_*()"),
    FREE_WRONG_CPU_ADDRESS(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "dma_free_coherent() was given a CPU address other than the one dma_alloc_coherent() returned",
            "free with the CPU address and DMA handle the allocation returned"),
    UNMAP_SG_WRONG_NENTS(
            true,
            Severity.ERROR,
            Hazard.BOUNCING_OR_IOMMU,
            "dma_unmap_sg() was given another entry count than dma_map_sg(); entries are left mapped or unmapped"
                    + " twice",
            "pass dma_unmap_sg() the nents given to dma_map_sg(), not the count it returned"),
    UNCHECKED_MAP_ERROR(
            true,
            Severity.WARNING,
            Hazard.BOUNCING_OR_IOMMU,
            "the driver never called dma_mapping_error() on this mapping; where a map can fail (swiotlb full, IOVA"
                    + " space exhausted) it would hand the device DMA_MAPPING_ERROR",
            "call dma_mapping_error() on every address a map call returns, before using it"),
    SYNC_NOT_MAPPED(
            true,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the driver synced a DMA address that no live mapping of this device contains",
            "sync only live mappings, with an address inside them"),
    SYNC_OUT_OF_RANGE(
            true,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the sync runs past the end of the mapping",
            "sync at most the mapped range (offset + size <= mapped size)"),
    SYNC_WRONG_DIRECTION(
            true,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the sync's direction does not fit the mapping's: cache maintenance or the bounce copy goes the wrong"
                    + " way",
            "sync with the direction the buffer was mapped with"),
    SYNC_SG_WRONG_NENTS(
            true,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "dma_sync_sg_*() was given another entry count than dma_map_sg()",
            "pass the nents given to dma_map_sg() to the sync"),
    MAP_STACK(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the driver mapped memory on its task's stack, which may be vmapped (not DMA-able) and shares cache"
                    + " lines with live locals",
            "allocate DMA buffers with kmalloc() or the DMA API, never on the stack"),
    MAP_VMALLOC(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "dma_map_single() was given a vmalloc (or other non-linear) address, whose pages are not contiguous and"
                    + " whose virt_to_page() is meaningless",
            "map vmalloc memory page by page with dma_map_page()/an sg table, or allocate with kmalloc()"),
    SG_SEGMENT_TOO_LONG(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "a mapped scatterlist segment is longer than the device's max_segment_size",
            "set dma_set_max_seg_size() to what the device supports and build segments no longer than it"),
    SG_SEGMENT_BOUNDARY(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "a mapped scatterlist segment crosses the device's segment boundary",
            "split segments at the boundary set with dma_set_seg_boundary()"),
    OVERLAPPING_CACHELINE(
            true,
            Severity.WARNING,
            Hazard.NON_COHERENT,
            "two device-writable mappings start in the same cache line; on a non-coherent machine maintenance on"
                    + " one corrupts the other",
            "give each DMA buffer its own cache lines (ARCH_DMA_MINALIGN / ____cacheline_aligned)"),
    LEAK_AT_UNBIND(
            true,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the driver was unbound with mappings or allocations still live; their swiotlb slots or IOVAs are never"
                    + " freed",
            "unmap and free everything in ->remove(), or use the managed dmam_* API"),
    // ---- beyond dma-debug -----------------------------------------------------------------------------------
    CPU_READ_DEVICE_OWNED(
            false,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the CPU read a buffer the device owns (mapped, or synced for the device, and not synced back); it may"
                    + " see cached or unbounced bytes, not the device's",
            "call dma_sync_single_for_cpu() (or unmap) before the CPU reads the buffer"),
    CPU_WRITE_DEVICE_OWNED(
            false,
            Severity.ERROR,
            Hazard.NON_COHERENT_OR_BOUNCING,
            "the CPU wrote a buffer the device owns; the write may sit in the cache or miss the bounce buffer, and"
                    + " may overwrite the device's data when written back",
            "write before mapping, or sync for the CPU, write, then dma_sync_single_for_device()"),
    STALE_READ(
            false,
            Severity.ERROR,
            Hazard.NON_COHERENT,
            "the CPU read a cache line whose memory a device had changed, with no invalidate in between: it got the"
                    + " old bytes",
            "invalidate before reading: do not skip the CPU sync (DMA_ATTR_SKIP_CPU_SYNC) without syncing yourself"),
    LOST_DEVICE_DATA(
            false,
            Severity.ERROR,
            Hazard.NON_COHERENT,
            "a dirty CPU cache line was written back over bytes a device had written: the device's data is lost",
            "clean the buffer before the device writes it: map without DMA_ATTR_SKIP_CPU_SYNC, or sync for the"
                    + " device first"),
    WILD_DMA(
            false,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the device accessed a bus address outside every live mapping and allocation of that device",
            "give the device only addresses returned by the DMA API for mappings that are still live"),
    DEVICE_WRITE_TO_DEVICE_MAPPING(
            false,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the device wrote a DMA_TO_DEVICE mapping, which it may only read; an IOMMU refuses it, a bounce loses it",
            "map buffers the device writes with DMA_FROM_DEVICE or DMA_BIDIRECTIONAL"),
    DEVICE_WRITE_PAST_END(
            false,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the device wrote past the end of a mapping, into memory the driver did not hand it",
            "map the whole length the device may write, or program the device with the mapped length"),
    CACHELINE_SHARING(
            false,
            Severity.ERROR,
            Hazard.NON_COHERENT,
            "a device-writable mapping shares a cache line with other live data; on a non-coherent machine a CPU"
                    + " write-back of that data or an invalidate of the mapping corrupts one or the other",
            "align and pad DMA buffers to ARCH_DMA_MINALIGN (____cacheline_aligned, or their own allocation)"),
    SUBPAGE_EXPOSURE(
            false,
            Severity.WARNING,
            Hazard.IOMMU,
            "the IOMMU maps whole granules, so the device can also reach other live data in the granules of this"
                    + " mapping",
            "put buffers given to untrusted devices in their own pages (or let the IOMMU bounce them)"),
    USE_AFTER_UNMAP(
            false,
            Severity.ERROR,
            Hazard.EVERYWHERE,
            "the device used a DMA address after its mapping was unmapped; the memory or IOVA may already serve"
                    + " another buffer",
            "stop the device (and wait for it) before unmapping, and never reuse a saved address after unmap");

    /** How bad a finding is. */
    public enum Severity {
        /** Data corruption, a crash or a security hole is possible. */
        ERROR,
        /** A rule is broken that bites only under some conditions (a failing map, a non-coherent machine). */
        WARNING
    }

    /** On which platforms the bug class does harm; resolved to built-in platform names by the platform layer. */
    public enum Hazard {
        EVERYWHERE,
        /** Where a device is not cache-coherent. */
        NON_COHERENT,
        /** Where a device is not coherent or its buffers bounce (swiotlb, Xen). */
        NON_COHERENT_OR_BOUNCING,
        /** Where buffers bounce or sit behind an IOMMU (so unmap and map failures do real work). */
        BOUNCING_OR_IOMMU,
        /** Behind a translating IOMMU. */
        IOMMU
    }

    private final boolean dmaDebug;
    private final Severity severity;
    private final Hazard hazard;
    private final String explanation;
    private final String fix;

    Category(boolean dmaDebug, Severity severity, Hazard hazard, String explanation, String fix) {
        this.dmaDebug = dmaDebug;
        this.severity = severity;
        this.hazard = hazard;
        this.explanation = explanation;
        this.fix = fix;
    }

    /** The stable identifier used in output ({@code unmap-wrong-size}). */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Whether the kernel's dma-debug makes this check (its reporting switches then apply). */
    public boolean dmaDebug() {
        return dmaDebug;
    }

    public Severity severity() {
        return severity;
    }

    public Hazard hazard() {
        return hazard;
    }

    public String explanation() {
        return explanation;
    }

    public String fix() {
        return fix;
    }

    /** The category with identifier {@code id}. */
    public static Category byId(String id) {
        for (Category c : values()) {
            if (c.id().equals(id)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown finding category '" + id + "'");
    }
}
