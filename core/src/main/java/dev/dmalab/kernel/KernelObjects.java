package dev.dmalab.kernel;

import java.util.Map;
import java.util.TreeMap;

/**
 * The live kernel objects that are not DMA mappings but may sit next to one: slab objects a driver allocated
 * ({@code kmalloc}), and each task's kernel stack ({@code current->stack}). The DMA checker asks it what else lives
 * in a cache line or an IOMMU granule that a mapping touches, and whether a mapped buffer is on the stack.
 *
 * <p>Models what {@code mm/slub.c} and {@code kernel/fork.c} know about object extents, not how they allocate:
 * objects are registered by whoever placed them (the workload's allocator) by physical address.
 *
 * <p>Deliberate differences: stacks are linear-map pages ({@code CONFIG_VMAP_STACK=n}); with a vmapped stack 6.12
 * refuses {@code dma_map_single} of it as vmalloc memory before dma-debug's stack check runs.
 */
public final class KernelObjects {
    /** One live object: {@code [pa, pa + size)}, named for reports ({@code "kmalloc-256"}, {@code "stack"}). */
    public record LiveObject(long pa, long size, String kind) {
        public long end() {
            return pa + size;
        }
    }

    private final TreeMap<Long, LiveObject> objects = new TreeMap<>();
    private final Map<Integer, LiveObject> stacks = new TreeMap<>();

    /** Registers a live object; objects must not overlap. */
    public void add(long pa, long size, String kind) {
        if (size <= 0) {
            throw new IllegalArgumentException("object size must be positive: " + size);
        }
        Map.Entry<Long, LiveObject> below = objects.floorEntry(pa + size - 1);
        if (below != null && below.getValue().end() > pa) {
            throw new IllegalArgumentException("object at 0x" + Long.toHexString(pa) + "+" + size
                    + " overlaps the live " + below.getValue().kind() + " at 0x" + Long.toHexString(below.getKey()));
        }
        objects.put(pa, new LiveObject(pa, size, kind));
    }

    /** Frees the object starting at {@code pa}; false if there is none. */
    public boolean remove(long pa) {
        return objects.remove(pa) != null;
    }

    /** The first live object with bytes in {@code [pa, pa + len)}, or null. */
    public LiveObject firstOverlapping(long pa, long len) {
        if (len <= 0) {
            return null;
        }
        Map.Entry<Long, LiveObject> e = objects.floorEntry(pa);
        if (e != null && e.getValue().end() > pa) {
            return e.getValue();
        }
        Map.Entry<Long, LiveObject> next = objects.ceilingEntry(pa);
        return next != null && next.getKey() < pa + len ? next.getValue() : null;
    }

    /**
     * The first live object with bytes in {@code [pa, pa + len)} other than {@code self} (the object a mapping
     * lies in, whose own unmapped bytes are not "other" data), or null.
     */
    public LiveObject firstOverlappingOther(long pa, long len, LiveObject self) {
        if (len <= 0) {
            return null;
        }
        Map.Entry<Long, LiveObject> e = objects.floorEntry(pa);
        if (e != null && e.getValue().end() > pa && e.getValue() != self) {
            return e.getValue();
        }
        for (LiveObject o : objects.subMap(pa, false, pa + len, false).values()) {
            if (o != self) {
                return o;
            }
        }
        return null;
    }

    /** Whether any live object has bytes in {@code [pa, pa + len)}. */
    public boolean anyIn(long pa, long len) {
        return firstOverlapping(pa, len) != null;
    }

    /** Records {@code [pa, pa + size)} as the kernel stack of task {@code pid}. */
    public void setStack(int pid, long pa, long size) {
        stacks.put(pid, new LiveObject(pa, size, "stack"));
    }

    /** The kernel stack of {@code pid}, or null if the task has none registered. */
    public LiveObject stackOf(int pid) {
        return stacks.get(pid);
    }

    /** Whether any task's stack is registered ({@link #stackOf} is null for every pid when not). */
    public boolean hasStacks() {
        return !stacks.isEmpty();
    }

    public int size() {
        return objects.size();
    }
}
