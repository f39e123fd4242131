package dev.dmalab.dma;

import dev.dmalab.device.Device;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The managed-resource records of the {@code dmam_*} API ({@code drivers/base/devres.c} as {@code
 * kernel/dma/mapping.c} uses it): one record per managed coherent allocation, released in reverse allocation order
 * when the driver detaches.
 */
public final class Devres {
    /** {@code struct dma_devres}. */
    public record Record(long size, long vaddr, long dmaHandle, long attrs) {}

    private final Map<Device, Deque<Record>> records = new LinkedHashMap<>();

    void add(Device dev, Record r) {
        records.computeIfAbsent(dev, d -> new ArrayDeque<>()).push(r);
    }

    /** Removes the record for {@code vaddr} (the match compares the CPU address only); null if none. */
    Record remove(Device dev, long vaddr) {
        Deque<Record> q = records.get(dev);
        if (q == null) {
            return null;
        }
        for (Record r : q) {
            if (r.vaddr() == vaddr) {
                q.remove(r);
                return r;
            }
        }
        return null;
    }

    /** Takes all of {@code dev}'s records, newest first (the release order). */
    List<Record> drain(Device dev) {
        Deque<Record> q = records.remove(dev);
        return q == null ? List.of() : new ArrayList<>(q);
    }

    /** The live managed allocations of {@code dev}, newest first. */
    public List<Record> recordsOf(Device dev) {
        Deque<Record> q = records.get(dev);
        return q == null ? List.of() : List.copyOf(q);
    }
}
