package dev.dmalab.memory;

import dev.dmalab.util.Bits;

/**
 * A range of physical addresses {@code [start, start + sizeBytes)} and what sits there.
 *
 * @param name a label for reports ("System RAM", "0000:00:03.0 BAR0", "Kernel code")
 */
public record MemoryRegion(long start, long sizeBytes, Kind kind, String name) {
    /** What a physical range is. */
    public enum Kind {
        /** Ordinary RAM: has page frames, can be allocated, holds bytes. */
        RAM,
        /** Device registers or device memory: not RAM, no {@code struct page}, but addressable. */
        MMIO,
        /** RAM the kernel does not hand to the page allocator (kernel image, firmware tables, early pools). */
        RESERVED
    }

    public MemoryRegion {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("region " + name + " has non-positive size " + sizeBytes);
        }
        if (start < 0 || start + sizeBytes < 0) {
            throw new IllegalArgumentException("region " + name + " exceeds the 63-bit physical address space");
        }
    }

    /** Exclusive end. */
    public long end() {
        return start + sizeBytes;
    }

    public boolean contains(long pa) {
        return pa >= start && pa < end();
    }

    public boolean contains(long pa, long len) {
        return pa >= start && len >= 0 && pa + len <= end();
    }

    public boolean overlaps(MemoryRegion other) {
        return start < other.end() && other.start < end();
    }

    @Override
    public String toString() {
        return Bits.hex0x(start) + "-" + Bits.hex0x(end() - 1) + " " + kind + " " + name;
    }
}
