package dev.dmalab.cache;

import dev.dmalab.util.Bits;

/**
 * Shape of one CPU's data cache.
 *
 * @param lineBytes cache line size ({@code L1_CACHE_BYTES}; 64 on every modelled arch)
 * @param sizeBytes capacity of one CPU's cache, modelled as a single level up to the point of coherency
 * @param ways associativity; replacement is least-recently-used within a set, which is deterministic
 */
public record CacheGeometry(int lineBytes, int sizeBytes, int ways) {
    public static final CacheGeometry DEFAULT = new CacheGeometry(64, 64 * 1024, 4);

    public CacheGeometry {
        if (!Bits.isPowerOfTwo(lineBytes) || lineBytes < 16 || lineBytes > 256) {
            throw new IllegalArgumentException("cache line size must be a power of two in [16, 256]: " + lineBytes);
        }
        if (ways < 1 || ways > 32) {
            throw new IllegalArgumentException("cache ways out of range [1, 32]: " + ways);
        }
        if (sizeBytes <= 0
                || sizeBytes % (lineBytes * ways) != 0
                || !Bits.isPowerOfTwo(sizeBytes / (lineBytes * ways))) {
            throw new IllegalArgumentException("cache size " + sizeBytes + " must be a power-of-two number of sets of "
                    + ways + " x " + lineBytes + "-byte lines");
        }
    }

    public int sets() {
        return sizeBytes / (lineBytes * ways);
    }

    public int lineShift() {
        return Integer.numberOfTrailingZeros(lineBytes);
    }
}
