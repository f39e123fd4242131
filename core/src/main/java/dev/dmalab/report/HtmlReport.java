package dev.dmalab.report;

import dev.dmalab.check.DmaFinding;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.matrix.Cell;
import dev.dmalab.matrix.CellOutcome;
import dev.dmalab.matrix.Matrix;
import dev.dmalab.matrix.MatrixResult;
import dev.dmalab.platform.Hazards;
import dev.dmalab.platform.Machine;
import dev.dmalab.replay.PoolSizer;
import dev.dmalab.replay.ReplaySetup;
import dev.dmalab.replay.TraceReplay;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The HTML report of a run, a replay or a matrix: one self-contained page (inline CSS and SVG; no script, no
 * external resource) that a browser shows as it is and that can be mailed or attached to a bug.
 *
 * <p>Every report has the same skeleton, with stable ids and classes a reader (or a test) can rely on:
 *
 * <pre>
 *   header            h1, the set-up, p.outcome (o-ok, o-findings, o-failed, o-oops, o-pool-exhausted, o-unsupported)
 *   section#summary   dl.figures: the key numbers
 *   section#matrix    table.matrix: the outcome per platform and kernel (one row for a run)
 *   section#findings  article.finding per checker finding: what, where, why, fix, where it bites
 *   section#oops      pre.oops: the modelled kernel's crash report (only when there is one)
 *   section#plots     figure.plot#plot-swiotlb, #plot-iova, #plot-bounce, #plot-lifetimes, #plot-timeline (runs and
 *                     replays; a figure without data says why in p.empty); a matrix has #plot-bounce, #plot-peak
 *   section#...       what the kind of report adds (counters, fidelity, parameters, cells)
 * </pre>
 *
 * The page is a pure function of its inputs: the same run gives the same bytes.
 */
public final class HtmlReport {
    private HtmlReport() {}

    // ---------------------------------------------------------------------------------------------------------
    // A run

    /**
     * The report of {@code dmalab run}.
     *
     * @param r the result
     * @param m the machine it ran on (after the run)
     * @param t the run's timeline, {@linkplain Timeline#finish() finished}
     */
    public static String run(RunResult r, Machine m, Timeline t) {
        Page p = new Page(r.workload() + " on " + r.platform() + ", Linux " + r.kernel());
        Cell cell = Matrix.classify(r, m.swiotlb().defaultMem().nslabs());
        String setup = "dmalab model of Linux " + r.kernel() + " on " + r.platform()
                + (m.cmdline().text().isEmpty() ? "" : " [" + m.cmdline().text() + "]") + ", seed " + r.seed();
        p.header(setup, cell.outcome(), cell.label());
        Map<String, String> figures = new LinkedHashMap<>();
        figures.put("outcome", cell.label());
        figures.put("DMA calls", Html.count(t.events()));
        figures.put("mappings and buffers", Html.count(t.mappings()));
        figures.put("bytes bounced", Html.bytes(cell.bounceBytes()));
        figures.put("swiotlb peak", peak(cell));
        figures.put("findings", findingsFigure(r));
        figures.put("simulated time", Html.time(t.endNs() - t.startNs()));
        p.figures(figures);
        p.matrix(List.of(cell), List.of(r.platform()), List.of(r.kernel()));
        if (r.unsupported() != null || !r.failures().isEmpty()) {
            p.open("failures", "What went wrong");
            if (r.unsupported() != null) {
                p.para("The workload does not apply here: " + r.unsupported());
            }
            p.list(r.failures());
            p.close();
        }
        List<String> kernelSide =
                r.findings().subList(0, r.findings().size() - r.checks().size());
        p.findings(r.checks(), r.checksSuppressed(), kernelSide, null);
        if (r.oops() != null) {
            p.oops(List.of(r.oops()), List.of(""));
        }
        if (m.xen() != null) {
            p.open("xen", "Xen dom0 wiring");
            p.para("Xen " + m.xen().version() + ", dom0 " + (m.dom0().directMapped() ? "mapped 1:1" : "PV")
                    + ": each device's DMA ops, and what swiotlb-xen's page-coherent hooks take as its native ops.");
            List<String[]> rows = new ArrayList<>();
            for (Machine.XenWiring w : m.xenWiring()) {
                rows.add(new String[] {w.device(), w.driver(), w.dmaOps(), w.nativeOps()});
            }
            p.table("xen", List.of("device", "driver", "dma_ops", "swiotlb-xen's native ops"), rows);
            p.close();
        }
        if (m.iommu() != null) {
            p.iommu(m);
        }
        p.timelinePlots(t, m);
        p.open("counters", "Counters");
        List<String[]> rows = new ArrayList<>();
        r.counters().forEach((k, v) -> rows.add(new String[] {k, Html.count(v)}));
        p.table("counters", List.of("counter", "value"), rows);
        p.close();
        return p.end();
    }

    // ---------------------------------------------------------------------------------------------------------
    // A replay

    /** What {@code dmalab replay} knows at the end, for {@link #replay}. */
    public record ReplayView(
            String trace,
            TraceReplay replay,
            ReplaySetup setup,
            boolean compared,
            List<DmaFinding> checks,
            long checksSuppressed,
            boolean checked,
            List<PoolSizer.Fit> fits,
            int shownMismatches) {}

    /** The report of {@code dmalab replay}: the set-up and where each parameter came from, fidelity, the account. */
    public static String replay(ReplayView v, Timeline t) {
        TraceReplay r = v.replay();
        TraceReplay.Model model = r.model();
        Machine m = model.machine();
        Page p =
                new Page("replay of " + v.trace() + " on " + v.setup().profile().name());
        boolean failed = model.failuresKernelMade() > 0;
        boolean findings = !v.checks().isEmpty();
        CellOutcome outcome = failed
                ? (m.swiotlb().failedMaps() > 0 ? CellOutcome.POOL_EXHAUSTED : CellOutcome.FAILED)
                : findings ? CellOutcome.FINDINGS : CellOutcome.OK;
        String label =
                outcome == CellOutcome.FINDINGS ? "findings " + v.checks().size() : outcome.label();
        p.header(
                "dmalab model of Linux " + v.setup().version() + " on "
                        + v.setup().profile().name() + ", "
                        + v.setup().profile().cpus() + " CPUs, replaying " + v.trace(),
                outcome,
                label);
        Map<String, String> figures = new LinkedHashMap<>();
        figures.put("outcome", label);
        figures.put("trace lines", Html.count(r.events() + r.malformedLines()));
        figures.put("DMA events", Html.count(r.dmaEvents()));
        figures.put("streaming mappings", Html.count(r.streamingMappings()));
        if (v.compared()) {
            figures.put("fidelity, open-loop", Html.pct(r.fidelity()));
            figures.put("fidelity, one-step", Html.pct(r.fidelityOneStep()));
        }
        figures.put("failed in the model only", Html.count(model.failuresKernelMade()));
        long slots = m.swiotlb().defaultMem().nslabs();
        figures.put(
                "swiotlb peak",
                slots == 0 ? "no pool" : model.peakSwiotlbSlots() + " of " + Html.count(slots) + " slots");
        p.figures(figures);
        Cell cell = new Cell(
                v.setup().profile().name(),
                v.setup().version().name(),
                outcome,
                v.checks().size(),
                null,
                m.swiotlb().bytesToBounce() + m.swiotlb().bytesFromBounce(),
                model.peakSwiotlbSlots(),
                slots);
        p.matrix(List.of(cell), List.of(cell.platform()), List.of(cell.kernel()));

        p.open("parameters", "Parameters and where they came from");
        List<String[]> rows = new ArrayList<>();
        for (ReplaySetup.Source s : v.setup().sources()) {
            rows.add(new String[] {s.parameter(), s.value(), s.from()});
        }
        for (Map.Entry<String, String> e : model.inferredDevices().entrySet()) {
            rows.add(new String[] {"device " + e.getKey(), "not described", e.getValue()});
        }
        p.table("parameters", List.of("parameter", "value", "from"), rows);
        p.close();

        if (v.compared()) {
            p.open("fidelity", "Fidelity: the model's DMA addresses against the kernel's");
            p.para(String.format(
                    Locale.ROOT,
                    "%s streaming mappings: open-loop %s exact (%s), one-step %s exact (%s); inversions %d / %d"
                            + " (an interrupt ran between an operation and its trace event).",
                    Html.count(r.streamingMappings()),
                    Html.count(r.exact()),
                    Html.pct(r.fidelity()),
                    Html.count(r.exactOneStep()),
                    Html.pct(r.fidelityOneStep()),
                    r.inversions(),
                    r.inversionsOneStep()));
            p.table("fidelity by-event", List.of("event", "mappings", "open-loop", "one-step"), tally(r.byType()));
            p.table("fidelity by-device", List.of("device", "mappings", "open-loop", "one-step"), tally(r.byDevice()));
            int shown = 0;
            for (TraceReplay.Mismatch mm : r.mismatches()) {
                if (shown++ >= v.shownMismatches()) {
                    break;
                }
                p.raw("<div class=\"mismatch\"><p>Line " + mm.line() + ", " + Html.esc(mm.device()) + " "
                        + Html.esc(mm.event()) + ": kernel <code>" + Html.esc(mm.kernel()) + "</code>, model <code>"
                        + Html.esc(mm.model()) + "</code></p>\n<pre>");
                for (String c : mm.context()) {
                    p.raw(Html.esc(c.strip()) + "\n");
                }
                p.raw("</pre></div>\n");
            }
            p.close();
        }

        p.open("account", "Account");
        List<String[]> a = new ArrayList<>();
        a.add(new String[] {"streaming mappings", Html.count(r.streamingMappings())});
        a.add(new String[] {"failed: kernel / model", r.kernelFailures() + " / " + model.modelFailures()});
        a.add(new String[] {"failed in the model only", Html.count(model.failuresKernelMade())});
        a.add(new String[] {"live at the end", Html.counts(model.liveAtEndByDevice())});
        a.add(new String[] {"unmaps without a mapping", Html.count(model.unmatchedUnmaps())});
        a.add(new String[] {"syncs without a mapping", Html.count(model.unmatchedSyncs())});
        a.add(new String[] {"coherent: allocs / frees", model.coherentAllocs() + " / " + model.coherentFrees()});
        a.add(new String[] {"coherent live at the end", Html.counts(model.coherentLiveByDevice())});
        DmaIommu io = m.iommu();
        if (io != null) {
            a.add(new String[] {"iommu", io.summary()});
            a.add(new String[] {
                "iommu faults", Html.count(io.hardware().faults().size())
            });
        }
        TraceReplay.Failure f = model.firstFailure();
        if (f != null) {
            a.add(new String[] {
                "first failure",
                "line " + f.line() + ", " + f.device() + ", " + f.size() + " bytes; pool " + f.poolUsed() + " of "
                        + f.poolSlots() + " slots in use"
            });
        }
        p.table("account", List.of("what", "value"), a);
        if (v.fits() != null) {
            List<String[]> fr = new ArrayList<>();
            for (PoolSizer.Fit fit : v.fits()) {
                fr.add(new String[] {
                    Integer.toString(fit.areas()),
                    fit.slots() < 0 ? "none fits" : Long.toString(fit.slots()),
                    fit.slots() < 0 ? "-" : Html.bytes(fit.bytes()),
                    Integer.toString(fit.passes())
                });
            }
            p.para("The smallest swiotlb pool this trace would not fail with:");
            p.table("pool-sizes", List.of("areas", "slots", "size", "replays"), fr);
        }
        p.close();
        if (v.checked()) {
            p.findings(v.checks(), v.checksSuppressed(), List.of(), null);
        }
        p.timelinePlots(t, m);
        return p.end();
    }

    private static List<String[]> tally(Map<String, TraceReplay.Tally> tallies) {
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<String, TraceReplay.Tally> e : tallies.entrySet()) {
            TraceReplay.Tally x = e.getValue();
            rows.add(new String[] {
                e.getKey(),
                Html.count(x.mappings()),
                Html.count(x.exact()) + " (" + Html.pct(ratio(x.exact(), x.mappings())) + ")",
                Html.count(x.exactOneStep()) + " (" + Html.pct(ratio(x.exactOneStep(), x.mappings())) + ")"
            });
        }
        return rows;
    }

    private static double ratio(long exact, long of) {
        return of == 0 ? 1.0 : (double) exact / of;
    }

    // ---------------------------------------------------------------------------------------------------------
    // A matrix

    /**
     * The summary's findings: the count the outcome badge is decided on (the checker's shown findings and the
     * kernel's own checks' lines), then where they came from, and the checker's findings past {@code num_errors}.
     */
    static String findingsFigure(RunResult r) {
        int checker = r.checks().size();
        int kernelSide = r.findings().size() - checker;
        StringBuilder sb = new StringBuilder(Html.count(r.findings().size()));
        if (checker > 0 && kernelSide > 0) {
            sb.append(" (")
                    .append(Html.count(checker))
                    .append(" from the DMA checker, ")
                    .append(Html.count(kernelSide))
                    .append(" from the kernel's own checks)");
        } else if (kernelSide > 0) {
            sb.append(" (from the kernel's own checks)");
        }
        if (r.checksSuppressed() > 0) {
            sb.append(", and ").append(Html.count(r.checksSuppressed())).append(" more the checker did not show");
        }
        return sb.toString();
    }

    /** The report of {@code dmalab matrix}: the grid, then each failing cell's findings and Oops, then plots. */
    public static String matrix(MatrixResult r) {
        Page p = new Page(r.subject().name() + ": platform matrix");
        CellOutcome worst = CellOutcome.UNSUPPORTED;
        for (Cell c : r.cells()) {
            if (c.outcome().ordinal() < worst.ordinal()) {
                worst = c.outcome();
            }
        }
        List<String> platforms = new ArrayList<>();
        List<String> kernels = new ArrayList<>();
        for (Cell c : r.cells()) {
            if (!platforms.contains(c.platform())) {
                platforms.add(c.platform());
            }
            if (!kernels.contains(c.kernel())) {
                kernels.add(c.kernel());
            }
        }
        p.header(
                (r.subject() instanceof dev.dmalab.matrix.Subject.OfTrace ? "trace " : "workload ")
                        + r.subject().name() + (r.cmdline().isEmpty() ? "" : " [" + r.cmdline() + "]") + ", seed "
                        + r.seed() + ": " + platforms.size() + " platforms × " + kernels.size() + " kernels",
                worst,
                r.summary());
        Map<String, String> figures = new LinkedHashMap<>();
        figures.put("cells", Html.count(r.cells().size()));
        r.counts().forEach((o, n) -> figures.put(o.label(), Html.count(n)));
        p.figures(figures);
        p.matrix(r.cells(), platforms, kernels);

        p.open("cells", "Cells");
        List<String[]> rows = new ArrayList<>();
        for (Cell c : r.cells()) {
            rows.add(new String[] {
                c.platform(),
                c.kernel(),
                c.label(),
                Html.bytes(c.bounceBytes()),
                peak(c),
                c.detail() == null ? "" : c.detail()
            });
        }
        p.table("cells", List.of("platform", "kernel", "outcome", "bounced", "swiotlb peak", "detail"), rows);
        p.close();

        List<DmaFinding> all = new ArrayList<>();
        List<String> where = new ArrayList<>();
        List<OopsReport> oopses = new ArrayList<>();
        List<String> oopsWhere = new ArrayList<>();
        for (Cell c : r.cells()) {
            for (DmaFinding f : c.checks()) {
                all.add(f);
                where.add(c.platform() + ", Linux " + c.kernel());
            }
            if (c.oops() != null) {
                oopses.add(c.oops());
                oopsWhere.add(c.platform() + ", Linux " + c.kernel());
            }
        }
        p.findings(all, 0, List.of(), where);
        if (!oopses.isEmpty()) {
            p.oops(oopses, oopsWhere);
        }

        p.open("plots", "Plots");
        List<String> labels = new ArrayList<>();
        List<long[]> bounced = new ArrayList<>();
        List<String> peakLabels = new ArrayList<>();
        List<long[]> peaks = new ArrayList<>();
        for (Cell c : r.cells()) {
            String name = c.platform() + " " + c.kernel();
            if (c.bounceBytes() > 0) {
                labels.add(name);
                bounced.add(new long[] {c.bounceBytes()});
            }
            if (c.poolSlots() > 0 && c.outcome() != CellOutcome.UNSUPPORTED) {
                peakLabels.add(name);
                // per mille of the pool, so that pools of different sizes compare
                peaks.add(new long[] {Math.round(1000.0 * c.peakSlots() / c.poolSlots())});
            }
        }
        p.figure(
                "plot-bounce",
                "Bytes bounced per cell",
                labels.isEmpty()
                        ? null
                        : Svg.bars(
                                "svg-bounce",
                                "Bytes swiotlb copied to and from bounce buffers, per cell",
                                labels,
                                bounced,
                                List.of("bounced"),
                                Html::bytes,
                                true,
                                "bytes copied to and from bounce buffers"),
                "No cell bounced anything.",
                List.of());
        p.figure(
                "plot-peak",
                "Peak swiotlb use per cell, as a share of the pool",
                peakLabels.isEmpty()
                        ? null
                        : Svg.bars(
                                "svg-peak",
                                "Peak swiotlb slots in use as a share of the pool, per cell",
                                peakLabels,
                                peaks,
                                List.of("peak"),
                                HtmlReport::perMille,
                                false,
                                "io_tlb_used_hiwater / pool slots"),
                "No cell has a swiotlb pool.",
                List.of());
        p.close();
        return p.end();
    }

    private static String perMille(long v) {
        return Html.trim(v / 10.0) + "%";
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shared pieces

    private static String peak(Cell c) {
        return c.poolSlots() == 0
                ? "no pool"
                : Html.count(c.peakSlots()) + " of " + Html.count(c.poolSlots()) + " slots";
    }

    private static String cssClass(CellOutcome o) {
        return "o-" + o.label().replace(' ', '-');
    }

    /** How many items of a list, and findings of one kind, are shown before the rest fold away. */
    static final int LIST_SHOWN = 8;

    /** A page being written. */
    private static final class Page {
        private final StringBuilder sb = new StringBuilder(64 * 1024);

        Page(String title) {
            sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                    .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                    .append("<meta name=\"generator\" content=\"dmalab\">\n<title>dmalab: ")
                    .append(Html.esc(title))
                    .append("</title>\n<style>\n")
                    .append(CSS)
                    .append("</style>\n</head>\n<body>\n<header>\n<h1>")
                    .append(Html.esc(title))
                    .append("</h1>\n");
        }

        void header(String setup, CellOutcome outcome, String label) {
            sb.append("<p class=\"setup\">")
                    .append(Html.esc(setup))
                    .append("</p>\n<p class=\"outcome ")
                    .append(cssClass(outcome))
                    .append("\">")
                    .append(Html.esc(label))
                    .append("</p>\n</header>\n<main>\n");
        }

        void open(String id, String title) {
            sb.append("<section id=\"")
                    .append(id)
                    .append("\">\n<h2>")
                    .append(Html.esc(title))
                    .append("</h2>\n");
        }

        void close() {
            sb.append("</section>\n");
        }

        void para(String text) {
            sb.append("<p>").append(Html.esc(text)).append("</p>\n");
        }

        void raw(String html) {
            sb.append(html);
        }

        /** A list; past {@value #LIST_SHOWN} items the rest fold into a {@code <details>} (no script needed). */
        void list(List<String> items) {
            if (items.isEmpty()) {
                return;
            }
            sb.append("<ul>\n");
            for (int i = 0; i < Math.min(items.size(), LIST_SHOWN); i++) {
                sb.append("<li>").append(Html.esc(items.get(i))).append("</li>\n");
            }
            sb.append("</ul>\n");
            if (items.size() > LIST_SHOWN) {
                sb.append("<details><summary>")
                        .append(Html.count(items.size() - LIST_SHOWN))
                        .append(" more</summary>\n<ul>\n");
                for (int i = LIST_SHOWN; i < items.size(); i++) {
                    sb.append("<li>").append(Html.esc(items.get(i))).append("</li>\n");
                }
                sb.append("</ul>\n</details>\n");
            }
        }

        void figures(Map<String, String> figures) {
            open("summary", "Summary");
            sb.append("<dl class=\"figures\">\n");
            figures.forEach((k, v) -> sb.append("<div><dt>")
                    .append(Html.esc(k))
                    .append("</dt><dd>")
                    .append(Html.esc(v))
                    .append("</dd></div>\n"));
            sb.append("</dl>\n");
            close();
        }

        void table(String cls, List<String> head, List<String[]> rows) {
            sb.append("<table class=\"").append(cls).append("\">\n<thead><tr>");
            for (String h : head) {
                sb.append("<th>").append(Html.esc(h)).append("</th>");
            }
            sb.append("</tr></thead>\n<tbody>\n");
            for (String[] row : rows) {
                sb.append("<tr>");
                for (String c : row) {
                    sb.append("<td>").append(Html.esc(c)).append("</td>");
                }
                sb.append("</tr>\n");
            }
            sb.append("</tbody>\n</table>\n");
        }

        /** The grid: one row per platform, one column per kernel, each cell its outcome. */
        void matrix(List<Cell> cells, List<String> platforms, List<String> kernels) {
            open("matrix", cells.size() == 1 ? "Result" : "Matrix");
            Map<String, Cell> at = new TreeMap<>();
            for (Cell c : cells) {
                at.put(c.platform() + "\u0000" + c.kernel(), c);
            }
            sb.append("<table class=\"matrix\">\n<thead><tr><th>platform</th>");
            for (String k : kernels) {
                sb.append("<th>Linux ").append(Html.esc(k)).append("</th>");
            }
            sb.append("</tr></thead>\n<tbody>\n");
            for (String pl : platforms) {
                sb.append("<tr><th scope=\"row\">").append(Html.esc(pl)).append("</th>");
                for (String k : kernels) {
                    Cell c = at.get(pl + "\u0000" + k);
                    if (c == null) {
                        sb.append("<td></td>");
                        continue;
                    }
                    String tip = c.detail() == null
                            ? c.label() + "; bounced " + Html.bytes(c.bounceBytes()) + "; swiotlb peak " + peak(c)
                            : c.detail();
                    sb.append("<td class=\"cell ")
                            .append(cssClass(c.outcome()))
                            .append("\" title=\"")
                            .append(Html.esc(tip))
                            .append("\"><span class=\"label\">")
                            .append(Html.esc(c.label()))
                            .append("</span>");
                    if (c.bounceBytes() > 0 && c.outcome() != CellOutcome.UNSUPPORTED) {
                        sb.append("<br><small class=\"bounced\">")
                                .append(Html.esc(Html.bytes(c.bounceBytes())))
                                .append(" bounced</small>");
                    }
                    sb.append("</td>");
                }
                sb.append("</tr>\n");
            }
            sb.append("</tbody>\n</table>\n");
            close();
        }

        /**
         * The checker's findings, each as an article, and the kernel-side checks' lines; {@code where} names each
         * finding's cell in a matrix (null for a run).
         */
        void findings(List<DmaFinding> checks, long suppressed, List<String> kernelSide, List<String> where) {
            open("findings", "Findings");
            if (checks.isEmpty() && kernelSide.isEmpty() && suppressed == 0) {
                sb.append("<p class=\"none\">No findings: the DMA checker and the kernel's own checks saw nothing"
                        + " wrong.</p>\n");
            }
            if (!kernelSide.isEmpty()) {
                sb.append("<p>The modelled kernel's own checks:</p>\n");
                list(kernelSide);
            }
            if (suppressed > 0) {
                para(suppressed + " more dma-debug error" + (suppressed == 1 ? " was" : "s were")
                        + " counted but not reported (dma-debug reports the first; --all-errors reports all).");
            }
            // one article per kind of finding on one device (and cell): the first in full, the others listed
            Map<String, List<Integer>> groups = new LinkedHashMap<>();
            for (int i = 0; i < checks.size(); i++) {
                DmaFinding f = checks.get(i);
                String key = f.category().id() + "\u0000" + f.device() + "\u0000" + (where == null ? "" : where.get(i));
                groups.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
            }
            int n = 0;
            for (List<Integer> group : groups.values()) {
                DmaFinding f = checks.get(group.get(0));
                String sev = f.severity().name().toLowerCase(Locale.ROOT);
                sb.append("<article class=\"finding sev-")
                        .append(sev)
                        .append("\" id=\"finding-")
                        .append(++n)
                        .append("\" data-count=\"")
                        .append(group.size())
                        .append("\">\n<h3><span class=\"sev\">")
                        .append(sev)
                        .append("</span> <code>")
                        .append(Html.esc(f.category().id()))
                        .append("</code> on ")
                        .append(Html.esc(f.device()))
                        .append(" (")
                        .append(Html.esc(f.driver()))
                        .append(')')
                        .append(f.category().dmaDebug() ? " <span class=\"tag\">dma-debug</span>" : "")
                        .append(group.size() > 1 ? " <span class=\"times\">× " + group.size() + "</span>" : "")
                        .append("</h3>\n");
                if (where != null) {
                    sb.append("<p class=\"where\">")
                            .append(Html.esc(where.get(group.get(0))))
                            .append("</p>\n");
                }
                sb.append("<pre class=\"message\">")
                        .append(Html.esc(f.message()))
                        .append("</pre>\n<dl>\n");
                dd("at", at(f));
                dd("why", f.explanation());
                dd("fix", f.fix());
                dd("bites on", String.join(", ", Hazards.bitesOn(f.category().hazard())));
                sb.append("</dl>\n");
                if (group.size() > 1) {
                    sb.append("<details><summary>")
                            .append(group.size() - 1)
                            .append(" more like it</summary>\n<ol class=\"more\">\n");
                    for (int k = 1; k < group.size(); k++) {
                        DmaFinding g = checks.get(group.get(k));
                        sb.append("<li>")
                                .append(Html.esc(at(g)))
                                .append(": ")
                                .append(Html.esc(g.message()))
                                .append("</li>\n");
                    }
                    sb.append("</ol>\n</details>\n");
                }
                sb.append("</article>\n");
            }
            close();
        }

        private static String at(DmaFinding f) {
            StringBuilder at = new StringBuilder(f.call());
            if (!f.callChain().isEmpty()) {
                at.append(" in ").append(String.join(" ← ", f.callChain()));
            }
            at.append(", at ").append(Html.time(f.timeNs()));
            if (f.cpu() >= 0) {
                at.append(" on CPU ").append(f.cpu());
            }
            if (f.dmaAddr() != -1) {
                at.append("; DMA address ").append(Bits.hex0x(f.dmaAddr()));
            }
            if (f.size() > 0) {
                at.append(", ").append(f.size()).append(" bytes");
            }
            return at.toString();
        }

        private void dd(String term, String text) {
            sb.append("<dt>")
                    .append(Html.esc(term))
                    .append("</dt><dd>")
                    .append(Html.esc(text))
                    .append("</dd>\n");
        }

        /**
         * The IOMMU's account: where IOVAs came from, and how long devices could still reach memory after its unmap
         * (none when strict; until the flush in lazy mode), with the longest windows.
         */
        void iommu(Machine m) {
            DmaIommu io = m.iommu();
            open("iommu", "IOMMU: exposure after unmap");
            para(io.summary() + ".");
            long queued = io.awaitingInvalidation();
            if (io.exposedCount() == 0 && queued == 0) {
                para("No exposure: each of the " + io.exposureCount()
                        + " unmaps was invalidated at once (strict invalidation).");
            } else {
                if (io.exposureCount() > 0) {
                    para(io.exposedCount() + " of " + io.exposureCount()
                            + " invalidated unmaps were still reachable by their device after the unmap: at most "
                            + Html.time(io.exposureMaxNs()) + ", "
                            + Html.time(io.exposureTotalNs() / Math.max(1, io.exposedCount())) + " on average.");
                }
                if (queued > 0) {
                    para(queued + " unmapped IOVA" + (queued == 1 ? " was" : "s were")
                            + " still queued for invalidation at the end, reachable by the device; the oldest for "
                            + Html.time(m.kernel().clock().nowNs() - io.oldestAwaitingNs()) + ".");
                }
                List<String[]> rows = new ArrayList<>();
                for (DmaIommu.Exposure e : io.longestExposures(LIST_SHOWN)) {
                    rows.add(new String[] {
                        e.device(),
                        Bits.hex0x(e.iova()),
                        Long.toString(e.pages()),
                        Html.time(e.unmapNs()),
                        Html.time(e.invalidatedNs()),
                        Html.time(e.windowNs())
                    });
                }
                if (!rows.isEmpty()) {
                    table(
                            "exposures",
                            List.of("device", "IOVA", "pages", "unmapped at", "invalidated at", "window"),
                            rows);
                }
            }
            close();
        }

        void oops(List<OopsReport> reports, List<String> where) {
            open("oops", "The kernel crashed");
            for (int i = 0; i < reports.size(); i++) {
                OopsReport o = reports.get(i);
                if (!where.get(i).isEmpty()) {
                    sb.append("<p class=\"where\">")
                            .append(Html.esc(where.get(i)))
                            .append("</p>\n");
                }
                sb.append("<p>")
                        .append(Html.esc(o.summary()))
                        .append("</p>\n<pre class=\"oops\">")
                        .append(Html.esc(o.text()))
                        .append("</pre>\n");
            }
            close();
        }

        void figure(String id, String caption, String svg, String empty, List<String> legend) {
            sb.append("<figure class=\"plot\" id=\"").append(id).append("\">\n<figcaption>");
            sb.append(Html.esc(caption)).append("</figcaption>\n");
            if (svg == null) {
                sb.append("<p class=\"empty\">").append(Html.esc(empty)).append("</p>\n");
            } else {
                if (!legend.isEmpty()) {
                    sb.append("<ul class=\"legend\">");
                    for (int i = 0; i < legend.size(); i++) {
                        sb.append("<li><span class=\"swatch\" style=\"background:")
                                .append(Svg.colour(i))
                                .append("\"></span>")
                                .append(Html.esc(legend.get(i)))
                                .append("</li>");
                    }
                    sb.append("</ul>\n");
                }
                sb.append(svg);
            }
            sb.append("</figure>\n");
        }

        /** The four plots of a run or a replay, from its timeline. */
        void timelinePlots(Timeline t, Machine m) {
            open("plots", "Over time");
            long t0 = t.startNs();
            long t1 = Math.max(t.endNs(), t0 + 1);
            IoTlbPool pool = t.pool();
            List<Series> areas = t.swiotlbAreas();
            figure(
                    "plot-swiotlb",
                    pool == null
                            ? "swiotlb slots in use"
                            : "swiotlb slots in use, per area (" + pool.nareas() + " area"
                                    + (pool.nareas() == 1 ? "" : "s") + " of " + Html.count(pool.areaNslabs())
                                    + " slots, 2 KiB each)",
                    pool == null || peakOf(areas) == 0
                            ? null
                            : Svg.steps(
                                    "svg-swiotlb",
                                    "swiotlb slots in use per area over simulated time",
                                    areas,
                                    t0,
                                    t1,
                                    "slots in use",
                                    Html::count,
                                    false,
                                    pool.areaNslabs(),
                                    "area size"),
                    pool == null
                            ? "This machine has no swiotlb pool."
                            : "No mapping used the swiotlb pool: nothing needed a bounce buffer.",
                    names(areas));
            List<Series> iova = t.iovaDomains();
            figure(
                    "plot-iova",
                    "IOVA space allocated per IOMMU domain (live mappings, flush queues and per-CPU caches)",
                    iova.isEmpty()
                            ? null
                            : Svg.steps(
                                    "svg-iova",
                                    "IOVA space allocated per IOMMU domain over simulated time",
                                    iova,
                                    t0,
                                    t1,
                                    "IOVA space",
                                    Html::bytes,
                                    true,
                                    -1,
                                    ""),
                    t.hasIova()
                            ? "No IOVA was allocated during the run."
                            : m.iommu() == null
                                    ? "This machine has no IOMMU: DMA addresses are physical addresses."
                                    : "No device is in a translated IOMMU domain (identity or blocked): no IOVAs.",
                    names(iova));
            Map<String, long[]> bounced = t.bouncedBytes();
            figure(
                    "plot-bounce",
                    "Bytes bounced per device",
                    bounced.isEmpty()
                            ? null
                            : Svg.bars(
                                    "svg-bounce",
                                    "Bytes swiotlb copied into and out of bounce buffers, per device",
                                    new ArrayList<>(bounced.keySet()),
                                    new ArrayList<>(bounced.values()),
                                    List.of("into bounce buffers (for the device)", "out of them (from the device)"),
                                    Html::bytes,
                                    true,
                                    "bytes copied"),
                    "Nothing was bounced.",
                    bounced.isEmpty()
                            ? List.of()
                            : List.of("into bounce buffers (for the device)", "out of them (from the device)"));
            Map<String, long[]> hist = t.lifetimeHistogram();
            List<String> bucketLabels = new ArrayList<>();
            for (int b = 0; b < Timeline.BUCKETS; b++) {
                bucketLabels.add(Timeline.bucketLabel(b));
            }
            List<String> devices = new ArrayList<>(hist.keySet());
            figure(
                    "plot-lifetimes",
                    "How long streaming mappings lived (map to unmap), per device",
                    hist.isEmpty()
                            ? null
                            : Svg.histogram(
                                    "svg-lifetimes",
                                    "Streaming mapping lifetimes per device",
                                    bucketLabels,
                                    devices,
                                    new ArrayList<>(hist.values()),
                                    "lifetime (simulated)"),
                    "No streaming mapping was unmapped during the run.",
                    devices);
            List<Timeline.Lifetime> first = t.firstLifetimes();
            List<String> gDevices = new ArrayList<>();
            for (Timeline.Lifetime l : first) {
                if (!gDevices.contains(l.device())) {
                    gDevices.add(l.device());
                }
            }
            List<Svg.Interval> rows = new ArrayList<>();
            for (int i = 0; i < first.size(); i++) {
                Timeline.Lifetime l = first.get(i);
                String label = "#" + (i + 1) + " " + l.kind() + " " + Html.bytes(l.size());
                String tip = l.device() + ": " + l.kind() + " " + Html.bytes(l.size()) + " at "
                        + Bits.hex0x(l.dmaAddr()) + ", "
                        + (l.endNs() < 0 ? "still live at the end" : "lived " + Html.time(l.endNs() - l.startNs()));
                rows.add(new Svg.Interval(label, tip, gDevices.indexOf(l.device()), l.startNs(), l.endNs()));
            }
            Map<String, Long> live = t.liveAtEnd();
            figure(
                    "plot-timeline",
                    (first.size() < t.mappings()
                                    ? "The first " + first.size() + " of " + Html.count(t.mappings())
                                    : "All " + first.size())
                            + " mappings and coherent buffers, from map to unmap; hatched: still live at the end"
                            + (live.isEmpty() ? "" : " (" + Html.counts(live) + " live in all)"),
                    rows.isEmpty() ? null : Svg.intervals("svg-timeline", "Mapping lifetimes", rows, t0, t1),
                    "No mapping was made during the run.",
                    gDevices);
            close();
        }

        private static long peakOf(List<Series> series) {
            long max = 0;
            for (Series s : series) {
                max = Math.max(max, s.max());
            }
            return max;
        }

        private static List<String> names(List<Series> s) {
            List<String> out = new ArrayList<>();
            for (Series x : s) {
                out.add(x.name());
            }
            return out;
        }

        String end() {
            sb.append("</main>\n<footer>\n<p>Made by dmalab, an executable model of the Linux DMA-mapping stack."
                    + " Times are simulated, addresses are the model's: a prediction of what the modelled kernel"
                    + " does, not a measurement of hardware.</p>\n</footer>\n</body>\n</html>\n");
            return sb.toString();
        }
    }

    private static final String CSS =
            """
            :root { --fg: #1b1f24; --muted: #5b6570; --line: #d8dde3; --bg: #ffffff; --panel: #f6f8fa; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--fg); background: var(--bg);
              font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
            header, main, footer { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
            header { padding-top: 24px; }
            h1 { font-size: 1.6em; margin: 0 0 4px; }
            h2 { font-size: 1.2em; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
            h3 { font-size: 1em; margin: 0 0 6px; }
            .setup { color: var(--muted); margin: 0 0 10px; }
            .outcome { display: inline-block; margin: 0; padding: 3px 12px; border-radius: 4px; font-weight: 600; }
            .o-ok { background: #d5f0dd; color: #0b5d23; }
            .o-findings { background: #fde9c8; color: #7a4a00; }
            .o-failed { background: #fbd9d3; color: #8a1c0b; }
            .o-pool-exhausted { background: #f6d2e4; color: #7d1249; }
            .o-oops { background: #8a1c0b; color: #ffffff; }
            .o-unsupported { background: #eceef1; color: #5b6570; }
            dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px;
              margin: 0; }
            dl.figures div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
              padding: 8px 12px; }
            dl.figures dt { color: var(--muted); font-size: 0.85em; }
            dl.figures dd { margin: 0; font-size: 1.25em; font-weight: 600; }
            table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92em; }
            th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
            thead th { background: var(--panel); }
            table.matrix td.cell { text-align: center; font-weight: 600; min-width: 90px; }
            table.matrix small { font-weight: 400; }
            article.finding { border: 1px solid var(--line); border-left: 5px solid #e69f00; border-radius: 4px;
              padding: 10px 14px; margin: 12px 0; background: var(--panel); }
            article.finding.sev-error { border-left-color: #d55e00; }
            article.finding dl { display: grid; grid-template-columns: 80px 1fr; gap: 2px 10px; margin: 6px 0 0; }
            article.finding dt { color: var(--muted); }
            article.finding dd { margin: 0; }
            .sev { text-transform: uppercase; font-size: 0.8em; letter-spacing: 0.04em; color: #8a1c0b; }
            .tag { font-size: 0.75em; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px;
              font-weight: 400; }
            .where { color: var(--muted); margin: 0 0 4px; }
            pre { background: #0f1720; color: #e6edf3; padding: 10px 12px; border-radius: 4px; overflow-x: auto;
              font: 12.5px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
            pre.message { background: #ffffff; color: var(--fg); border: 1px solid var(--line); white-space: pre-wrap;
              margin: 6px 0; }
            .times { font-weight: 400; color: var(--muted); }
            details { margin: 6px 0; }
            summary { cursor: pointer; color: var(--muted); }
            ol.more { font-size: 0.88em; }
            figure.plot { margin: 16px 0 28px; }
            figcaption { font-weight: 600; margin-bottom: 4px; }
            svg.plot { width: 100%; height: auto; max-width: 900px; display: block; font-size: 11px;
              font-family: system-ui, sans-serif; }
            svg.plot text { fill: #3a434d; }
            svg.plot text.axis { fill: #5b6570; font-size: 11.5px; }
            svg.plot text.small { font-size: 9.5px; }
            ul.legend { list-style: none; padding: 0; margin: 0 0 4px; display: flex; flex-wrap: wrap; gap: 4px 16px;
              font-size: 0.88em; }
            .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px;
              vertical-align: -1px; }
            .empty, .none { color: var(--muted); font-style: italic; }
            footer { color: var(--muted); font-size: 0.85em; margin-top: 40px; padding-bottom: 32px;
              border-top: 1px solid var(--line); }
            """;
}
