package dev.dmalab.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmalab.check.CheckOptions;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.PlatformProfile;
import dev.dmalab.report.HtmlReport;
import dev.dmalab.report.Timeline;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.Workload;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import dev.dmalab.trace.FtraceWriter;
import dev.dmalab.util.Bits;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run a workload on a modelled platform and kernel version.",
            "Exit status: 0 ok (or the workload does not apply to the platform), 1 the workload failed, the kernel"
                    + " crashed or the DMA checker found something, 2 bad usage or input."
        })
final class RunCommand implements Callable<Integer> {
    @Parameters(
            paramLabel = "WORKLOAD",
            description = "A built-in workload (see 'dmalab workloads' and 'dmalab scenarios') or a scenario file"
                    + " (.yaml; the language is in docs/SCENARIOS.md).")
    String workload;

    @Option(
            names = "--variant",
            paramLabel = "NAME",
            description = "The variant of a scenario file to run (default: its first).")
    String variant;

    @Mixin
    PlatformOptions target;

    @Mixin
    CmdlineOption extra;

    @Option(
            names = "--trace",
            paramLabel = "FILE",
            description = "Write the run's dma:*/swiotlb:* events to FILE in the kernel's ftrace text format.")
    Path trace;

    @Option(
            names = "--report",
            paramLabel = "FILE.html",
            description =
                    "Also write an HTML report to FILE.html: the outcome, findings, any Oops, and swiotlb slots per "
                            + "area, IOVA space, bytes bounced per device and mapping lifetimes over time, with inline SVG "
                            + "plots; self-contained (no script, no external resource), written atomically.")
    Path report;

    @Option(names = "--dmesg", description = "Print the modelled kernel log (with --json: a \"dmesg\" field).")
    boolean dmesg;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Option(
            names = "--no-check",
            description = "Run without the DMA checker (dma-debug's checks and the model's own); on by default.")
    boolean noCheck;

    @Option(
            names = "--all-errors",
            description = "Report every dma-debug error (debugfs all_errors); by default only the first is reported,"
                    + " as the kernel does, and the rest are counted.")
    boolean allErrors;

    @Option(
            names = "--driver-filter",
            paramLabel = "DRIVER",
            description = "Report dma-debug errors only for devices bound to DRIVER (dma_debug_driver=).")
    String driverFilter;

    @Mixin
    SeedOption seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Workload w = UsageException.lookup(() -> Workloads.resolve(workload, variant));
        PlatformProfile profile = target.profile();
        KernelVersion version = target.version(profile);
        if (trace != null) {
            AtomicOutput.checkWritable(trace);
        }
        if (report != null) {
            AtomicOutput.checkWritable(report);
        }
        Machine machine = Machine.boot(profile, version, Machine.BootOptions.DEFAULT.withCmdline(extra.cmdline));
        if (!noCheck) {
            machine.attachChecker(CheckOptions.DEFAULT.withAllErrors(allErrors).withDriverFilter(driverFilter));
        }
        FtraceWriter writer = null;
        if (trace != null) {
            writer = new FtraceWriter(version, profile.cpus());
            machine.events().addListener(writer);
        }
        Timeline timeline = report == null ? null : Timeline.attach(machine);
        RunResult r = WorkloadRunner.run(w, machine, seed.seed);
        if (writer != null) {
            FtraceWriter out = writer;
            AtomicOutput.write(trace, out::writeTo);
        }
        if (timeline != null) {
            String html = HtmlReport.run(r, machine, timeline.finish());
            AtomicOutput.write(report, out -> out.write(html));
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            ObjectNode node = toJson(r, machine);
            if (dmesg) {
                node.put("dmesg", machine.kernel().printk().dmesg());
            }
            o.println(Json.write(node));
        } else {
            print(o, r, machine);
            if (dmesg) {
                printDmesg(o, machine);
            }
        }
        return r.outcome() == Outcome.OK || r.outcome() == Outcome.UNSUPPORTED ? Main.EXIT_OK : Main.EXIT_FAILED;
    }

    static ObjectNode toJson(RunResult r, Machine m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("workload", r.workload());
        o.put("platform", r.platform());
        o.put("kernel", r.kernel());
        o.put("cmdline", m.cmdline().text());
        o.put("seed", r.seed());
        o.put("outcome", r.outcome().label());
        if (r.unsupported() != null) {
            o.put("unsupported", r.unsupported());
        }
        ArrayNode f = o.putArray("failures");
        r.failures().forEach(f::add);
        OopsReport oops = r.oops();
        if (oops == null) {
            o.putNull("oops");
        } else {
            ObjectNode on = o.putObject("oops");
            on.put("kind", oops.kind().name().toLowerCase(java.util.Locale.ROOT));
            on.put("summary", oops.summary());
            on.put("pc", oops.pcFunction());
            ArrayNode ct = on.putArray("call_trace");
            oops.callTrace().forEach(ct::add);
            on.put("report", oops.text());
        }
        ArrayNode fi = o.putArray("findings");
        r.findings().forEach(fi::add);
        o.set("checks", Findings.toJson(r.checks()));
        o.put("checks_suppressed", r.checksSuppressed());
        if (m.xen() != null) {
            ObjectNode x = o.putObject("xen");
            x.put("version", m.xen().version());
            x.put("dom0", m.dom0().directMapped() ? "direct-mapped" : "pv");
            ArrayNode ds = x.putArray("devices");
            for (Machine.XenWiring w : m.xenWiring()) {
                ObjectNode d = ds.addObject();
                d.put("device", w.device());
                d.put("driver", w.driver());
                d.put("dma_ops", w.dmaOps());
                d.put("native_ops", w.nativeOps());
            }
        }
        if (m.iommu() != null) {
            o.set("iommu", iommuJson(m));
        }
        ObjectNode c = o.putObject("counters");
        for (Map.Entry<String, Long> e : r.counters().entrySet()) {
            c.put(e.getKey(), e.getValue());
        }
        return o;
    }

    static void print(PrintWriter o, RunResult r, Machine m) {
        o.println(r.workload() + " on " + r.platform() + ", Linux " + r.kernel() + " model"
                + (m.cmdline().text().isEmpty() ? "" : " [" + m.cmdline().text() + "]") + ", seed " + r.seed()
                + ": " + r.outcome().name());
        if (r.unsupported() != null) {
            o.println("  (does not apply here: " + r.unsupported() + ")");
        }
        for (String f : r.failures()) {
            o.println("  - " + f);
        }
        for (String f : r.findings().subList(0, r.findings().size() - r.checks().size())) {
            o.println("  ! " + f);
        }
        Findings.print(o, r.checks(), r.checksSuppressed());
        if (m.xen() != null) {
            printXenWiring(o, m);
        }
        if (m.iommu() != null) {
            printIommu(o, m);
        }
        if (r.oops() != null) {
            o.println();
            o.print(r.oops().text());
        }
        o.println();
        Table t = new Table("COUNTER", "VALUE");
        r.counters().forEach(t::row);
        o.print(t);
    }

    /**
     * The Xen wiring of a dom0 run: each device's ops and what swiotlb-xen's page-coherent hooks use as its
     * "native" DMA ops — which is why one platform boots where another crashes.
     */
    static void printXenWiring(PrintWriter o, Machine m) {
        o.println();
        o.println("Xen " + m.xen().version() + " dom0 (" + (m.dom0().directMapped() ? "mapped 1:1" : "PV") + "):");
        Table t = new Table("DEVICE", "DRIVER", "DMA_OPS", "SWIOTLB-XEN'S NATIVE OPS");
        for (Machine.XenWiring w : m.xenWiring()) {
            t.row(w.device(), w.driver(), w.dmaOps(), w.nativeOps());
        }
        o.print(t);
    }

    /**
     * The IOMMU's account of the run: where IOVAs came from, and for how long devices could still reach memory after
     * its unmap (none in strict mode; until the flush queue's flush in lazy mode), per mapping, longest first.
     */
    static void printIommu(PrintWriter o, Machine m) {
        DmaIommu io = m.iommu();
        o.println();
        o.println("IOMMU: " + io.summary());
        long queued = io.awaitingInvalidation();
        long now = m.kernel().clock().nowNs();
        if (io.exposedCount() == 0 && queued == 0) {
            o.println("  exposure after unmap: none (" + io.exposureCount() + " unmaps, each invalidated at once)");
            return;
        }
        if (io.exposureCount() > 0) {
            o.printf(
                    Locale.ROOT,
                    "  exposure after unmap: %d of %d invalidated unmaps were reachable after it, max %s, mean %s%n",
                    io.exposedCount(),
                    io.exposureCount(),
                    Units.span(io.exposureMaxNs()),
                    Units.span(io.exposureTotalNs() / Math.max(1, io.exposedCount())));
        }
        if (queued > 0) {
            o.printf(
                    Locale.ROOT,
                    "  %d unmapped IOVA%s still queued for invalidation at the end (reachable by the device), the"
                            + " oldest for %s%n",
                    queued,
                    queued == 1 ? "" : "s",
                    Units.span(now - io.oldestAwaitingNs()));
        }
        List<DmaIommu.Exposure> longest = io.longestExposures(EXPOSURES_SHOWN);
        if (!longest.isEmpty()) {
            if (io.exposedCount() > longest.size()) {
                o.println("  the " + longest.size() + " longest windows (--json lists every mapping's):");
            }
            Table t = new Table("  DEVICE", "IOVA", "PAGES", "UNMAPPED", "INVALIDATED", "WINDOW");
            for (DmaIommu.Exposure e : longest) {
                t.row(
                        "  " + e.device(),
                        Bits.hex0x(e.iova()),
                        e.pages(),
                        Units.micros(e.unmapNs()),
                        Units.micros(e.invalidatedNs()),
                        Units.span(e.windowNs()));
            }
            o.print(t);
        }
    }

    /** How many of the longest exposure windows {@code run} lists. */
    static final int EXPOSURES_SHOWN = 5;

    static ObjectNode iommuJson(Machine m) {
        DmaIommu io = m.iommu();
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("summary", io.summary());
        n.put("unmaps", io.exposureCount());
        n.put("exposedUnmaps", io.exposedCount());
        n.put("exposureMaxNs", io.exposureMaxNs());
        n.put("exposureTotalNs", io.exposureTotalNs());
        n.put("awaitingInvalidation", io.awaitingInvalidation());
        long oldest = io.oldestAwaitingNs();
        if (oldest == Long.MAX_VALUE) {
            n.putNull("oldestAwaitingNs");
        } else {
            n.put("oldestAwaitingNs", oldest);
        }
        n.put("faults", io.hardware().faults().size());
        // every exposure kept (the first DmaIommu.EXPOSURES_KEPT deferred invalidations), longest first
        ArrayNode a = n.putArray("exposures");
        for (DmaIommu.Exposure e : io.longestExposures(DmaIommu.EXPOSURES_KEPT)) {
            ObjectNode x = a.addObject();
            x.put("device", e.device());
            x.put("iova", Bits.hex0x(e.iova()));
            x.put("pages", e.pages());
            x.put("unmapNs", e.unmapNs());
            x.put("invalidatedNs", e.invalidatedNs());
            x.put("windowNs", e.windowNs());
        }
        return n;
    }

    /** Prints the dmesg of a machine. */
    static void printDmesg(PrintWriter o, Machine m) {
        o.println();
        o.print(m.kernel().printk().dmesg());
    }
}
