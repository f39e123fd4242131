package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.replay.PoolSizer;
import dev.dmalab.replay.ReplaySetup;
import dev.dmalab.replay.TraceReplay;
import dev.dmalab.report.Html;
import dev.dmalab.report.HtmlReport;
import dev.dmalab.report.Timeline;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceFormatException;
import dev.dmalab.util.Bits;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Replay a real kernel trace (ftrace text of dma:* and swiotlb:* events; .xz and .gz read directly) on a"
                    + " modelled platform: every streaming mapping is made again by the model.",
            "With --compare, print how many of the kernel's DMA addresses the model predicted, open-loop and"
                    + " one-step. With --what-if, replay on another set-up and report where it would fail.",
            "Exit status: 0 ok, 1 the model failed mappings the traced kernel made (the trace would fail on this"
                    + " platform), 2 bad usage or input."
        })
final class ReplayCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "TRACE",
            description = "The trace: /sys/kernel/tracing/trace or trace_pipe text, or trace-cmd report output.")
    Path trace;

    @Mixin
    PlatformOptions target;

    @Option(
            names = "--cmdline",
            paramLabel = "FILE",
            description = "The traced machine's /proc/cmdline (swiotlb=, iommu parameters); replaces the profile's.")
    Path cmdline;

    @Option(
            names = "--iomem",
            paramLabel = "FILE",
            description = "The traced machine's /proc/iomem (read as root): its System RAM replaces the profile's.")
    Path iomem;

    @Option(
            names = "--dmesg",
            paramLabel = "FILE",
            description = "The traced machine's kernel log: swiotlb pool placement and areas, CPU count.")
    Path dmesg;

    @Option(
            names = "--devices",
            paramLabel = "FILE",
            description = "A device list with bdf=… driver=… dma_mask_bits=… lines (DMA masks and drivers).")
    Path devices;

    @Option(
            names = "--what-if",
            paramLabel = "PARAMS",
            defaultValue = "",
            description = "Kernel parameters added last, e.g. 'swiotlb=512,force': replay on that set-up instead.")
    String whatIf;

    @Option(names = "--compare", description = "Compare every DMA address with the kernel's (adds a one-step model).")
    boolean compare;

    @Option(
            names = "--size-pool",
            description = "Find the smallest swiotlb pool (slots per area count) the trace would not fail with.")
    boolean sizePool;

    @Option(names = "--strict", description = "Stop at the first malformed trace line (exit 2) instead of skipping it.")
    boolean strict;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(
            names = "--check",
            description = "Run the DMA checker over the replay (dma-debug's checks and the model's own; the"
                    + " unchecked-map-error check is off, as a trace does not show dma_mapping_error() calls)."
                    + " Findings make the exit status 1.")
    boolean check;

    @Option(
            names = "--all-errors",
            description = "With --check: report every dma-debug error, not only the first (debugfs all_errors).")
    boolean allErrors;

    @Option(
            names = "--report",
            paramLabel = "FILE.html",
            description = "Also write an HTML report to FILE.html: the set-up and where each parameter came from, "
                    + "fidelity, the account, findings, and swiotlb slots per area, IOVA space, bytes bounced per "
                    + "device and mapping lifetimes over the trace's time, with inline SVG plots; self-contained (no "
                    + "script, no external resource), written atomically.")
    Path report;

    @Option(names = "--stats", description = "Print lines read and events per second on stderr.")
    boolean stats;

    @Option(
            names = "--mismatches",
            paramLabel = "N",
            defaultValue = "5",
            description = "How many first mismatches to print with their context (default ${DEFAULT-VALUE}).")
    int shownMismatches;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PlatformProfile profile = target.profile();
        KernelVersion version = target.version(profile);
        if (!Files.isRegularFile(trace)) {
            throw new UsageException("trace " + trace + ": no such file");
        }
        if (report != null) {
            AtomicOutput.checkWritable(report);
        }
        Supplier<FtraceParser> open = () -> {
            try {
                return FtraceParser.open(trace, strict);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        ReplaySetup setup;
        try {
            setup = ReplaySetup.create(
                    profile, version, read(cmdline), read(iomem), read(dmesg), read(devices), whatIf, open);
        } catch (TraceFormatException e) {
            throw inputError(e);
        }
        long t0 = System.nanoTime();
        TraceReplay r;
        DmaChecker checker = null;
        Timeline timeline = null;
        try (FtraceParser p = open.get()) {
            Machine first = setup.boot();
            if (report != null) {
                timeline = Timeline.attach(first);
            }
            if (check) {
                checker = first.attachChecker(
                        CheckOptions.DEFAULT.withAllErrors(allErrors).withCheckMapErrors(false));
            }
            r = new TraceReplay(trace.toString(), p, first, compare ? setup.boot() : null).run();
        } catch (TraceFormatException e) {
            throw inputError(e);
        } catch (UncheckedIOException e) {
            throw new InputException(
                    trace.toString(), 0, null, "cannot read: " + e.getCause().getMessage());
        }
        long elapsed = System.nanoTime() - t0;
        List<PoolSizer.Fit> fits = null;
        if (sizePool && r.model().peakSwiotlbSlots() + r.model().modelFailures() > 0) {
            fits = PoolSizer.smallest(
                    setup, open, r.model().machine(), r.model().peakSwiotlbSlots(), trace.toString());
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            ObjectNode node = toJson(r, setup, fits);
            if (checker != null) {
                node.set("checks", Findings.toJson(checker.findings()));
                node.put("checks_suppressed", checker.suppressed());
            }
            o.println(Json.write(node));
        } else {
            print(o, r, setup, fits);
            if (checker != null) {
                if (checker.findings().isEmpty() && checker.suppressed() == 0) {
                    o.println();
                    o.println("DMA checker: no findings (" + checker.entriesMade()
                            + " mappings and allocations tracked)");
                } else {
                    Findings.print(o, checker.findings(), checker.suppressed());
                }
            }
        }
        if (stats) {
            double secs = elapsed / 1e9;
            spec.commandLine()
                    .getErr()
                    .printf(
                            Locale.ROOT,
                            "dmalab: %d lines, %d events in %.2f s: %.0f events/s (%d model%s)%n",
                            r.events(),
                            r.dmaEvents(),
                            secs,
                            r.events() / Math.max(secs, 1e-9),
                            compare ? 2 : 1,
                            compare ? "s" : "");
        }
        if (timeline != null) {
            String html = HtmlReport.replay(
                    new HtmlReport.ReplayView(
                            trace.toString(),
                            r,
                            setup,
                            compare,
                            checker == null ? List.of() : checker.findings(),
                            checker == null ? 0 : checker.suppressed(),
                            checker != null,
                            fits,
                            shownMismatches),
                    timeline.finish());
            AtomicOutput.write(report, out -> out.write(html));
        }
        boolean findings = checker != null && !checker.findings().isEmpty();
        return r.model().failuresKernelMade() > 0 || findings ? Main.EXIT_FAILED : Main.EXIT_OK;
    }

    private static InputException inputError(TraceFormatException e) {
        return new InputException(e.file(), e.line(), null, e.reason());
    }

    private static ReplaySetup.FileText read(Path p) {
        if (p == null) {
            return null;
        }
        try {
            return new ReplaySetup.FileText(p.toString(), Files.readString(p, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new UsageException(p + ": no such file");
        } catch (IOException e) {
            throw new UsageException(p + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Text

    private void print(PrintWriter o, TraceReplay r, ReplaySetup setup, List<PoolSizer.Fit> fits) {
        TraceReplay.Model m = r.model();
        o.printf(
                Locale.ROOT,
                "trace     %s: %,d lines, %,d DMA events, %,d markers, %,d other events skipped, %,d malformed lines"
                        + " skipped%n",
                trace,
                r.events() + r.malformedLines(),
                r.dmaEvents(),
                r.markers(),
                r.otherEvents(),
                r.malformedLines());
        o.printf(
                Locale.ROOT,
                "platform  %s, Linux %s, %d CPU%s%n",
                setup.profile().name(),
                setup.version(),
                setup.profile().cpus(),
                setup.profile().cpus() == 1 ? "" : "s");
        o.println();
        o.println("parameters");
        Table t = new Table("  parameter", "value", "from");
        for (ReplaySetup.Source s : setup.sources()) {
            t.row("  " + s.parameter(), s.value(), s.from());
        }
        for (Map.Entry<String, String> e : m.inferredDevices().entrySet()) {
            t.row("  device " + e.getKey(), "not described", e.getValue());
        }
        o.print(t);
        o.println();
        if (compare) {
            o.printf(
                    Locale.ROOT,
                    "fidelity  %,d streaming mappings: open-loop %,d exact (%s), one-step %,d exact (%s),"
                            + " inversions %d / %d%n",
                    r.streamingMappings(),
                    r.exact(),
                    Html.pct(r.fidelity()),
                    r.exactOneStep(),
                    Html.pct(r.fidelityOneStep()),
                    r.inversions(),
                    r.inversionsOneStep());
            o.print(tallyTable("  by event", r.byType()));
            o.print(tallyTable("  by device", r.byDevice()));
            int shown = 0;
            for (TraceReplay.Mismatch mm : r.mismatches()) {
                if (shown++ >= shownMismatches) {
                    break;
                }
                o.printf(
                        "  mismatch, line %d, %s %s: kernel %s, model %s%n",
                        mm.line(), mm.device(), mm.event(), mm.kernel(), mm.model());
                for (String c : mm.context()) {
                    o.println("      | " + c.strip());
                }
            }
            if (r.truncatedUncompleted() > 0) {
                o.printf(
                        "  %d truncated dma_map_sg lists could not be completed from the trace: compared on their"
                                + " printed entries%n",
                        r.truncatedUncompleted());
            }
            o.println();
        }
        o.println("account");
        Table a = new Table("  what", "value");
        a.row("  streaming mappings", String.format(Locale.ROOT, "%,d", r.streamingMappings()));
        a.row("  failed: kernel / model", r.kernelFailures() + " / " + m.modelFailures());
        a.row("  failed in the model only", m.failuresKernelMade());
        a.row("  live at the end", Html.counts(m.liveAtEndByDevice()));
        a.row("  unmaps without a mapping", m.unmatchedUnmaps());
        a.row("  syncs without a mapping", m.unmatchedSyncs());
        a.row(
                "  coherent: allocs / frees",
                m.coherentAllocs() + " / " + m.coherentFrees()
                        + (m.nullFrees() > 0 ? " (+" + m.nullFrees() + " of NULL, ignored)" : ""));
        a.row("  coherent frees without an alloc", m.freesWithoutAlloc());
        a.row("  coherent live at the end", Html.counts(m.coherentLiveByDevice()));
        if (m.coherentCompared() > 0) {
            a.row(
                    "  coherent IOVAs exact",
                    m.coherentExact() + " of " + m.coherentCompared()
                            + (r.oneStepModel() != null
                                    ? " (one-step " + r.oneStepModel().coherentExact() + ")"
                                    : ""));
        }
        Machine mm = m.machine();
        long slots = mm.swiotlb().defaultMem().nslabs();
        a.row("  swiotlb peak", slots == 0 ? "no pool" : m.peakSwiotlbSlots() + " of " + slots + " slots");
        DmaIommu io = mm.iommu();
        if (io != null) {
            a.row("  iommu", io.summary());
            a.row("  iommu faults", io.hardware().faults().size());
            a.row(
                    "  iommu exposure after unmap",
                    io.exposureMaxNs() == 0
                            ? "none (strict invalidation)"
                            : String.format(
                                    Locale.ROOT,
                                    "max %.1f us, mean %.1f us over %,d unmaps",
                                    io.exposureMaxNs() / 1e3,
                                    io.exposureTotalNs() / 1e3 / Math.max(1, io.exposureCount()),
                                    io.exposureCount()));
        }
        o.print(a);
        TraceReplay.Failure f = m.firstFailure();
        if (f != null) {
            o.printf(
                    Locale.ROOT,
                    "  first failure: line %d, %s, %d bytes; pool %d of %d slots used (per area: %s)%n",
                    f.line(),
                    f.device(),
                    f.size(),
                    f.poolUsed(),
                    f.poolSlots(),
                    Arrays.toString(f.areaUsed()));
        }
        if (fits != null) {
            o.println();
            o.println("smallest swiotlb pool without a failure");
            Table ft = new Table("  areas", "slots", "size", "replays");
            for (PoolSizer.Fit fit : fits) {
                ft.row(
                        "  " + fit.areas(),
                        fit.slots() < 0 ? "none fits" : fit.slots(),
                        fit.slots() < 0 ? "-" : Units.bytes(fit.bytes()),
                        fit.passes());
            }
            o.print(ft);
        } else if (sizePool) {
            o.println();
            o.println("smallest swiotlb pool without a failure: none needed (nothing was bounced)");
        }
    }

    /** One row per event type or device: mappings, and how many each model got exactly. */
    private static Table tallyTable(String title, Map<String, TraceReplay.Tally> tallies) {
        Table t = new Table(title, "mappings", "open-loop", "one-step");
        for (Map.Entry<String, TraceReplay.Tally> e : tallies.entrySet()) {
            TraceReplay.Tally x = e.getValue();
            t.row(
                    "  " + e.getKey(),
                    x.mappings(),
                    ratio(x.exact(), x.mappings()),
                    ratio(x.exactOneStep(), x.mappings()));
        }
        return t;
    }

    private static String ratio(long exact, long of) {
        return exact + " (" + Html.pct(of == 0 ? 1.0 : (double) exact / of) + ")";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // JSON

    private ObjectNode toJson(TraceReplay r, ReplaySetup setup, List<PoolSizer.Fit> fits) {
        TraceReplay.Model m = r.model();
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("trace", trace.toString());
        o.put("platform", setup.profile().name());
        o.put("kernel", setup.version().toString());
        o.put("events", r.dmaEvents());
        o.put("lines", r.events() + r.malformedLines());
        o.put("markers", r.markers());
        o.put("otherEvents", r.otherEvents());
        o.put("malformedLines", r.malformedLines());
        o.put("streamingMappings", r.streamingMappings());
        if (compare) {
            o.put("exact", r.exact());
            o.put("fidelity", r.fidelity());
            o.put("exactOneStep", r.exactOneStep());
            o.put("fidelityOneStep", r.fidelityOneStep());
            o.put("inversions", r.inversions());
            o.put("inversionsOneStep", r.inversionsOneStep());
            o.set("byEvent", tallies(r.byType()));
            o.set("byDevice", tallies(r.byDevice()));
            ArrayNode mm = o.putArray("mismatches");
            for (TraceReplay.Mismatch x : r.mismatches()) {
                ObjectNode n = mm.addObject();
                n.put("line", x.line());
                n.put("device", x.device());
                n.put("event", x.event());
                n.put("kernel", x.kernel());
                n.put("model", x.model());
                ArrayNode c = n.putArray("context");
                x.context().forEach(c::add);
            }
            o.put("truncatedSgCompletedFromUnmap", r.truncatedFromUnmap());
            o.put("truncatedSgComparedOnPrintedEntries", r.truncatedUncompleted());
        } else {
            o.putNull("exact");
            o.putNull("fidelity");
            o.putNull("fidelityOneStep");
            o.putNull("inversions");
        }
        ArrayNode ps = o.putArray("parameters");
        for (ReplaySetup.Source s : setup.sources()) {
            ObjectNode n = ps.addObject();
            n.put("parameter", s.parameter());
            n.put("value", s.value());
            n.put("from", s.from());
        }
        ObjectNode inf = o.putObject("inferredDevices");
        m.inferredDevices().forEach(inf::put);
        ObjectNode f = o.putObject("failures");
        f.put("kernel", r.kernelFailures());
        f.put("model", m.modelFailures());
        f.put("modelOnly", m.failuresKernelMade());
        TraceReplay.Failure first = m.firstFailure();
        if (first == null) {
            f.putNull("first");
        } else {
            ObjectNode n = f.putObject("first");
            n.put("line", first.line());
            n.put("device", first.device());
            n.put("size", first.size());
            n.put("poolUsed", first.poolUsed());
            n.put("poolSlots", first.poolSlots());
            ArrayNode au = n.putArray("areaUsed");
            for (long u : first.areaUsed()) {
                au.add(u);
            }
        }
        ObjectNode live = o.putObject("liveAtEnd");
        m.liveAtEndByDevice().forEach(live::put);
        ArrayNode oldest = o.putArray("oldestLiveAtEnd");
        for (TraceReplay.Live l : m.liveAtEnd(10)) {
            ObjectNode n = oldest.addObject();
            n.put("line", l.line());
            n.put("device", l.device());
            n.put("dmaAddr", Bits.hex0x(l.dmaAddr()));
            n.put("size", l.size());
        }
        o.put("unmatchedUnmaps", m.unmatchedUnmaps());
        o.put("unmatchedSyncs", m.unmatchedSyncs());
        ObjectNode c = o.putObject("coherent");
        c.put("allocs", m.coherentAllocs());
        c.put("frees", m.coherentFrees());
        c.put("nullFrees", m.nullFrees());
        c.put("freesWithoutAlloc", m.freesWithoutAlloc());
        ObjectNode cl = c.putObject("liveAtEnd");
        m.coherentLiveByDevice().forEach(cl::put);
        c.put("iovaCompared", m.coherentCompared());
        c.put("iovaExact", m.coherentExact());
        DmaIommu io = m.machine().iommu();
        if (io != null) {
            ObjectNode im = o.putObject("iommu");
            im.put("summary", io.summary());
            im.put("faults", io.hardware().faults().size());
            im.put("staleAccesses", io.hardware().staleAccesses());
            im.put("unmaps", io.exposureCount());
            im.put("exposureMaxNs", io.exposureMaxNs());
            im.put("exposureTotalNs", io.exposureTotalNs());
            ArrayNode doms = im.putArray("domains");
            for (DmaIommu.Domain d : io.domains()) {
                ObjectNode dn = doms.addObject();
                dn.put("group", d.group());
                dn.put("type", d.type().sysfs());
                ArrayNode dd = dn.putArray("devices");
                d.devices().forEach(dd::add);
                if (d.iovad() != null) {
                    dn.put("rcacheHits", d.iovad().rcacheHits());
                    dn.put("treeAllocs", d.iovad().treeAllocs());
                    dn.put("allocFailures", d.iovad().allocFailures());
                }
                if (d.flushQueue() != null) {
                    dn.put("flushes", d.flushQueue().flushes());
                }
            }
        }
        ObjectNode sw = o.putObject("swiotlb");
        sw.put("slots", m.machine().swiotlb().defaultMem().nslabs());
        sw.put("peakSlots", m.peakSwiotlbSlots());
        sw.put("usedAtEnd", m.machine().swiotlb().defaultMem().used());
        if (fits != null) {
            ArrayNode fa = o.putArray("smallestPool");
            for (PoolSizer.Fit fit : fits) {
                ObjectNode n = fa.addObject();
                n.put("areas", fit.areas());
                n.put("slots", fit.slots());
                n.put("replays", fit.passes());
            }
        }
        return o;
    }

    private static ObjectNode tallies(Map<String, TraceReplay.Tally> t) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        for (Map.Entry<String, TraceReplay.Tally> e : t.entrySet()) {
            ObjectNode n = o.putObject(e.getKey());
            n.put("mappings", e.getValue().mappings());
            n.put("exact", e.getValue().exact());
            n.put("exactOneStep", e.getValue().exactOneStep());
        }
        return o;
    }
}
