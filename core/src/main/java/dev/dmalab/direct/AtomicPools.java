package dev.dmalab.direct;

import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.Zone;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The atomic pools of {@code kernel/dma/pool.c} (5.8+): preallocated memory for coherent allocations that need a
 * remap but cannot sleep ({@code GFP_ATOMIC} on a non-coherent device). One pool each for the kernel, ZONE_DMA32
 * and ZONE_DMA, each {@code max(128 KiB, totalram / 8192 pages)} (capped at a MAX_ORDER block); before 5.8 a single
 * 256 KiB pool ({@code kernel/dma/remap.c}). A request tries the pool matching its zone flags, then the next lower
 * one ({@code dma_guess_pool}), and takes the first block whose address the device can reach. The single pre-5.8
 * pool is allocated from the lowest zone the kernel has ({@code dma_atomic_pool_gfp()}).
 *
 * <p>Allocation within a pool is first fit at page granularity, as {@code gen_pool_alloc} with {@code
 * gen_pool_first_fit} and a PAGE_SIZE minimum order. Deliberate difference: pools are not expanded by the
 * background worker when they run low.
 */
public final class AtomicPools {
    /** One gen_pool: a contiguous physical chunk and a page bitmap. */
    static final class Pool {
        final String name;
        final long phys;
        final int pages;
        final BitSet used;
        final PageSize pageSize;
        long va;

        Pool(String name, long phys, int pages, PageSize pageSize) {
            this.name = name;
            this.phys = phys;
            this.pages = pages;
            this.used = new BitSet(pages);
            this.pageSize = pageSize;
        }

        long alloc(long size, LongPredicate ok) {
            int n = (int) Bits.divRoundUp(size, pageSize.bytes());
            for (int start = 0; start + n <= pages; ) {
                int busy = used.nextSetBit(start);
                if (busy >= 0 && busy < start + n) {
                    start = busy + 1;
                    continue;
                }
                long pa = phys + ((long) start << pageSize.shift());
                if (!ok.test(pa)) {
                    return -1; // the whole pool is one chunk: if its start is unreachable, so is the rest
                }
                used.set(start, start + n);
                return pa;
            }
            return -1;
        }

        long bytes() {
            return (long) pages << pageSize.shift();
        }

        boolean contains(long pa) {
            return pa >= phys && pa < phys + bytes();
        }

        boolean containsVa(long addr) {
            return Bits.ule(va, addr) && Bits.ult(addr - va, bytes());
        }

        void free(long pa, long size) {
            int start = (int) ((pa - phys) >>> pageSize.shift());
            used.clear(start, start + (int) Bits.divRoundUp(size, pageSize.bytes()));
        }
    }

    private final List<Pool> pools = new ArrayList<>(); // kernel, dma32, dma (those that exist)
    private Pool kernel;
    private Pool dma32;
    private Pool dma;

    /**
     * Preallocates the pools from the page allocator at boot ({@code dma_atomic_pool_init}) and maps each with
     * {@code map} (physical address, size) → kernel virtual address: a non-cacheable remap on DMA_DIRECT_REMAP
     * arches, the linear map elsewhere.
     *
     * @param perZone 5.8+: one pool per zone; before: one pool of 256 KiB
     */
    public static AtomicPools create(
            PageAllocator pages, long totalRamPages, boolean perZone, java.util.function.LongBinaryOperator map) {
        AtomicPools p = new AtomicPools();
        PageSize ps = pages.pageSize();
        long size;
        if (perZone) {
            long n = Math.min(totalRamPages / ((1L << 30) / (128 * 1024)), 1L << pages.maxOrder());
            size = Math.max(n << ps.shift(), 128 * 1024);
        } else {
            size = 256 * 1024;
        }
        int order = Bits.getOrder(size, ps.shift());
        if (!perZone) {
            // dma_atomic_pool_gfp(): the single pool comes from the lowest zone the kernel has (arm64 5.0 passes
            // GFP_DMA32 itself), so that it suits any device.
            Zone lowest = pages.zones().exists(Zone.DMA)
                    ? Zone.DMA
                    : pages.zones().exists(Zone.DMA32) ? Zone.DMA32 : Zone.NORMAL;
            p.kernel = p.make("atomic", pages, order, lowest, ps);
        } else {
            p.kernel = p.make("kernel", pages, order, Zone.NORMAL, ps);
        }
        if (perZone) {
            if (pages.zones().exists(Zone.DMA) && pages.managedPages(Zone.DMA) > 0) {
                p.dma = p.make("DMA", pages, order, Zone.DMA, ps);
            }
            if (pages.zones().exists(Zone.DMA32)) {
                p.dma32 = p.make("DMA32", pages, order, Zone.DMA32, ps);
            }
        }
        for (Pool pool : p.pools) {
            pool.va = map.applyAsLong(pool.phys, pool.bytes());
        }
        return p;
    }

    private Pool make(String name, PageAllocator pages, int order, Zone zone, PageSize ps) {
        long pfn = pages.alloc(order, zone, false);
        if (pfn < 0) {
            return null;
        }
        Pool pool = new Pool(name, ps.pfnPhys(pfn), 1 << order, ps);
        pools.add(pool);
        return pool;
    }

    /** The preallocated pools' sizes, for the boot log ("DMA: preallocated 256 KiB ... pool"). */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Pool p : pools) {
            long kib = ((long) p.pages << p.pageSize.shift()) / 1024;
            String flags =
                    switch (p.name) {
                        case "DMA" -> "GFP_KERNEL|GFP_DMA ";
                        case "DMA32" -> "GFP_KERNEL|GFP_DMA32 ";
                        case "atomic" -> ""; // before 5.8 the message names no gfp
                        default -> "GFP_KERNEL ";
                    };
            out.add("DMA: preallocated " + kib + " KiB " + flags + "pool for atomic allocations");
        }
        return out;
    }

    /**
     * {@code dma_alloc_from_pool}: the physical address of a block the device can reach ({@code ok}), or -1.
     *
     * @param zoneDma32 the request carries GFP_DMA32
     * @param zoneDma the request carries GFP_DMA
     */
    public long alloc(long size, boolean zoneDma32, boolean zoneDma, LongPredicate ok) {
        Pool p = zoneDma32 && dma32 != null ? dma32 : zoneDma && dma != null ? dma : kernel;
        while (p != null) {
            long pa = p.alloc(size, ok);
            if (pa >= 0) {
                return pa;
            }
            p = p == kernel ? (dma32 != null ? dma32 : dma) : p == dma32 ? dma : null;
        }
        return -1;
    }

    /** The kernel virtual address of pool memory at {@code pa}. */
    public long vaOf(long pa) {
        for (Pool p : pools) {
            if (p.contains(pa)) {
                return p.va + (pa - p.phys);
            }
        }
        throw new IllegalArgumentException("not atomic pool memory: " + Bits.hex0x(pa));
    }

    /** {@code dma_free_from_pool(dev, cpu_addr, size)}: true if the block belonged to a pool (and is now free). */
    public boolean freeVa(long va, long size) {
        for (Pool p : pools) {
            if (p.containsVa(va)) {
                p.free(p.phys + (va - p.va), size);
                return true;
            }
        }
        return false;
    }
}
