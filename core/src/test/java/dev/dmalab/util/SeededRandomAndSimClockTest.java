package dev.dmalab.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The model's only randomness is replayable from its seed; simulated time only moves forward. */
class SeededRandomAndSimClockTest {
    static long[] draw(SeededRandom r) {
        long[] out = new long[40];
        for (int i = 0; i < 10; i++) {
            out[i] = r.nextLong();
            out[10 + i] = r.nextInt(1000);
            out[20 + i] = r.nextLong(-5, 5);
            out[30 + i] = r.nextBoolean() ? 1 : 0;
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameSequenceAndSplitsAreDeterministic() {
        SeededRandom a = new SeededRandom(612);
        SeededRandom b = new SeededRandom(612);
        assertThat(a.seed()).isEqualTo(612);
        assertThat(draw(a)).isEqualTo(draw(b));
        assertThat(draw(a.split())).isEqualTo(draw(b.split()));
        byte[] x = new byte[33];
        byte[] y = new byte[33];
        a.nextBytes(x);
        b.nextBytes(y);
        assertThat(x).isEqualTo(y);
        assertThat(draw(new SeededRandom(613))).isNotEqualTo(draw(new SeededRandom(612)));
    }

    @Test
    void boundsAreRespected() {
        SeededRandom r = new SeededRandom(1);
        int[] seen = new int[5];
        for (int i = 0; i < 2000; i++) {
            int v = r.nextInt(3, 8);
            assertThat(v).isBetween(3, 7);
            seen[v - 3]++;
            assertThat(r.nextInt(4)).isBetween(0, 3);
            assertThat(r.nextLong(-2, 2)).isBetween(-2L, 1L);
        }
        assertThat(Arrays.stream(seen).min().orElseThrow()).isPositive();
    }

    @Test
    void simulatedTimeOnlyMovesForward() {
        SimClock c = new SimClock();
        assertThat(c.nowNs()).isZero();
        c.advanceNs(5);
        c.advanceTo(5);
        c.advanceTo(100);
        assertThat(c.nowNs()).isEqualTo(100);
        assertThatThrownBy(() -> c.advanceNs(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.advanceTo(99))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backwards");
        SimClock late = new SimClock(Long.MAX_VALUE - 1);
        assertThatThrownBy(() -> late.advanceNs(2)).isInstanceOf(ArithmeticException.class);
        assertThat(late.nowNs()).isEqualTo(Long.MAX_VALUE - 1);
    }
}
