package dev.dmalab.memory;

import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The physical address map of the machine, as {@code /proc/iomem} shows it: RAM banks with holes between them,
 * MMIO ranges, and RAM reserved at boot. Immutable once built.
 *
 * <p>{@code pfn_valid(pfn)} is modelled as "the page frame lies in a RAM bank" (reserved RAM has a {@code struct
 * page} too, MMIO and holes do not), which is what arm64's memblock-based {@code pfn_valid} and x86's
 * sparsemem answer for the layouts modelled here.
 */
public final class PhysicalMemoryMap {
    private final PageSize pageSize;
    private final List<MemoryRegion> ram;
    private final List<MemoryRegion> mmio;
    private final List<MemoryRegion> reserved;
    private final long[] ramStarts;
    private final long[] ramEnds;

    private PhysicalMemoryMap(
            PageSize pageSize, List<MemoryRegion> ram, List<MemoryRegion> mmio, List<MemoryRegion> reserved) {
        this.pageSize = pageSize;
        this.ram = List.copyOf(ram);
        this.mmio = List.copyOf(mmio);
        this.reserved = List.copyOf(reserved);
        this.ramStarts = this.ram.stream().mapToLong(MemoryRegion::start).toArray();
        this.ramEnds = this.ram.stream().mapToLong(MemoryRegion::end).toArray();
    }

    public static Builder builder(PageSize pageSize) {
        return new Builder(pageSize);
    }

    public PageSize pageSize() {
        return pageSize;
    }

    /** RAM banks in ascending address order. */
    public List<MemoryRegion> ramBanks() {
        return ram;
    }

    public List<MemoryRegion> mmioRegions() {
        return mmio;
    }

    public List<MemoryRegion> reservedRegions() {
        return reserved;
    }

    /** Whether {@code pa} is in a RAM bank (reserved RAM included). */
    public boolean isRam(long pa) {
        for (int i = 0; i < ramStarts.length; i++) {
            if (pa >= ramStarts[i] && pa < ramEnds[i]) {
                return true;
            }
        }
        return false;
    }

    /** Whether all of {@code [pa, pa + len)} is RAM within one bank. */
    public boolean isRam(long pa, long len) {
        for (int i = 0; i < ramStarts.length; i++) {
            if (pa >= ramStarts[i] && len >= 0 && pa + len <= ramEnds[i]) {
                return true;
            }
        }
        return false;
    }

    public boolean isMmio(long pa) {
        for (MemoryRegion r : mmio) {
            if (r.contains(pa)) {
                return true;
            }
        }
        return false;
    }

    /** Whether anything (RAM or MMIO) answers at {@code pa}. */
    public boolean isBacked(long pa) {
        return isRam(pa) || isMmio(pa);
    }

    /** {@code pfn_valid(pfn)}: the frame has a {@code struct page}. */
    public boolean pfnValid(long pfn) {
        if (pfn < 0 || pfn > (Long.MAX_VALUE >>> pageSize.shift())) {
            return false;
        }
        return isRam(pageSize.pfnPhys(pfn));
    }

    /** Lowest RAM address ({@code memblock_start_of_DRAM}). */
    public long startOfDram() {
        return ramStarts[0];
    }

    /** Exclusive end of the highest RAM bank ({@code memblock_end_of_DRAM}). */
    public long endOfDram() {
        return ramEnds[ramEnds.length - 1];
    }

    /** {@code max_pfn}: one past the highest RAM page frame. */
    public long maxPfn() {
        return pageSize.pfnDown(endOfDram());
    }

    /** Total bytes of RAM in all banks ({@code memblock_phys_mem_size}). */
    public long totalRamBytes() {
        long total = 0;
        for (MemoryRegion r : ram) {
            total += r.sizeBytes();
        }
        return total;
    }

    /** Validating builder; every error names the offending region. */
    public static final class Builder {
        private final PageSize pageSize;
        private final List<MemoryRegion> ram = new ArrayList<>();
        private final List<MemoryRegion> mmio = new ArrayList<>();
        private final List<MemoryRegion> reserved = new ArrayList<>();

        private Builder(PageSize pageSize) {
            this.pageSize = pageSize;
        }

        public Builder ram(long start, long sizeBytes) {
            return ram(start, sizeBytes, "System RAM");
        }

        public Builder ram(long start, long sizeBytes, String name) {
            ram.add(new MemoryRegion(start, sizeBytes, MemoryRegion.Kind.RAM, name));
            return this;
        }

        public Builder mmio(long start, long sizeBytes, String name) {
            mmio.add(new MemoryRegion(start, sizeBytes, MemoryRegion.Kind.MMIO, name));
            return this;
        }

        public Builder reserved(long start, long sizeBytes, String name) {
            reserved.add(new MemoryRegion(start, sizeBytes, MemoryRegion.Kind.RESERVED, name));
            return this;
        }

        public PhysicalMemoryMap build() {
            if (ram.isEmpty()) {
                throw new IllegalArgumentException("the machine has no RAM bank");
            }
            ram.sort(Comparator.comparingLong(MemoryRegion::start));
            mmio.sort(Comparator.comparingLong(MemoryRegion::start));
            reserved.sort(Comparator.comparingLong(MemoryRegion::start));
            long page = pageSize.bytes();
            for (int i = 0; i < ram.size(); i++) {
                MemoryRegion r = ram.get(i);
                if (r.start() % page != 0 || r.sizeBytes() % page != 0) {
                    throw new IllegalArgumentException(
                            "RAM bank " + r + " is not aligned to the " + pageSize + " page size");
                }
                if (i > 0 && ram.get(i - 1).overlaps(r)) {
                    throw new IllegalArgumentException("RAM banks overlap: " + ram.get(i - 1) + " and " + r);
                }
            }
            for (int i = 0; i < mmio.size(); i++) {
                MemoryRegion m = mmio.get(i);
                for (MemoryRegion r : ram) {
                    if (m.overlaps(r)) {
                        throw new IllegalArgumentException("MMIO range " + m + " overlaps RAM bank " + r);
                    }
                }
                if (i > 0 && mmio.get(i - 1).overlaps(m)) {
                    throw new IllegalArgumentException("MMIO ranges overlap: " + mmio.get(i - 1) + " and " + m);
                }
            }
            for (MemoryRegion res : reserved) {
                boolean inside = ram.stream().anyMatch(r -> r.contains(res.start(), res.sizeBytes()));
                if (!inside) {
                    throw new IllegalArgumentException("reserved range " + res + " is not inside one RAM bank");
                }
            }
            return new PhysicalMemoryMap(pageSize, ram, mmio, reserved);
        }
    }

    @Override
    public String toString() {
        return "PhysicalMemoryMap[" + pageSize + ", RAM " + Bits.hex0x(totalRamBytes()) + " bytes in " + ram.size()
                + " bank(s)]";
    }
}
