package dev.dmalab.util;

import java.util.SplittableRandom;

/**
 * The only source of randomness in the model: explicitly seeded, replayable, and reported. Tests print the seed
 * of each randomized run so that a failure can be replayed with {@code -Ddmalab.seed=N}.
 */
public final class SeededRandom {
    private final long seed;
    private final SplittableRandom random;

    public SeededRandom(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public long seed() {
        return seed;
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Uniform in [origin, bound). */
    public int nextInt(int origin, int bound) {
        return random.nextInt(origin, bound);
    }

    public long nextLong() {
        return random.nextLong();
    }

    /** Uniform in [origin, bound). */
    public long nextLong(long origin, long bound) {
        return random.nextLong(origin, bound);
    }

    public boolean nextBoolean() {
        return random.nextBoolean();
    }

    public void nextBytes(byte[] bytes) {
        random.nextBytes(bytes);
    }

    /** A new independent generator derived from this one (deterministically). */
    public SeededRandom split() {
        return new SeededRandom(random.nextLong());
    }
}
