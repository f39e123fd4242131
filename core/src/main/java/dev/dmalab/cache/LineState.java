package dev.dmalab.cache;

/** The state of one cache line. */
public enum LineState {
    /** Not present in any CPU's cache. */
    INVALID,
    /** Present and equal to memory as of when it was filled or last cleaned. */
    CLEAN,
    /** Present and modified by the CPU; memory is older until it is written back. */
    DIRTY
}
