package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.matrix.Cell;
import dev.dmalab.matrix.CellOutcome;
import dev.dmalab.matrix.Matrix;
import dev.dmalab.matrix.MatrixResult;
import dev.dmalab.matrix.Subject;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.platform.Platforms;
import dev.dmalab.report.HtmlReport;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.Workloads;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code dmalab matrix}: one workload, scenario file or trace on every platform × kernel version, in parallel. */
@Command(
        name = "matrix",
        mixinStandardHelpOptions = true,
        description = {
            "Run a workload, a scenario file or a real trace on every platform and kernel version (default: every"
                    + " built-in platform and kernel), each cell on its own machine, in parallel; print one row per"
                    + " cell in platform and kernel order with its outcome, the bytes swiotlb bounced and its peak"
                    + " slot use.",
            "Outcomes: ok, findings N (the DMA checker or the kernel's checks), failed (wrong data or a failed DMA"
                    + " operation), oops, pool exhausted (swiotlb could not map; named before findings and failures,"
                    + " after an oops), unsupported (the machine cannot boot with that kernel, the workload does not"
                    + " apply, or the trace does not fit the platform).",
            "A trace is ok when the model makes every mapping the traced kernel made.",
            "Exit status: 0 every cell ok or unsupported, 1 some cell had findings, failed, crashed or ran out of"
                    + " swiotlb, 2 bad usage or input."
        })
final class MatrixCommand implements Callable<Integer> {
    /** Whether stderr is a terminal (the progress bar is drawn only there); replaced by tests. */
    static BooleanSupplier terminal = () -> System.console() != null;

    /** The progress bar's clock; replaced by tests. */
    static LongSupplier clockNs = System::nanoTime;

    @Parameters(
            paramLabel = "WORKLOAD",
            description = "A built-in workload (see 'dmalab workloads'), a scenario file (.yaml, .yml) or a trace"
                    + " file (ftrace text of dma:* and swiotlb:* events; .xz and .gz read directly).")
    String workload;

    @Option(
            names = "--platforms",
            split = ",",
            paramLabel = "PLATFORM",
            description = "Platforms, comma-separated: built-in names (see 'dmalab platforms') or profile files"
                    + " (default: every built-in platform).")
    List<String> platforms;

    @Option(
            names = "--kernels",
            split = ",",
            paramLabel = "VERSION",
            description = "Kernel versions, comma-separated (default: every built-in version; see 'dmalab kernels').")
    List<String> kernels;

    @Option(
            names = "--variant",
            paramLabel = "NAME",
            description = "The variant of a scenario file to run (default: its first).")
    String variant;

    @Option(
            names = "--cmdline",
            paramLabel = "PARAMS",
            defaultValue = "",
            description = "Kernel parameters added to each platform's, e.g. 'swiotlb=force' (for a trace: added last,"
                    + " as replay's --what-if).")
    String cmdline;

    @Mixin
    SeedOption seed;

    @Option(names = "--json", description = "Print one JSON object with the cells in order.")
    boolean json;

    @Option(
            names = "--report",
            paramLabel = "FILE.html",
            description =
                    "Also write an HTML report to FILE.html: the grid of outcomes, every cell's detail, the findings "
                            + "and Oops reports of the cells that have them, and bytes bounced and peak swiotlb use per cell, "
                            + "with inline SVG plots; self-contained (no script, no external resource), written atomically.")
    Path report;

    @Option(
            names = {"-q", "--quiet"},
            description = "No progress bar (it is drawn on stderr only when stderr is a terminal and the run takes"
                    + " longer than a second).")
    boolean quiet;

    @Spec
    CommandSpec spec;

    /** What WORKLOAD turned out to be: {@code workload} (built-in), {@code scenario} (a file) or {@code trace}. */
    private String kind;

    @Override
    public Integer call() {
        Subject subject = subject();
        if (report != null) {
            AtomicOutput.checkWritable(report);
        }
        List<PlatformProfile> profiles = new ArrayList<>();
        for (String p : platforms == null ? Platforms.BUILT_IN : platforms) {
            profiles.add(UsageException.lookup(() -> Platforms.load(p.strip())));
        }
        List<KernelVersion> versions = new ArrayList<>();
        if (kernels == null) {
            versions.addAll(KernelVersion.builtIn());
        } else {
            for (String k : kernels) {
                versions.add(UsageException.lookup(() -> KernelVersion.parse(k)));
            }
        }
        Matrix.Request request = new Matrix.Request(subject, profiles, versions, cmdline, seed.seed);
        ProgressBar bar = quiet || !terminal.getAsBoolean()
                ? null
                : new ProgressBar(spec.commandLine().getErr(), clockNs, "cells");
        MatrixResult result;
        try {
            result = Matrix.run(request, bar == null ? Matrix.Progress.NONE : bar);
        } finally {
            if (bar != null) {
                bar.finish();
            }
        }
        if (report != null) {
            String html = HtmlReport.matrix(result);
            AtomicOutput.write(report, out -> out.write(html));
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(Json.write(toJson(result, kind, request)));
        } else {
            print(o, result, request);
        }
        return result.failed() ? Main.EXIT_FAILED : Main.EXIT_OK;
    }

    /**
     * The workload: a scenario file by its extension, then a built-in name, then any other existing file as a trace.
     * Workloads are resolved by {@link Workloads#resolve}, as {@code dmalab run} resolves them, with its messages.
     */
    private Subject subject() {
        boolean scenarioFile = workload.endsWith(".yaml") || workload.endsWith(".yml");
        if (!scenarioFile
                && variant == null
                && !Workloads.isBuiltIn(workload)
                && Files.isRegularFile(Path.of(workload))) {
            kind = "trace";
            return new Subject.OfTrace(Path.of(workload));
        }
        boolean unknown = !scenarioFile && variant == null && !Workloads.isBuiltIn(workload);
        try {
            Workload w = Workloads.resolve(workload, variant);
            kind = scenarioFile ? "scenario" : "workload";
            return new Subject.OfWorkload(w);
        } catch (IllegalArgumentException e) {
            throw new UsageException(
                    e.getMessage() + (unknown ? "; nor is it a scenario file (.yaml, .yml) or a trace file" : ""));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Text

    static void print(PrintWriter o, MatrixResult r, Matrix.Request request) {
        o.println(title(r, request));
        o.println();
        Table t = new Table("PLATFORM", "KERNEL", "OUTCOME", "BOUNCED", "SWIOTLB PEAK", "NOTE");
        for (Cell c : r.cells()) {
            boolean ran = c.outcome() != CellOutcome.UNSUPPORTED;
            t.row(
                    c.platform(),
                    c.kernel(),
                    c.label(),
                    ran ? Units.bytes(c.bounceBytes()) : "-",
                    ran && c.poolSlots() > 0 ? c.peakSlots() + " of " + c.poolSlots() + " slots" : "-",
                    c.detail() == null ? "" : c.detail());
        }
        o.print(t);
        o.println();
        o.println(r.summary());
    }

    private static String title(MatrixResult r, Matrix.Request request) {
        StringBuilder sb = new StringBuilder();
        if (r.subject() instanceof Subject.OfTrace) {
            sb.append("trace ").append(r.subject().name());
        } else {
            sb.append(r.subject().name());
            sb.append(", seed ").append(r.seed());
        }
        sb.append(": ")
                .append(plural(request.platforms().size(), "platform"))
                .append(" x ")
                .append(plural(request.kernels().size(), "kernel"));
        if (!r.cmdline().isBlank()) {
            sb.append(", with '").append(r.cmdline().strip()).append('\'');
        }
        return sb.toString();
    }

    private static String plural(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // JSON

    static ObjectNode toJson(MatrixResult r, String kind, Matrix.Request request) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("workload", r.subject().name());
        o.put("kind", kind);
        o.put("cmdline", r.cmdline());
        o.put("seed", r.seed());
        ArrayNode ps = o.putArray("platforms");
        request.platforms().forEach(p -> ps.add(p.name()));
        ArrayNode ks = o.putArray("kernels");
        request.kernels().forEach(k -> ks.add(k.name()));
        ArrayNode cells = o.putArray("cells");
        for (Cell c : r.cells()) {
            ObjectNode n = cells.addObject();
            n.put("platform", c.platform());
            n.put("kernel", c.kernel());
            n.put("outcome", c.outcome().label());
            n.put("label", c.label());
            n.put("findings", c.findings());
            if (c.detail() == null) {
                n.putNull("detail");
            } else {
                n.put("detail", c.detail());
            }
            n.put("bounce_bytes", c.bounceBytes());
            n.put("swiotlb_peak_slots", c.peakSlots());
            n.put("swiotlb_slots", c.poolSlots());
        }
        ObjectNode s = o.putObject("summary");
        s.put("cells", r.cells().size());
        Map<CellOutcome, Integer> counts = r.counts();
        for (CellOutcome out : MatrixResult.SUMMARY_ORDER) {
            s.put(out.label().replace(' ', '_'), counts.getOrDefault(out, 0));
        }
        s.put("text", r.summary());
        o.put("failed", r.failed());
        return o;
    }
}
