package dev.dmalab.memory;

/**
 * The machine's physical memory: the address map, the zones, the bytes, and the two allocators in the order the
 * kernel uses them: {@link Memblock} during early boot, then the {@link PageAllocator} once {@link #finishBoot()}
 * has handed it everything memblock left free (as {@code memblock_free_all()} does).
 */
public final class PhysicalMemory {
    private final PhysicalMemoryMap map;
    private final ZoneLayout zones;
    private final MemoryContents contents = new MemoryContents();
    private final PageAllocator pages;
    private Memblock memblock;

    public PhysicalMemory(PhysicalMemoryMap map, ZoneLayout zones, int maxOrder) {
        this.map = map;
        this.zones = zones;
        this.pages = new PageAllocator(map.pageSize(), maxOrder, zones);
        this.memblock = new Memblock(map);
    }

    public PhysicalMemoryMap map() {
        return map;
    }

    public PageSize pageSize() {
        return map.pageSize();
    }

    public ZoneLayout zones() {
        return zones;
    }

    public MemoryContents contents() {
        return contents;
    }

    /** The page allocator; usable after {@link #finishBoot()}. */
    public PageAllocator pages() {
        if (memblock != null) {
            throw new IllegalStateException("the page allocator is not up yet: memblock still owns memory");
        }
        return pages;
    }

    /** The early allocator; usable only before {@link #finishBoot()}. */
    public Memblock memblock() {
        if (memblock == null) {
            throw new IllegalStateException("memblock is gone: the page allocator owns memory");
        }
        return memblock;
    }

    public boolean booted() {
        return memblock == null;
    }

    /** Hands every range memblock left free to the page allocator; memblock is unusable afterwards. */
    public void finishBoot() {
        pages.seed(memblock().freeRanges());
        memblock = null;
    }

    public boolean pfnValid(long pfn) {
        return map.pfnValid(pfn);
    }
}
