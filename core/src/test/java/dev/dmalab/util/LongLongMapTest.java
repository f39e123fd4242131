package dev.dmalab.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.testing.Seeds;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The open-addressing map against {@link HashMap}: puts, overwrites, removals (backward shift), growth, clear. */
class LongLongMapTest {
    static final long MISSING = -7;

    @Test
    void basicContract() {
        LongLongMap m = new LongLongMap(1, MISSING);
        assertThat(m.isEmpty()).isTrue();
        assertThat(m.get(5)).isEqualTo(MISSING);
        assertThat(m.put(5, 50)).isEqualTo(MISSING);
        assertThat(m.put(5, 51)).isEqualTo(50);
        assertThat(m.get(5)).isEqualTo(51);
        assertThat(m.containsKey(5)).isTrue();
        assertThat(m.size()).isEqualTo(1);
        assertThat(m.remove(5)).isEqualTo(51);
        assertThat(m.remove(5)).isEqualTo(MISSING);
        assertThat(m.containsKey(5)).isFalse();
        // Values equal to the missing value and extreme keys are stored like any other.
        m.put(-1, MISSING);
        m.put(Long.MAX_VALUE, 1);
        m.put(0, 0);
        assertThat(m.containsKey(-1)).isTrue();
        assertThat(m.get(Long.MAX_VALUE)).isEqualTo(1);
        assertThat(m.sortedKeys()).containsExactly(-1, 0, Long.MAX_VALUE);
        m.clear();
        assertThat(m.size()).isZero();
        assertThat(m.get(0)).isEqualTo(MISSING);
        assertThat(m.sortedKeys()).isEmpty();
    }

    @Test
    void theReservedKeyIsRejectedOnPutAndNeverFound() {
        LongLongMap m = new LongLongMap(4, MISSING);
        assertThatThrownBy(() -> m.put(Long.MIN_VALUE, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reserved");
        // Long.MIN_VALUE marks empty slots internally; it can never be a key, so it is absent.
        assertThat(m.get(Long.MIN_VALUE)).isEqualTo(MISSING);
        assertThat(m.containsKey(Long.MIN_VALUE)).isFalse();
        m.put(3, 30);
        m.remove(3); // leaves a stale value behind the emptied slot
        assertThat(m.get(Long.MIN_VALUE)).isEqualTo(MISSING);
        assertThat(m.containsKey(Long.MIN_VALUE)).isFalse();
        assertThat(m.remove(Long.MIN_VALUE)).isEqualTo(MISSING);
    }

    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void behavesLikeHashMap(long seed) {
        SeededRandom rnd = Seeds.random("LongLongMapTest.hashMap", seed);
        LongLongMap m = new LongLongMap(rnd.nextInt(1, 8), MISSING);
        Map<Long, Long> ref = new HashMap<>();
        // A small key space forces overwrites, long probe chains and removals inside clusters; a few wide keys and
        // pfn-like keys (multiples of a power of two) exercise the hash.
        int range = 16 << rnd.nextInt(6);
        for (int step = 0; step < 20_000; step++) {
            long key =
                    switch (rnd.nextInt(10)) {
                        case 0 -> rnd.nextLong(Long.MIN_VALUE + 1, Long.MAX_VALUE);
                        case 1 -> (long) rnd.nextInt(range) << 32;
                        default -> rnd.nextInt(range) - range / 2;
                    };
            String ctx = "seed=" + seed + " step=" + step + " key=" + key;
            int op = rnd.nextInt(100);
            if (op < 45) {
                long value = rnd.nextInt(8) == 0 ? MISSING : rnd.nextLong();
                Long old = ref.put(key, value);
                assertThat(m.put(key, value)).as(ctx + " put").isEqualTo(old == null ? MISSING : old);
            } else if (op < 80) {
                Long old = ref.remove(key);
                assertThat(m.remove(key)).as(ctx + " remove").isEqualTo(old == null ? MISSING : old);
            } else if (op < 95) {
                assertThat(m.get(key)).as(ctx + " get").isEqualTo(ref.getOrDefault(key, MISSING));
                assertThat(m.containsKey(key)).as(ctx + " containsKey").isEqualTo(ref.containsKey(key));
            } else if (op == 99 && rnd.nextInt(20) == 0) {
                m.clear();
                ref.clear();
            }
            assertThat(m.size()).as(ctx + " size").isEqualTo(ref.size());
            if (step % 500 == 0) {
                checkAll(m, ref, ctx);
            }
        }
        checkAll(m, ref, "seed=" + seed + " end");
    }

    private static void checkAll(LongLongMap m, Map<Long, Long> ref, String ctx) {
        for (Map.Entry<Long, Long> e : ref.entrySet()) {
            assertThat(m.get(e.getKey())).as(ctx + " key " + e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(m.sortedKeys())
                .as(ctx + " keys")
                .containsExactly(ref.keySet().stream()
                        .mapToLong(Long::longValue)
                        .sorted()
                        .toArray());
        assertThat(m.isEmpty()).isEqualTo(ref.isEmpty());
    }
}
