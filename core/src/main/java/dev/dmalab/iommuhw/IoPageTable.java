package dev.dmalab.iommuhw;

import dev.dmalab.util.LongLongMap;

/**
 * The translation tables of one IOMMU domain: for each granule of I/O virtual address space that is mapped, the
 * physical granule it reaches and the access it permits. Models what {@code iommu_map} / {@code iommu_unmap}
 * ({@code drivers/iommu/iommu.c}, 6.12) leave in an Intel VT-d second-level table ({@code
 * drivers/iommu/intel/iommu.c}) or an Arm LPAE stage-1 table ({@code drivers/iommu/io-pgtable-arm.c}).
 *
 * <p>Entries are kept per granule in a primitive map (IOVA pfn → physical pfn and permission bits), so mapping,
 * unmapping and walking allocate nothing once the map has grown.
 *
 * <p>Deliberate differences: no block (2 MiB / 1 GiB, or 512 MiB with 64 KiB granules) entries — the kernel uses
 * them only for suitably aligned runs, and a device sees the same translation either way; no table levels, so no
 * page-table memory is consumed; mapping over a present entry fails with {@code -EEXIST} and leaves the table as
 * it was (VT-d warns and returns {@code -EBUSY}, io-pgtable-arm returns {@code -EEXIST}).
 */
public final class IoPageTable {
    /** {@code IOMMU_READ}: the device may read. */
    public static final int READ = 1;
    /** {@code IOMMU_WRITE}: the device may write. */
    public static final int WRITE = 1 << 1;
    /** {@code IOMMU_CACHE}: the access snoops the CPU caches (a coherent device). */
    public static final int CACHE = 1 << 2;
    /** {@code IOMMU_NOEXEC}. */
    public static final int NOEXEC = 1 << 3;
    /** {@code IOMMU_MMIO}: the target is device memory ({@code dma_map_resource}). */
    public static final int MMIO = 1 << 4;
    /** {@code IOMMU_PRIV}: privileged accesses only ({@code DMA_ATTR_PRIVILEGED}). */
    public static final int PRIV = 1 << 5;

    private static final int PROT_BITS = 8;
    private static final long ABSENT = -1;
    private static final int EEXIST = 17;
    private static final int EINVAL = 22;

    private final int id;
    private final int granuleShift;
    private final LongLongMap entries = new LongLongMap(256, ABSENT);
    private long mappedGranules;

    /**
     * @param id the domain id the hardware tags IOTLB entries with
     * @param granuleShift log2 of the smallest page size (12, 14 or 16)
     */
    public IoPageTable(int id, int granuleShift) {
        if (granuleShift != 12 && granuleShift != 14 && granuleShift != 16) {
            throw new IllegalArgumentException("granule must be 4K, 16K or 64K, got 2^" + granuleShift);
        }
        this.id = id;
        this.granuleShift = granuleShift;
    }

    public int id() {
        return id;
    }

    public int granuleShift() {
        return granuleShift;
    }

    public long granuleBytes() {
        return 1L << granuleShift;
    }

    /**
     * Maps {@code sizeBytes} at {@code iova} to {@code phys} (all granule-aligned) with permission {@code prot}.
     *
     * @return 0, {@code -EINVAL} for a misaligned request, or {@code -EEXIST} if a granule is already mapped (the
     *     table is then unchanged)
     */
    public int map(long iova, long phys, long sizeBytes, int prot) {
        long mask = granuleBytes() - 1;
        if (((iova | phys | sizeBytes) & mask) != 0 || sizeBytes <= 0 || prot < 0 || prot >= 1 << PROT_BITS) {
            return -EINVAL;
        }
        long pfn = iova >>> granuleShift;
        long n = sizeBytes >>> granuleShift;
        for (long i = 0; i < n; i++) {
            if (entries.get(pfn + i) != ABSENT) {
                return -EEXIST;
            }
        }
        long physPfn = phys >>> granuleShift;
        for (long i = 0; i < n; i++) {
            entries.put(pfn + i, ((physPfn + i) << PROT_BITS) | prot);
        }
        mappedGranules += n;
        return 0;
    }

    /**
     * Clears the entries of {@code sizeBytes} from {@code iova} (granule-aligned). The IOTLB is not touched: that
     * is the caller's invalidation, strict or deferred.
     *
     * @return the bytes that were mapped and are now clear
     */
    public long unmap(long iova, long sizeBytes) {
        long pfn = iova >>> granuleShift;
        long n = (sizeBytes + granuleBytes() - 1) >>> granuleShift;
        long cleared = 0;
        for (long i = 0; i < n; i++) {
            if (entries.remove(pfn + i) != ABSENT) {
                cleared++;
            }
        }
        mappedGranules -= cleared;
        return cleared << granuleShift;
    }

    /** The raw entry of IOVA pfn {@code pfn} (physical pfn shifted by 8, or'ed with the permission), or -1. */
    public long entry(long pfn) {
        return entries.get(pfn);
    }

    /** {@code iommu_iova_to_phys}: the physical address {@code iova} translates to, or -1 if it is not mapped. */
    public long iovaToPhys(long iova) {
        long e = entries.get(iova >>> granuleShift);
        return e == ABSENT ? -1 : entryPhys(e, iova);
    }

    /** The permission bits of the mapping at {@code iova}, or -1 if not mapped. */
    public int protAt(long iova) {
        long e = entries.get(iova >>> granuleShift);
        return e == ABSENT ? -1 : entryProt(e);
    }

    long entryPhys(long entry, long iova) {
        return ((entry >>> PROT_BITS) << granuleShift) | (iova & (granuleBytes() - 1));
    }

    static int entryProt(long entry) {
        return (int) (entry & ((1 << PROT_BITS) - 1));
    }

    /** Granules currently mapped. */
    public long mappedGranules() {
        return mappedGranules;
    }

    /** The mapped IOVA pfns in ascending order (for reports and tests; allocates). */
    public long[] mappedPfns() {
        return entries.sortedKeys();
    }
}
