package dev.dmalab.cache;

/**
 * Receives cache events that change what memory or the CPU sees. The DMA checker listens here to name lost
 * device data and discarded CPU writes. Callbacks must not access the cache.
 */
public interface CacheObserver {
    /** A dirty line of {@code cpu} was written back to memory (eviction, clean, or a snoop). */
    default void onWriteBack(int cpu, long lineAddr) {}

    /** A dirty line of {@code cpu} was invalidated without write-back: the CPU's writes to it are lost. */
    default void onDirtyDiscarded(int cpu, long lineAddr) {}

    /** {@code cpu} loaded the line at {@code lineAddr} from memory (a miss or a speculative fill): its copy is fresh. */
    default void onFill(int cpu, long lineAddr) {}
}
