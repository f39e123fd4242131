package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.dma.Direction;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import org.junit.jupiter.api.Test;

/**
 * {@link MapBenchmark}'s arithmetic with a fake host clock: the kernel's 100 ns truncation, integer mean and
 * standard deviation, and the exact nanosecond figures beside them; and the simulated clock the transfer time moves.
 */
class MapBenchmarkTest {
    /** A clock that moves by {@code step} ns at every read. */
    static final class SteppingClock implements java.util.function.LongSupplier {
        final long step;
        long now;

        SteppingClock(long step) {
            this.step = step;
        }

        @Override
        public long getAsLong() {
            now += step;
            return now;
        }
    }

    static MapBenchmark.Params params(int threads, int transNs) {
        return new MapBenchmark.Params(threads, 1, 64, Direction.TO_DEVICE, transNs, 1, MapBenchmark.Mode.SINGLE);
    }

    @Test
    void latenciesAreTruncatedTo100nsUnitsAsTheKernelDoes() {
        Machine m = Machine.boot(Platforms.builtIn("x86-q35"), KernelVersion.V6_12);
        MapBenchmark b = new MapBenchmark(m, m.device("0000:00:03.0"), params(3, 0), new SteppingClock(250));
        MapBenchmark.Result r = b.run(Long.MAX_VALUE, 10);
        assertThat(r.failure()).isNull();
        assertThat(r.loops()).isEqualTo(30);
        // every timed region reads one step: 250 ns, i.e. 2 units of 100 ns (0.2 us), no spread
        assertThat(r.avgMap100ns()).isEqualTo(2);
        assertThat(r.mapStddev100ns()).isZero();
        assertThat(r.avgUnmap100ns()).isEqualTo(2);
        assertThat(r.mapMeanNs()).isEqualTo(250.0);
        assertThat(r.unmapSdNs()).isZero();
    }

    @Test
    void threadsSpreadOverTheModelledCpusAndTheTransferAdvancesSimulatedTimeOnly() {
        Machine m = Machine.boot(
                Platforms.builtIn("x86-q35")
                        .refined(
                                Platforms.builtIn("x86-q35").ram(),
                                Platforms.builtIn("x86-q35").reserved(),
                                Platforms.builtIn("x86-q35").mmio(),
                                2,
                                2,
                                Platforms.builtIn("x86-q35").devices()),
                KernelVersion.V6_12);
        MapBenchmark b = new MapBenchmark(m, m.device("0000:00:03.0"), params(3, 5000), new SteppingClock(1));
        assertThat(b.cpuOf(0)).isZero();
        assertThat(b.cpuOf(1)).isEqualTo(1);
        assertThat(b.cpuOf(2)).isZero();
        long before = m.kernel().clock().nowNs();
        b.run(Long.MAX_VALUE, 4);
        assertThat(m.kernel().clock().nowNs() - before).isEqualTo(4 * 5000);
    }

    @Test
    void intSqrtIsTheFloorOfTheSquareRoot() {
        assertThat(MapBenchmark.intSqrt(0)).isZero();
        assertThat(MapBenchmark.intSqrt(15)).isEqualTo(3);
        assertThat(MapBenchmark.intSqrt(16)).isEqualTo(4);
        assertThat(MapBenchmark.intSqrt(Long.MAX_VALUE)).isEqualTo(3037000499L);
    }
}
