package dev.dmalab.kernel;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.memory.PageSize;
import dev.dmalab.util.Bits;
import dev.dmalab.util.LongLongMap;

/**
 * The kernel's virtual address space as far as DMA buffers need it: the linear map ({@code __va} / {@code
 * __pa}: RAM at {@code PAGE_OFFSET + (phys - PHYS_OFFSET)}, normal write-back memory) and the vmalloc area, where
 * {@code dma_common_contiguous_remap} / {@code vmap} place remapped coherent buffers with their own memory type
 * (non-cacheable on arm64 for non-coherent devices).
 *
 * <p>Layout constants per arch (no KASLR, 4-level paging / 48-bit VA): x86_64 linear map at {@code
 * 0xffff888000000000} and vmalloc at {@code 0xffffc90000000000} (both as seen in the x86 captures'
 * {@code virt_addr=}); arm64 from 5.4 linear map at {@code 0xffff000000000000} with {@code PHYS_OFFSET} = start of
 * DRAM and vmalloc at {@code 0xffff800080000000} (before 5.4: linear map at {@code 0xffff800000000000}, vmalloc at
 * {@code 0xffff000008000000}); arm32 {@code PAGE_OFFSET} 0xc0000000, vmalloc at 0xf0000000.
 *
 * <p>Deliberate differences: no highmem (arm32 lowmem is assumed to cover all RAM); vmalloc addresses are handed
 * out by a bump allocator with one guard page between areas, as {@code __get_vm_area} leaves.
 */
public final class KernelAddressSpace {
    private final ArchKind arch;
    private final PageSize pageSize;
    private final long pageOffset;
    private final long physOffset;
    private final long vmallocStart;
    private final long vmallocEnd;
    private long vmallocNext;
    private final LongLongMap vmap = new LongLongMap(256, -1); // va page -> pa page | attr ordinal
    private final LongLongMap vmapAreas = new LongLongMap(64, -1); // area start va -> size

    public KernelAddressSpace(ArchKind arch, PageSize pageSize, long startOfDram) {
        this(arch, pageSize, startOfDram, true);
    }

    /**
     * @param flippedArm64Va arm64 only: the 5.4+ layout (linear map at 0xffff000000000000, vmalloc above); before
     *     5.4 the linear map was at 0xffff800000000000 and vmalloc at 0xffff000008000000
     */
    public KernelAddressSpace(ArchKind arch, PageSize pageSize, long startOfDram, boolean flippedArm64Va) {
        this.arch = arch;
        this.pageSize = pageSize;
        switch (arch) {
            case X86_64 -> {
                pageOffset = 0xffff888000000000L;
                physOffset = 0;
                vmallocStart = 0xffffc90000000000L;
                vmallocEnd = 0xffffe8ffffffffffL;
            }
            case ARM64 -> {
                pageOffset = flippedArm64Va ? 0xffff000000000000L : 0xffff800000000000L;
                physOffset = startOfDram & -(1L << 30);
                vmallocStart = flippedArm64Va ? 0xffff800080000000L : 0xffff000008000000L;
                vmallocEnd = flippedArm64Va ? 0xfffffbfeff000000L : 0xffff7bdfffff0000L;
            }
            case ARM32 -> {
                pageOffset = 0xc0000000L;
                physOffset = startOfDram;
                vmallocStart = 0xf0000000L;
                vmallocEnd = 0xff800000L;
            }
            default -> throw new IllegalArgumentException(arch.toString());
        }
        this.vmallocNext = vmallocStart;
    }

    public PageSize pageSize() {
        return pageSize;
    }

    public ArchKind arch() {
        return arch;
    }

    /** {@code __va(pa)} / {@code phys_to_virt}: the linear-map address of RAM at {@code pa}. */
    public long physToVirt(long pa) {
        return pageOffset + (pa - physOffset);
    }

    /** Whether {@code va} is in the linear map ({@code virt_addr_valid} for RAM addresses). */
    public boolean isLinear(long va) {
        if (arch == ArchKind.ARM64 && pageOffset == 0xffff800000000000L) {
            return Bits.ule(pageOffset, va); // pre-5.4 arm64: the linear map is the top half
        }
        return Bits.ule(pageOffset, va) && Bits.ult(va, vmallocStart);
    }

    /** {@code is_vmalloc_addr(va)}. */
    public boolean isVmalloc(long va) {
        return Bits.ule(vmallocStart, va) && Bits.ult(va, vmallocEnd);
    }

    /**
     * {@code __pa} for linear addresses and {@code vmalloc_to_phys} for mapped vmalloc addresses.
     *
     * @return the physical address, or -1 if {@code va} is not mapped
     */
    public long virtToPhys(long va) {
        if (isVmalloc(va)) {
            long e = vmap.get(va & pageSize.pageMask());
            return e < 0 ? -1 : (e & pageSize.pageMask()) | pageSize.offsetInPage(va);
        }
        if (isLinear(va)) {
            return va - pageOffset + physOffset;
        }
        return -1;
    }

    /** The memory type of the mapping of {@code va}; the linear map is write-back. */
    public MemAttr attrOf(long va) {
        if (isVmalloc(va)) {
            long e = vmap.get(va & pageSize.pageMask());
            return e < 0 ? MemAttr.NORMAL_WB : MemAttr.values()[(int) (e & 0xf)];
        }
        return MemAttr.NORMAL_WB;
    }

    /**
     * {@code vmap}/{@code dma_common_contiguous_remap}: maps {@code size} bytes of physically contiguous memory at
     * {@code pa} (page aligned) into the vmalloc area with memory type {@code attr}.
     *
     * @return the virtual address, or 0 if the vmalloc area is exhausted
     */
    public long vmapContiguous(long pa, long size, MemAttr attr) {
        long page = pageSize.bytes();
        long bytes = Bits.alignUp(size, page);
        if (Bits.ult(vmallocEnd - vmallocNext, bytes + page)) {
            return 0;
        }
        long va = vmallocNext;
        for (long off = 0; off < bytes; off += page) {
            vmap.put(va + off, (pa + off) | attr.ordinal());
        }
        vmapAreas.put(va, bytes);
        vmallocNext += bytes + page; // guard page
        return va;
    }

    /** {@code vunmap}: removes a mapping made by {@link #vmapContiguous}; returns false if none starts at {@code va}. */
    public boolean vunmap(long va) {
        long bytes = vmapAreas.remove(va);
        if (bytes < 0) {
            return false;
        }
        for (long off = 0; off < bytes; off += pageSize.bytes()) {
            vmap.remove(va + off);
        }
        return true;
    }

    /** The size of the vmap area starting at {@code va}, or -1. */
    public long vmapAreaSize(long va) {
        return vmapAreas.get(va);
    }
}
