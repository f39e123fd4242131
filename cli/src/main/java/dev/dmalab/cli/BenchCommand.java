package dev.dmalab.cli;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.kernel.DmaPathLog;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dmalab bench}: the kernel's {@code tools/dma/dma_map_benchmark} (options, limits, output lines) run against
 * the model, on any platform, kernel version and command line. It measures dmalab's own cost per modelled
 * {@code dma_map_single}/{@code dma_unmap_single} (or {@code _sg}) on this host with {@link System#nanoTime}: the
 * loop is {@link MapBenchmark}'s, which lists what it does as the kernel does and where it differs (chiefly: the
 * threads are interleaved on one host thread, the machine not being thread-safe).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run the kernel's DMA map benchmark (kernel/dma/map_benchmark.c with the options and output of"
                    + " tools/dma/dma_map_benchmark) against the model, and time the model's map and unmap calls on"
                    + " this host.",
            "The figures are dmalab's own costs on this host, not a prediction of the modelled hardware's.",
            "Threads are modelled kthreads, each on its own modelled CPU (thread i on CPU i mod cpus), so per-CPU"
                    + " swiotlb areas and IOVA rcaches are used as in the kernel; but the model is not thread-safe,"
                    + " so they are interleaved round-robin on ONE host thread: -t does not run in parallel and"
                    + " throughput does not scale with it.",
            "Exit status: 0 ok, 1 the modelled platform failed a mapping (or the checker found something),"
                    + " 2 bad usage."
        })
final class BenchCommand implements Callable<Integer> {
    /** The largest buffer memory all threads together may ask for: the model holds the bytes in this JVM. */
    static final long MAX_BUFFER_BYTES = 1L << 30;

    @Option(
            names = "-t",
            paramLabel = "THREADS",
            defaultValue = "1",
            description = "Benchmark threads, 1-1024 (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(
            names = "-s",
            paramLabel = "SECONDS",
            defaultValue = "20",
            description = "Seconds of host time to run, 1-300 (default ${DEFAULT-VALUE}, as the kernel tool's).")
    int seconds;

    @Option(
            names = "-n",
            paramLabel = "NODE",
            defaultValue = "-1",
            description = "NUMA node, -1 for none (default); the model has one node, 0.")
    int node;

    @Option(
            names = "-b",
            paramLabel = "BITS",
            defaultValue = "32",
            description = "DMA mask width during the run, 20-64 (default ${DEFAULT-VALUE}, as the kernel tool's).")
    int bits;

    @Option(
            names = "-d",
            paramLabel = "DIR",
            defaultValue = "0",
            description = "Direction: 0 BIDIRECTIONAL (default), 1 TO_DEVICE, 2 FROM_DEVICE.")
    int dir;

    @Option(
            names = "-x",
            paramLabel = "NS",
            defaultValue = "0",
            description = "dma_trans_ns, 0-10000000: simulated transfer time between map and unmap; it advances"
                    + " the model's simulated clock (lazy IOMMU flush timers see it), nothing sleeps.")
    int transNs;

    @Option(
            names = "-g",
            paramLabel = "PAGES",
            defaultValue = "1",
            description = "Granule, 1-1024: pages per mapping (single mode) or scatterlist entries of one page"
                    + " (SG mode).")
    int granule;

    @Option(
            names = "-m",
            paramLabel = "MODE",
            defaultValue = "0",
            description = "0 or single: dma_map_single (default); 1 or sg: dma_map_sg (the tool's -m, newer than"
                    + " Linux 6.12).")
    String mode;

    @Mixin
    PlatformOptions target;

    @Mixin
    CmdlineOption extra;

    @Option(
            names = "--device",
            paramLabel = "NAME",
            description = "The device bound to the benchmark (default: the platform's first device).")
    String device;

    @Option(
            names = "--cpus",
            paramLabel = "N",
            description = "Model N CPUs instead of the platform's (swiotlb areas and IOVA rcaches follow), 1-1024.")
    Integer cpus;

    @Option(
            names = "--warmup",
            paramLabel = "SECONDS",
            defaultValue = "1",
            description = "Untimed seconds of the same loop first, so that the JIT has compiled the model (the"
                    + " kernel needs none); 0-300, default ${DEFAULT-VALUE}.")
    int warmup;

    @Option(
            names = "--check",
            description = "Attach the DMA checker (dma-debug and the model's checks); its cost is timed, as"
                    + " dma-debug's is in a kernel with CONFIG_DMA_API_DEBUG.")
    boolean check;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MapBenchmark.Params params = validate();
        PlatformProfile profile = target.profile();
        if (cpus != null) {
            if (cpus < 1 || cpus > MapBenchmark.MAX_THREADS) {
                throw new UsageException("invalid number of CPUs, must be in 1-" + MapBenchmark.MAX_THREADS);
            }
            profile = profile.refined(
                    profile.ram(),
                    profile.reserved(),
                    profile.mmio(),
                    cpus,
                    Math.max(cpus, profile.possibleCpus()),
                    profile.devices());
        }
        KernelVersion version = target.version(profile);
        long bufferBytes = (long) threads * granule * profile.pageSize().bytes();
        if (bufferBytes > MAX_BUFFER_BYTES) {
            throw new UsageException("threads x granule x page size = " + Units.bytes(bufferBytes)
                    + " of buffers: dmalab holds modelled memory in this JVM and allows at most "
                    + Units.bytes(MAX_BUFFER_BYTES));
        }
        String devName = device != null
                ? device
                : profile.devices().isEmpty() ? null : profile.devices().get(0).name();
        if (devName == null) {
            throw new UsageException(profile.name() + " has no device to bind the benchmark to");
        }
        PrintWriter o = spec.commandLine().getOut();
        Machine.BootOptions boot = Machine.BootOptions.DEFAULT.withCmdline(extra.cmdline);

        // The path, from one untimed iteration on a twin of the machine with path logging on.
        Machine twin = Machine.boot(profile, version, boot);
        Device twinDev = UsageException.lookup(() -> twin.device(devName));
        twin.kernel().paths().enable();
        MapBenchmark probe;
        try {
            probe = new MapBenchmark(twin, twinDev, params.withThreads(1), System::nanoTime);
            probe.run(Long.MAX_VALUE, 1);
        } catch (IllegalStateException | KernelOops e) {
            probe = null; // reported by the real run below, which meets the same failure
        }

        Machine m = Machine.boot(profile, version, boot);
        Device dev = m.device(devName);
        DmaChecker checker = check ? m.attachChecker(CheckOptions.DEFAULT) : null;
        o.println("dmalab bench: dmalab's own cost of the modelled calls on this host (Java, System.nanoTime),"
                + " not a prediction of the modelled hardware's");
        o.println("platform  " + profile.name() + ", Linux " + version.name()
                + (m.cmdline().text().isEmpty() ? "" : " [" + m.cmdline().text() + "]") + ", device " + dev.name()
                + (dev.driverName() == null ? "" : " (" + dev.driverName() + ")")
                + (checker == null ? "" : ", DMA checker attached"));
        printPath(o, twin.kernel().paths());
        int modelCpus = m.kernel().context().cpus();
        o.println("threads   " + threads + " modelled kthread" + (threads == 1 ? "" : "s") + " on "
                + Math.min(threads, modelCpus) + " of " + modelCpus + " modelled CPU" + (modelCpus == 1 ? "" : "s")
                + ", interleaved round-robin on one host thread (not parallel)"
                + (warmup == 0 ? "" : "; " + warmup + " s untimed warm-up first"));

        int printkBefore = m.kernel().printk().lines().size();
        MapBenchmark bench;
        try {
            bench = new MapBenchmark(m, dev, params, System::nanoTime);
        } catch (IllegalStateException e) {
            o.println("dmalab: a benchmark thread could not allocate its buffer (-ENOMEM): " + e.getMessage());
            return Main.EXIT_FAILED;
        }
        MapBenchmark.Result r = null;
        Counters before = null;
        try {
            if (warmup > 0) {
                r = bench.run(warmup * 1_000_000_000L, Long.MAX_VALUE);
            }
            if (warmup == 0 || (r != null && r.failure() == null)) {
                before = Counters.of(m);
                r = bench.run();
            }
        } catch (KernelOops e) {
            o.println(e.report().text());
            return Main.EXIT_FAILED;
        }
        if (r == null) {
            o.println("dma_map_benchmark: failed to set dma_mask on device " + dev.name());
            o.println("dmalab: the modelled kernel refuses a " + bits + "-bit mask for " + dev.name()
                    + " (the ioctl returns -EINVAL)");
            return Main.EXIT_FAILED;
        }
        if (r.failure() != null) {
            o.println("dma_map_benchmark: " + r.failure());
            List<Printk.Line> log = m.kernel().printk().lines();
            for (Printk.Line l : log.subList(printkBefore, Math.min(log.size(), printkBefore + 10))) {
                o.println("  " + l.dmesg());
            }
            o.println("dmalab: the modelled platform failed a mapping after " + r.loops()
                    + " map+unmap pairs (the kernel's ioctl returns -ENOMEM and the tool prints no figures)");
            return Main.EXIT_FAILED;
        }
        o.printf(
                Locale.ROOT,
                "dma mapping benchmark(%s): threads:%d seconds:%d node:%d dir:%s granule:%d%n",
                params.mode().label,
                threads,
                seconds,
                node,
                params.dir().name(),
                granule);
        o.printf(
                Locale.ROOT,
                "average map latency(us):%.1f standard deviation:%.1f%n",
                r.avgMap100ns() / 10.0,
                r.mapStddev100ns() / 10.0);
        o.printf(
                Locale.ROOT,
                "average unmap latency(us):%.1f standard deviation:%.1f%n",
                r.avgUnmap100ns() / 10.0,
                r.unmapStddev100ns() / 10.0);
        double secs = r.elapsedNs() / 1e9;
        o.printf(
                Locale.ROOT,
                "dmalab: %,d map+unmap pairs in %.2f s of host time (%,.0f pairs/s); per call, ns: map %.1f (sd %.1f),"
                        + " unmap %.1f (sd %.1f); an empty timed region reads %d ns%n",
                r.loops(),
                secs,
                r.loops() / Math.max(secs, 1e-9),
                r.mapMeanNs(),
                r.mapSdNs(),
                r.unmapMeanNs(),
                r.unmapSdNs(),
                emptyRegionNs());
        o.println("dmalab: " + Counters.of(m).minus(before).describe(m));
        if (checker != null) {
            if (checker.findings().isEmpty()) {
                o.println("DMA checker: no findings");
            } else {
                Findings.print(o, checker.findings(), checker.suppressed());
                return Main.EXIT_FAILED;
            }
        }
        return Main.EXIT_OK;
    }

    /** The kernel tool's checks, in its order and with its messages; then the model's own limits. */
    private MapBenchmark.Params validate() {
        MapBenchmark.Mode m =
                switch (mode.toLowerCase(Locale.ROOT)) {
                    case "0", "single" -> MapBenchmark.Mode.SINGLE;
                    case "1", "sg" -> MapBenchmark.Mode.SG;
                    default -> throw new UsageException("invalid map mode, SINGLE_MODE:0, SG_MODE: 1 (or single, sg)");
                };
        if (threads <= 0 || threads > MapBenchmark.MAX_THREADS) {
            throw new UsageException("invalid number of threads, must be in 1-" + MapBenchmark.MAX_THREADS);
        }
        if (seconds <= 0 || seconds > MapBenchmark.MAX_SECONDS) {
            throw new UsageException("invalid number of seconds, must be in 1-" + MapBenchmark.MAX_SECONDS);
        }
        if (transNs < 0 || transNs > MapBenchmark.MAX_TRANS_DELAY_NS) {
            throw new UsageException("invalid transmit delay, must be in 0-" + MapBenchmark.MAX_TRANS_DELAY_NS);
        }
        if (bits < 20 || bits > 64) {
            throw new UsageException("invalid dma mask bit, must be in 20-64");
        }
        if (dir < 0 || dir > 2) {
            throw new UsageException("invalid dma direction (0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE)");
        }
        if (granule < 1 || granule > MapBenchmark.MAX_GRANULE) {
            throw new UsageException("invalid granule size, must be in 1-" + MapBenchmark.MAX_GRANULE);
        }
        if (warmup < 0 || warmup > MapBenchmark.MAX_SECONDS) {
            throw new UsageException("invalid warm-up, must be in 0-" + MapBenchmark.MAX_SECONDS + " seconds");
        }
        if (node != -1 && node != 0) {
            throw new UsageException("invalid numa node (the model has one node: 0, or -1 for none)");
        }
        Direction d = dir == 0 ? Direction.BIDIRECTIONAL : dir == 1 ? Direction.TO_DEVICE : Direction.FROM_DEVICE;
        return new MapBenchmark.Params(threads, seconds, bits, d, transNs, granule, m);
    }

    /** The first map and unmap call of the twin's probe iteration, with what served them (at most 3 notes each). */
    private static void printPath(PrintWriter o, DmaPathLog log) {
        List<DmaPathLog.Call> calls = log.calls().stream()
                .filter(c -> c.api().startsWith("dma_map") || c.api().startsWith("dma_unmap"))
                .toList();
        String label = "path      ";
        for (DmaPathLog.Call c : calls.subList(0, Math.min(2, calls.size()))) {
            StringBuilder sb = new StringBuilder(c.api() + " -> " + c.route());
            List<String> notes = c.notes();
            for (int i = 0; i < Math.min(3, notes.size()); i++) {
                sb.append(i == 0 ? ": " : "; ").append(notes.get(i));
            }
            if (notes.size() > 3) {
                sb.append("; ... (").append(notes.size() - 3).append(" more)");
            }
            o.println(label + sb);
            label = "          ";
        }
        if (calls.isEmpty()) {
            o.println("path      (not recorded: the probe iteration failed)");
        }
    }

    /**
     * The host time an empty timed region reads, which every figure includes: the median of 1001 back-to-back clock
     * reads, the lowest of 100 such batches (the first ones run interpreted).
     */
    static long emptyRegionNs() {
        long best = Long.MAX_VALUE;
        long[] d = new long[1001];
        for (int batch = 0; batch < 100; batch++) {
            for (int i = 0; i < d.length; i++) {
                long t0 = System.nanoTime();
                long t1 = System.nanoTime();
                d[i] = t1 - t0;
            }
            java.util.Arrays.sort(d);
            best = Math.min(best, d[d.length / 2]);
        }
        return best;
    }

    /** The model's counters that show which path the run took. */
    private record Counters(
            long bounced, long toBounce, long fromBounce, long iommuUnmaps, long xenFlushes, long xenExchanged) {
        static Counters of(Machine m) {
            DmaIommu iommu = m.iommu();
            return new Counters(
                    m.swiotlb().bouncedMaps(),
                    m.swiotlb().bytesToBounce(),
                    m.swiotlb().bytesFromBounce(),
                    iommu == null ? 0 : iommu.exposureCount(),
                    m.xen() == null ? 0 : m.xen().cacheFlushCalls(),
                    m.xen() == null ? 0 : m.xen().exchangedFrames());
        }

        Counters minus(Counters o) {
            return new Counters(
                    bounced - o.bounced,
                    toBounce - o.toBounce,
                    fromBounce - o.fromBounce,
                    iommuUnmaps - o.iommuUnmaps,
                    xenFlushes - o.xenFlushes,
                    xenExchanged - o.xenExchanged);
        }

        String describe(Machine m) {
            StringBuilder sb = new StringBuilder(String.format(
                    Locale.ROOT,
                    "during the run: swiotlb bounced maps %,d (%s to the pool, %s back)",
                    bounced,
                    Units.bytes(toBounce),
                    Units.bytes(fromBounce)));
            if (m.iommu() != null) {
                sb.append(String.format(Locale.ROOT, ", IOMMU unmaps completed %,d", iommuUnmaps));
            }
            if (m.xen() != null) {
                sb.append(String.format(
                        Locale.ROOT,
                        ", Xen cache-flush hypercalls %,d, frames exchanged %,d",
                        xenFlushes,
                        xenExchanged));
            }
            return sb.toString();
        }
    }
}
