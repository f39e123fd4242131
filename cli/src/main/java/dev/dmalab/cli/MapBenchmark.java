package dev.dmalab.cli;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.ExecContext;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import java.util.function.LongSupplier;

/**
 * The kernel's DMA map benchmark ({@code kernel/dma/map_benchmark.c}, driven by {@code tools/dma/dma_map_benchmark})
 * run against the <em>model</em>: each benchmark kthread's loop — stain the buffer with {@code 0x66} unless the
 * direction is FROM_DEVICE, time the map, "transfer" for {@code dma_trans_ns}, time the unmap — made on a booted
 * {@link Machine}, with the model's calls timed by a host clock (the CLI passes {@link System#nanoTime}). What is
 * measured is dmalab's own cost on this host, never a prediction of the modelled hardware's.
 *
 * <h2>What is the same as the kernel's</h2>
 *
 * <ul>
 *   <li>Single mode: one buffer of {@code granule} contiguous pages per thread, {@code dma_map_single} followed by
 *       {@code dma_mapping_error} inside the timed region, {@code dma_unmap_single} timed alone. SG mode (newer than
 *       6.12: {@code -m 1}): {@code granule} separate pages in a scatterlist, {@code dma_map_sg} (0 entries is a
 *       failure) and {@code dma_unmap_sg}.
 *   <li>Each latency is truncated to 100 ns units before it is summed, and the mean, the variance ({@code E[x²] −
 *       mean²}) and the standard deviation (integer square root) are computed in integer arithmetic, as
 *       {@code do_map_benchmark} does; the loop count covers every thread.
 *   <li>The DMA mask is set to {@code dma_bits} for the run and restored afterwards.
 *   <li>Thread {@code i} is task {@code dma-map-benchmark/i}; it runs on modelled CPU {@code i mod cpus}, so per-CPU
 *       structures (swiotlb areas, IOVA rcaches) are used as the kernel's threads use them.
 * </ul>
 *
 * <h2>Deliberate differences</h2>
 *
 * <ul>
 *   <li><b>No parallelism.</b> The modelled machine is not thread-safe, so the kthreads are interleaved round-robin
 *       on the one Java thread that calls {@link #run}: every round, each thread in turn stains and maps, then the
 *       simulated clock advances by {@code dma_trans_ns} (the threads' transfers overlap, as they would in
 *       parallel), then each thread unmaps. So with {@code N} threads, {@code N} mappings are live at once, as in
 *       the kernel, but the host runs one call at a time: the figures are per-call latencies on one host core, not
 *       the contended latencies of {@code N} cores, and throughput does not scale with {@code N}.
 *   <li>The transfer time advances the simulated clock ({@code SimClock}); nothing sleeps.
 *   <li>Besides the kernel's 100 ns figures, the exact nanosecond mean and standard deviation are kept (the kernel
 *       reports 0.0 µs for anything under 100 ns, which is every direct mapping of the model).
 *   <li>The run stops at the first failed mapping (the kernel's failing thread exits, the others run on until the
 *       time is up, and the ioctl then fails with no figures: the outcome is the same).
 *   <li>{@code alloc_pages_exact} is modelled as an allocation of the next power of two of pages whose tail is not
 *       given back.
 * </ul>
 */
final class MapBenchmark {
    /** {@code DMA_MAP_MAX_THREADS}. */
    static final int MAX_THREADS = 1024;
    /** {@code DMA_MAP_MAX_SECONDS}. */
    static final int MAX_SECONDS = 300;
    /** {@code DMA_MAP_MAX_TRANS_DELAY}: 10 ms. */
    static final int MAX_TRANS_DELAY_NS = 10_000_000;
    /** The granule limit of {@code map_benchmark_ioctl}. */
    static final int MAX_GRANULE = 1024;

    /** {@code DMA_MAP_BENCH_SINGLE_MODE} and {@code DMA_MAP_BENCH_SG_MODE}, with the names the tool prints. */
    enum Mode {
        SINGLE("SINGLE_MODE"),
        SG("SG_MODE");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    /**
     * One run's parameters ({@code struct map_benchmark}'s inputs), already validated by the command.
     *
     * @param seconds wall-clock seconds of host time to run for
     * @param transNs {@code dma_trans_ns}: simulated time between each map and its unmap
     * @param granule pages per mapping (single mode) or scatterlist entries of one page (SG mode)
     */
    record Params(int threads, int seconds, int dmaBits, Direction dir, int transNs, int granule, Mode mode) {
        Params withThreads(int n) {
            return new Params(n, seconds, dmaBits, dir, transNs, granule, mode);
        }
    }

    /**
     * What a run measured.
     *
     * @param loops map+unmap pairs made (over all threads)
     * @param avgMap100ns the kernel's {@code avg_map_100ns}; likewise the other three 100 ns figures
     * @param mapMeanNs the mean map latency in ns, without truncation; likewise the other three ns figures
     * @param elapsedNs host time of the timed loop
     * @param failure null, or why the run stopped: a failed mapping, as the kernel would log it
     */
    record Result(
            long loops,
            long avgMap100ns,
            long mapStddev100ns,
            long avgUnmap100ns,
            long unmapStddev100ns,
            double mapMeanNs,
            double mapSdNs,
            double unmapMeanNs,
            double unmapSdNs,
            long elapsedNs,
            String failure) {}

    /** A modelled benchmark kthread: its CPU, its buffer and its current mapping. */
    private static final class KThread {
        final int index;
        final int cpu;
        final String comm;
        long bufVa;
        long bufBytes;
        long[] pagePhys;
        ScatterList sg;
        long dmaAddr;
        boolean mapped;

        KThread(int index, int cpu) {
            this.index = index;
            this.cpu = cpu;
            this.comm = "dma-map-benchmark/" + index;
        }
    }

    private final Machine machine;
    private final DmaApi dma;
    private final Device dev;
    private final Params params;
    private final LongSupplier clock;
    private final KThread[] threads;

    private final Latency mapLatency = new Latency();
    private final Latency unmapLatency = new Latency();
    private long loops;

    /**
     * Prepares the threads: each allocates its buffer ({@code alloc_pages_exact} or one page per scatterlist entry)
     * on the machine.
     *
     * @param clock the host clock in ns that times the calls (never the simulated one)
     * @throws IllegalStateException if the modelled kernel has no memory for a thread's buffer (the kernel's -ENOMEM)
     */
    MapBenchmark(Machine machine, Device dev, Params params, LongSupplier clock) {
        this.machine = machine;
        this.dma = machine.dma();
        this.dev = dev;
        this.params = params;
        this.clock = clock;
        int cpus = machine.kernel().context().cpus();
        long pageBytes = machine.memory().pageSize().bytes();
        this.threads = new KThread[params.threads()];
        for (int i = 0; i < threads.length; i++) {
            KThread t = new KThread(i, i % cpus);
            if (params.mode() == Mode.SINGLE) {
                int order = 32 - Integer.numberOfLeadingZeros(params.granule() - 1);
                long phys = machine.allocKernelPages(order, Zone.NORMAL);
                t.bufVa = machine.addressSpace().physToVirt(phys);
                t.bufBytes = params.granule() * pageBytes;
            } else {
                t.pagePhys = new long[params.granule()];
                t.sg = new ScatterList(params.granule());
                for (int p = 0; p < params.granule(); p++) {
                    t.pagePhys[p] = machine.allocKernelPages(0, Zone.NORMAL);
                    t.sg.add(t.pagePhys[p], 0, (int) pageBytes);
                }
            }
            threads[i] = t;
        }
    }

    /** The modelled CPU thread {@code i} runs on. */
    int cpuOf(int thread) {
        return threads[thread].cpu;
    }

    /**
     * Runs the loop for {@code params.seconds()} of host time (checked after every round of all threads), with the
     * device's DMA mask set to {@code dma_bits} and restored afterwards; may be called again (the figures restart).
     *
     * @return the figures, or a result carrying the failure of a mapping; {@code null} when {@code dma_set_mask}
     *     refuses the mask (the caller reports it)
     */
    Result run() {
        return run(params.seconds() * 1_000_000_000L, Long.MAX_VALUE);
    }

    /**
     * {@link #run()} for {@code durationNs} of host time, stopping after at most {@code maxRounds} rounds of all
     * threads; the figures cover this call only (an earlier call is a warm-up).
     */
    Result run(long durationNs, long maxRounds) {
        long oldMask = dma.getMask(dev);
        long mask = params.dmaBits() == 64 ? -1L : (1L << params.dmaBits()) - 1;
        if (dma.setMask(dev, mask) != 0) {
            return null;
        }
        try {
            return loop(durationNs, maxRounds);
        } finally {
            dma.setMask(dev, oldMask);
        }
    }

    private Result loop(long durationNs, long maxRounds) {
        loops = 0;
        mapLatency.reset();
        unmapLatency.reset();
        long start = clock.getAsLong();
        String failure = null;
        for (long round = 0; round < maxRounds && failure == null; round++) {
            for (KThread t : threads) {
                failure = map(t);
                if (failure != null) {
                    break;
                }
            }
            machine.kernel().clock().advanceNs(params.transNs());
            for (KThread t : threads) {
                if (t.mapped) {
                    unmap(t);
                }
            }
            if (clock.getAsLong() - start >= durationNs) {
                break;
            }
        }
        return result(clock.getAsLong() - start, failure);
    }

    /** Stains (untimed) and maps (timed) thread {@code t}'s buffer; returns the kernel's error message on failure. */
    private String map(KThread t) {
        enter(t);
        if (params.dir() != Direction.FROM_DEVICE) {
            stain(t);
        }
        long t0;
        long t1;
        if (params.mode() == Mode.SINGLE) {
            t0 = clock.getAsLong();
            long addr = dma.mapSingleAttrs(dev, t.bufVa, t.bufBytes, params.dir(), 0);
            boolean error = dma.mappingError(dev, addr) != 0;
            t1 = clock.getAsLong();
            if (error) {
                return "dma_map_single failed on " + dev.name();
            }
            t.dmaAddr = addr;
        } else {
            t0 = clock.getAsLong();
            int ents = dma.mapSgAttrs(dev, t.sg, params.granule(), params.dir(), 0);
            t1 = clock.getAsLong();
            if (ents == 0) {
                return "dma_map_sg failed on " + dev.name();
            }
        }
        t.mapped = true;
        mapLatency.add(t1 - t0);
        return null;
    }

    /** Unmaps (timed) thread {@code t}'s mapping and counts the loop. */
    private void unmap(KThread t) {
        enter(t);
        long t0 = clock.getAsLong();
        if (params.mode() == Mode.SINGLE) {
            dma.unmapSingleAttrs(dev, t.dmaAddr, t.bufBytes, params.dir(), 0);
        } else {
            dma.unmapSgAttrs(dev, t.sg, params.granule(), params.dir(), 0);
        }
        long t1 = clock.getAsLong();
        t.mapped = false;
        unmapLatency.add(t1 - t0);
        loops++;
    }

    /** Makes {@code t} the current task on its CPU (what the scheduler does when the kthread runs). */
    private void enter(KThread t) {
        ExecContext c = machine.kernel().context();
        c.onCpu(t.cpu).task(t.comm, 1000 + t.index);
    }

    /** {@code memset(buf, 0x66, size)}: dirties the buffer in the modelled caches, untimed. */
    private void stain(KThread t) {
        if (params.mode() == Mode.SINGLE) {
            machine.cpu().memset(t.bufVa, (byte) 0x66, t.bufBytes);
        } else {
            long pageBytes = machine.memory().pageSize().bytes();
            for (long phys : t.pagePhys) {
                machine.cpu().memsetPhys(phys, (byte) 0x66, pageBytes);
            }
        }
    }

    private Result result(long elapsedNs, String failure) {
        long n = loops;
        return new Result(
                n,
                mapLatency.avg100ns(n),
                mapLatency.stddev100ns(n),
                unmapLatency.avg100ns(n),
                unmapLatency.stddev100ns(n),
                mapLatency.meanNs(n),
                mapLatency.sdNs(n),
                unmapLatency.meanNs(n),
                unmapLatency.sdNs(n),
                elapsedNs,
                failure);
    }

    /**
     * The accumulators of one latency: the kernel's (sum and sum of squares of the 100 ns-truncated values, integer
     * mean and {@code int_sqrt64} of {@code E[x²] − mean²}) and exact ones in ns, divided by the loop count (every
     * successful map is unmapped within its round, so both latencies have one sample per loop).
     */
    private static final class Latency {
        private long sum100;
        private long sumSq100;
        private double sumNs;
        private double sumSqNs;

        void reset() {
            sum100 = 0;
            sumSq100 = 0;
            sumNs = 0;
            sumSqNs = 0;
        }

        void add(long ns) {
            long ns100 = ns / 100;
            sum100 += ns100;
            sumSq100 += ns100 * ns100;
            sumNs += ns;
            sumSqNs += (double) ns * ns;
        }

        long avg100ns(long n) {
            return n == 0 ? 0 : sum100 / n;
        }

        long stddev100ns(long n) {
            long avg = avg100ns(n);
            return n == 0 ? 0 : intSqrt(sumSq100 / n - avg * avg);
        }

        double meanNs(long n) {
            return n == 0 ? 0 : sumNs / n;
        }

        double sdNs(long n) {
            double mean = meanNs(n);
            return n == 0 ? 0 : Math.sqrt(Math.max(0, sumSqNs / n - mean * mean));
        }
    }

    /** {@code int_sqrt64}: the largest {@code r} with {@code r² ≤ x}. */
    static long intSqrt(long x) {
        if (x <= 0) {
            return 0;
        }
        long r = (long) Math.sqrt((double) x);
        while (r > x / r) {
            r--;
        }
        while (r + 1 <= x / (r + 1)) {
            r++;
        }
        return r;
    }
}
