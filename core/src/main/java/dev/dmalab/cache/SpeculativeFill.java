package dev.dmalab.cache;

/**
 * Whether the model's CPUs fill lines they did not ask for, as real prefetchers and speculative loads do. The
 * fill is deterministic: it happens at a defined moment (on a read miss) for defined lines.
 */
public enum SpeculativeFill {
    /** Only lines the CPU reads or writes are filled. */
    NONE,
    /** A read miss on line L also fills line L+1 if it is RAM (a next-line prefetcher). */
    NEXT_LINE
}
