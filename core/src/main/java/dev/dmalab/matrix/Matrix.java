package dev.dmalab.matrix;

import dev.dmalab.check.CheckOptions;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.replay.ReplaySetup;
import dev.dmalab.replay.TraceReplay;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.swiotlb.IoTlbMem;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a subject (a workload or a trace) on every platform × kernel version of a request and classifies each cell.
 *
 * <p>Contract: the result is a pure function of the request. Cells come back in platform order, and within a
 * platform in kernel order, whatever the parallelism and whichever cell finished first; running the same request
 * twice, or with another parallelism, gives an equal result.
 *
 * <h2>Implementation notes</h2>
 *
 * Every cell boots its own {@link Machine} (machines are not thread-safe, and a cell must not see another's state)
 * and runs on one fixed thread pool of {@code parallelism} threads — the only {@code ExecutorService} in dmalab —
 * which is shut down before {@link #run} returns. Results are placed by cell index; {@link Progress} hears of each
 * completed cell on the calling thread, in completion order (the only thing that sees that order). A cell that
 * cannot boot ({@link InputException} or {@link IllegalArgumentException} from {@link Machine#boot}, for example a
 * {@code swiotlb=} value that kernel does not parse) is unsupported, with the boot error as its detail. Any other
 * exception in a cell is a dmalab bug: it ends the matrix and is rethrown.
 *
 * <p>How a cell is classified is {@link CellOutcome}'s precedence; a workload's own outcome is mapped as:
 *
 * <ul>
 *   <li>{@code UNSUPPORTED} → unsupported, with the workload's reason;
 *   <li>{@code OOPS} → oops;
 *   <li>{@code swiotlb_failed_maps > 0} → pool exhausted, even when the driver's error path coped (the pool ran
 *       dry, which is what a platform engineer needs to know);
 *   <li>{@code FAILED} with findings → findings N, without → failed.
 * </ul>
 *
 * A trace is ok when the model makes every mapping the traced kernel made, pool exhausted when it failed some and
 * swiotlb failed maps, failed otherwise (for example an IOVA space or a DMA mask the model ran out of). Traces run
 * without the DMA checker: a trace does not show the calls the checker needs ({@code dma_mapping_error()}, CPU
 * accesses).
 */
public final class Matrix {
    private Matrix() {}

    /** Hears of each finished cell, on the thread that called {@link #run}. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void cellDone(int done, int total);
    }

    /**
     * What to run.
     *
     * @param platforms the rows, in output order (not empty)
     * @param kernels the kernel versions tried on each platform, in output order (not empty)
     * @param cmdline kernel parameters added to each platform's ({@code ""} for none); for a trace, appended last
     *     as {@code dmalab replay --what-if} does
     * @param seed the workload's seed (unused by traces)
     */
    public record Request(
            Subject subject, List<PlatformProfile> platforms, List<KernelVersion> kernels, String cmdline, long seed) {
        public Request {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(cmdline, "cmdline");
            platforms = List.copyOf(platforms);
            kernels = List.copyOf(kernels);
            if (platforms.isEmpty() || kernels.isEmpty()) {
                throw new IllegalArgumentException("a matrix needs at least one platform and one kernel");
            }
        }

        /** How many cells: platforms × kernels. */
        public int cells() {
            return platforms.size() * kernels.size();
        }
    }

    /** The parallelism {@link #run(Request, Progress)} uses: the available processors. */
    public static int defaultParallelism() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Runs the request on {@link #defaultParallelism()} threads. */
    public static MatrixResult run(Request request, Progress progress) {
        return run(request, defaultParallelism(), progress);
    }

    /**
     * Runs every cell of the request, at most {@code parallelism} at a time.
     *
     * @throws InputException if the trace cannot be read
     */
    public static MatrixResult run(Request request, int parallelism, Progress progress) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism " + parallelism + " < 1");
        }
        int total = request.cells();
        TraceFootprint footprint = request.subject() instanceof Subject.OfTrace t ? TraceFootprint.of(t.trace()) : null;
        Cell[] cells = new Cell[total];
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, total), new Workers());
        try {
            CompletionService<Placed> done = new ExecutorCompletionService<>(pool);
            int index = 0;
            for (PlatformProfile p : request.platforms()) {
                for (KernelVersion k : request.kernels()) {
                    int at = index++;
                    done.submit(() -> new Placed(at, cell(request, footprint, p, k)));
                }
            }
            for (int n = 1; n <= total; n++) {
                Placed c = done.take().get();
                cells[c.index()] = c.cell();
                progress.cellDone(n, total);
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running the matrix", e);
        } finally {
            pool.shutdownNow();
        }
        return new MatrixResult(request.subject(), request.cmdline(), request.seed(), List.of(cells));
    }

    private record Placed(int index, Cell cell) {}

    /** Daemon threads named {@code dmalab-matrix-N}, so that a matrix never keeps the JVM alive. */
    private static final class Workers implements ThreadFactory {
        private final AtomicInteger next = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "dmalab-matrix-" + next.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }

    /** One cell, on the calling thread ({@code footprint}: the trace's, for a trace). */
    private static Cell cell(
            Request request, TraceFootprint footprint, PlatformProfile platform, KernelVersion kernel) {
        if (request.subject() instanceof Subject.OfTrace t) {
            return traceCell(t.trace(), footprint, platform, kernel, request.cmdline());
        }
        return workloadCell(
                (Subject.OfWorkload) request.subject(), platform, kernel, request.cmdline(), request.seed());
    }

    private static Cell workloadCell(
            Subject.OfWorkload w, PlatformProfile platform, KernelVersion kernel, String cmdline, long seed) {
        Machine machine;
        try {
            machine = Machine.boot(platform, kernel, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        } catch (InputException | IllegalArgumentException e) {
            return Cell.unsupported(platform.name(), kernel.name(), cannotBoot(e));
        }
        machine.attachChecker(CheckOptions.DEFAULT);
        return classify(
                WorkloadRunner.run(w.workload(), machine, seed),
                machine.swiotlb().defaultMem().nslabs());
    }

    /**
     * A workload's result as a cell (see the class comment for the mapping).
     *
     * @param poolSlots the size of the machine's default swiotlb pool in slots
     */
    public static Cell classify(RunResult r, long poolSlots) {
        long failedMaps = r.counters().getOrDefault("swiotlb_failed_maps", 0L);
        long bounced = r.counters().getOrDefault("swiotlb_bytes_to_bounce", 0L)
                + r.counters().getOrDefault("swiotlb_bytes_from_bounce", 0L);
        long peak = r.counters().getOrDefault("swiotlb_used_hiwater_slots", 0L);
        int findings = r.findings().size();
        CellOutcome outcome;
        String detail;
        if (r.outcome() == Outcome.UNSUPPORTED) {
            return Cell.unsupported(r.platform(), r.kernel(), r.unsupported());
        } else if (r.outcome() == Outcome.OOPS) {
            outcome = CellOutcome.OOPS;
            detail = r.oops().summary();
        } else if (failedMaps > 0) {
            outcome = CellOutcome.POOL_EXHAUSTED;
            detail = "swiotlb failed " + failedMaps + (failedMaps == 1 ? " mapping" : " mappings")
                    + first(r.failures(), r.findings());
        } else if (r.outcome() == Outcome.FAILED && findings > 0) {
            outcome = CellOutcome.FINDINGS;
            detail = r.findings().get(0);
        } else if (r.outcome() == Outcome.FAILED) {
            outcome = CellOutcome.FAILED;
            detail = r.failures().isEmpty() ? null : r.failures().get(0);
        } else {
            outcome = CellOutcome.OK;
            detail = null;
        }
        return new Cell(
                r.platform(), r.kernel(), outcome, findings, detail, bounced, peak, poolSlots, r.checks(), r.oops());
    }

    private static String first(List<String> failures, List<String> findings) {
        if (!failures.isEmpty()) {
            return "; first failure: " + failures.get(0);
        }
        return findings.isEmpty() ? "" : "; first finding: " + findings.get(0);
    }

    private static Cell traceCell(
            Path trace, TraceFootprint footprint, PlatformProfile platform, KernelVersion kernel, String cmdline) {
        Machine machine;
        try {
            // no pool-base rule: the pool sits where this platform's own boot puts it, not where the traced one did
            machine = ReplaySetup.create(platform, kernel, null, null, null, null, cmdline, null)
                    .boot();
        } catch (InputException | IllegalArgumentException e) {
            return Cell.unsupported(platform.name(), kernel.name(), cannotBoot(e));
        }
        String misfit = footprint.misfit(
                machine.memory().map(), machine.kernel().context().cpus(), platform.name());
        if (misfit != null) {
            return Cell.unsupported(platform.name(), kernel.name(), misfit);
        }
        TraceReplay replay;
        try (FtraceParser parser = FtraceParser.open(trace, false)) {
            replay = new TraceReplay(trace.toString(), parser, machine, null).run();
        } catch (TraceFormatException e) {
            throw new InputException(e.file(), e.line(), null, e.reason());
        } catch (IOException | UncheckedIOException e) {
            throw new InputException(
                    trace.toString(),
                    0,
                    null,
                    "cannot read: " + (e instanceof UncheckedIOException u ? u.getCause() : e).getMessage());
        } catch (InputException e) {
            // the trace does not fit this machine in a way the footprint does not see: a device it cannot add
            return Cell.unsupported(
                    platform.name(),
                    kernel.name(),
                    "trace line " + e.line() + ": " + (e.field() == null ? "" : e.field() + ": ") + e.reason());
        } catch (KernelOops o) {
            Cell c = swiotlbCell(
                    platform, kernel, machine, CellOutcome.OOPS, o.report().summary());
            return new Cell(
                    c.platform(),
                    c.kernel(),
                    c.outcome(),
                    c.findings(),
                    c.detail(),
                    c.bounceBytes(),
                    c.peakSlots(),
                    c.poolSlots(),
                    List.of(),
                    o.report());
        }
        TraceReplay.Model m = replay.model();
        if (m.failuresKernelMade() == 0) {
            return swiotlbCell(platform, kernel, machine, CellOutcome.OK, null);
        }
        TraceReplay.Failure f = m.firstFailure();
        String detail = "the model failed " + m.failuresKernelMade() + " of the mappings the kernel made"
                + (f == null
                        ? ""
                        : "; first at trace line " + f.line() + ": " + f.device() + ", " + f.size() + " bytes, swiotlb "
                                + f.poolUsed() + " of " + f.poolSlots() + " slots in use");
        CellOutcome outcome = machine.swiotlb().failedMaps() > 0 ? CellOutcome.POOL_EXHAUSTED : CellOutcome.FAILED;
        return swiotlbCell(platform, kernel, machine, outcome, detail);
    }

    private static Cell swiotlbCell(
            PlatformProfile platform, KernelVersion kernel, Machine m, CellOutcome outcome, String detail) {
        IoTlbMem mem = m.swiotlb().defaultMem();
        return new Cell(
                platform.name(),
                kernel.name(),
                outcome,
                0,
                detail,
                m.swiotlb().bytesToBounce() + m.swiotlb().bytesFromBounce(),
                mem.usedHiwater(),
                mem.nslabs());
    }

    private static String cannotBoot(RuntimeException e) {
        return "cannot boot: " + (e instanceof InputException ie ? ie.reason() : e.getMessage());
    }
}
