package dev.dmalab.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.testing.Seeds;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link LongObjectMap} against {@link HashMap}: every key (no reserved one), page-aligned keys, removal, growth. */
class LongObjectMapTest {
    @Test
    void everyLongIsAKeyAndNullIsNoValue() {
        LongObjectMap<String> m = new LongObjectMap<>(1);
        for (long k : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x8000_0000L}) {
            assertThat(m.get(k)).isNull();
            assertThat(m.put(k, "a" + k)).isNull();
            assertThat(m.put(k, "b" + k)).isEqualTo("a" + k);
        }
        assertThat(m.size()).isEqualTo(5);
        assertThat(m.get(Long.MIN_VALUE)).isEqualTo("b" + Long.MIN_VALUE);
        assertThat(m.remove(Long.MIN_VALUE)).isEqualTo("b" + Long.MIN_VALUE);
        assertThat(m.remove(Long.MIN_VALUE)).isNull();
        assertThatThrownBy(() -> m.put(7, null)).isInstanceOf(IllegalArgumentException.class);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < m.slots(); i++) {
            if (m.valueAt(i) != null) {
                values.add(m.valueAt(i));
            }
        }
        assertThat(values).containsExactlyInAnyOrder("b0", "b-1", "b" + Long.MAX_VALUE, "b" + 0x8000_0000L);
        m.clear();
        assertThat(m.isEmpty()).isTrue();
        assertThat(m.get(0)).isNull();
    }

    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void agreesWithHashMapOnAddressLikeKeys(long seed) {
        SeededRandom rnd = Seeds.random("LongObjectMapTest.hashMap", seed);
        LongObjectMap<Long> m = new LongObjectMap<>(rnd.nextInt(1, 16));
        Map<Long, Long> ref = new HashMap<>();
        // page- and slot-aligned addresses below and above 4 GiB (the replay's keys), a few arbitrary ones
        int live = 8 << rnd.nextInt(8);
        for (int step = 0; step < 30_000; step++) {
            long key =
                    switch (rnd.nextInt(8)) {
                        case 0 -> rnd.nextLong();
                        case 1 -> 0xffff_f000L - 0x1000L * rnd.nextInt(live);
                        case 2 -> 0x1_0000_0000L + 0x800L * rnd.nextInt(live);
                        default -> 0x7980_0000L + 0x800L * rnd.nextInt(live);
                    };
            String ctx = "seed=" + seed + " step=" + step + " key=" + key;
            if (rnd.nextInt(3) == 0) {
                assertThat(m.remove(key)).as(ctx).isEqualTo(ref.remove(key));
            } else if (rnd.nextBoolean()) {
                assertThat(m.put(key, (long) step)).as(ctx).isEqualTo(ref.put(key, (long) step));
            } else {
                assertThat(m.get(key)).as(ctx).isEqualTo(ref.get(key));
            }
            assertThat(m.size()).as(ctx).isEqualTo(ref.size());
        }
        for (Map.Entry<Long, Long> e : ref.entrySet()) {
            assertThat(m.get(e.getKey())).isEqualTo(e.getValue());
        }
    }
}
