package dev.dmalab.testing;

import dev.dmalab.util.SeededRandom;
import java.util.List;

/**
 * Seeds for randomized tests (Lucene style): a fixed default list, replaced by the single seed given with {@code
 * -Ddmalab.seed=N} (decimal or {@code 0x} hex) so that a failure can be replayed. Every randomized test prints its
 * seed on every run and puts it in every assertion message.
 */
public final class Seeds {
    /** The system property that replays one seed. */
    public static final String PROPERTY = "dmalab.seed";

    /** The seeds run when {@link #PROPERTY} is not set. Fixed: a run never depends on the clock. */
    static final List<Long> DEFAULTS = List.of(0x5EED_0001L, 42L, 20190118L, 612L, 0xD15EA5EL);

    private Seeds() {}

    /** The seeds to run: the property's value alone if set, else {@link #DEFAULTS}. */
    public static List<Long> seeds() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULTS;
        }
        String v = value.trim();
        long seed = v.startsWith("0x") || v.startsWith("0X")
                ? Long.parseUnsignedLong(v.substring(2), 16)
                : Long.parseLong(v);
        return List.of(seed);
    }

    /** A generator for {@code test} with {@code seed}; prints the seed and how to replay it. */
    public static SeededRandom random(String test, long seed) {
        System.out.println("[dmalab] " + test + " seed=" + seed + " (replay: -D" + PROPERTY + "=" + seed + ")");
        return new SeededRandom(seed);
    }
}
