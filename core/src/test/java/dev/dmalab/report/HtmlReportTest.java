package dev.dmalab.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.check.Category;
import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaFinding;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.matrix.Matrix;
import dev.dmalab.matrix.MatrixResult;
import dev.dmalab.matrix.Subject;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.replay.ReplaySetup;
import dev.dmalab.replay.TraceReplay;
import dev.dmalab.scenario.Outcome;
import dev.dmalab.scenario.RunResult;
import dev.dmalab.scenario.WorkloadRunner;
import dev.dmalab.scenario.Workloads;
import dev.dmalab.testing.Captures;
import dev.dmalab.trace.FtraceParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The report's structure (the ids and classes its Javadoc promises), that it is well nested, self-contained and
 * byte-identical for the same inputs. How it renders is checked in a real browser by the cli's ReportBrowserIT.
 */
class HtmlReportTest {
    private static String runReport(String workload, String platform, String kernel, String cmdline) {
        Machine m = Machine.boot(
                Platforms.builtIn(platform),
                KernelVersion.parse(kernel),
                Machine.BootOptions.DEFAULT.withCmdline(cmdline));
        m.attachChecker(CheckOptions.DEFAULT);
        Timeline t = Timeline.attach(m);
        RunResult r = WorkloadRunner.run(Workloads.resolve(workload, null), m, 1);
        return HtmlReport.run(r, m, t.finish());
    }

    @Test
    void aRunWithFindingsHasItsSectionsAndPlots() {
        String html = runReport("nic-rx-ring-nosync", "rpi4", "6.12", "swiotlb=force");
        assertWellFormed(html);
        assertThat(html).startsWith("<!DOCTYPE html>\n<html lang=\"en\">");
        for (String id : List.of("summary", "matrix", "failures", "findings", "plots", "counters")) {
            assertThat(html).contains("<section id=\"" + id + "\">");
        }
        assertThat(html).contains("<p class=\"outcome o-findings\">findings ");
        // the summary's figure counts what the outcome badge counts
        Matcher badge = Pattern.compile("<p class=\"outcome o-findings\">findings (\\d+)")
                .matcher(html);
        Matcher figure = Pattern.compile("<dt>findings</dt><dd>(\\d+)").matcher(html);
        assertThat(badge.find()).isTrue();
        assertThat(figure.find()).isTrue();
        assertThat(figure.group(1)).isEqualTo(badge.group(1));
        assertThat(count(html, "<article class=\"finding ")).isEqualTo(1); // 32 of one kind on one device
        assertThat(html).contains("data-count=\"32\"").contains("31 more like it");
        // every plot has data under swiotlb=force on rpi4 except the IOVA one (no IOMMU)
        for (String id : List.of("plot-swiotlb", "plot-bounce", "plot-lifetimes", "plot-timeline")) {
            int at = html.indexOf("<figure class=\"plot\" id=\"" + id + "\">");
            assertThat(at).as(id).isPositive();
            assertThat(html.substring(at, html.indexOf("</figure>", at))).as(id).contains("<svg class=\"plot\"");
        }
        assertThat(html).contains("This machine has no IOMMU");
        assertThat(html).doesNotContain("<section id=\"oops\">");
    }

    @Test
    void theSameRunGivesTheSameBytes() {
        String a = runReport("nvme-io", "x86-q35-vtd-lazy", "6.12", "");
        String b = runReport("nvme-io", "x86-q35-vtd-lazy", "6.12", "");
        assertThat(a).isEqualTo(b);
        assertThat(a).contains("<figure class=\"plot\" id=\"plot-iova\">");
        assertThat(a)
                .contains("<section id=\"iommu\">")
                .contains("18 unmapped IOVAs were still queued for invalidation at the end");
        int at = a.indexOf("id=\"plot-iova\"");
        assertThat(a.substring(at, a.indexOf("</figure>", at))).contains("<path class=\"series\"");
    }

    @Test
    void anOopsIsShownAsTheKernelPrintsIt() {
        String html = runReport("xen-dom0-boot", "juno-r2-xen-dom0", "5.0-rc2", "");
        assertWellFormed(html);
        assertThat(html).contains("<p class=\"outcome o-oops\">oops</p>");
        assertThat(html).contains("<section id=\"oops\">").contains("<pre class=\"oops\">");
        assertThat(html).contains("xen_swiotlb_alloc_coherent");
        assertThat(html).contains("<section id=\"xen\">");
    }

    @Test
    void aMatrixReportHasTheGridAndEachFailingCellsFindings() {
        MatrixResult r = Matrix.run(
                new Matrix.Request(
                        new Subject.OfWorkload(Workloads.resolve("streaming-roundtrip-nosync", null)),
                        List.of(Platforms.builtIn("x86-q35"), Platforms.builtIn("rpi4")),
                        List.of(KernelVersion.V5_4, KernelVersion.V6_12),
                        "",
                        1),
                1,
                Matrix.Progress.NONE);
        String html = HtmlReport.matrix(r);
        assertWellFormed(html);
        assertThat(count(html, "<td class=\"cell ")).isEqualTo(4);
        assertThat(html).contains("<tr><th scope=\"row\">x86-q35</th>").contains("<th>Linux 6.12</th>");
        assertThat(html).contains("<p class=\"where\">rpi4, Linux 6.12</p>");
        assertThat(html).contains("id=\"plot-bounce\"").contains("id=\"plot-peak\"");
        assertThat(html).isEqualTo(HtmlReport.matrix(r));
    }

    @Test
    void aReplayReportHasTheParametersFidelityAndPlots() {
        String capture = "x86-q35/swiotlb-force";
        ReplaySetup setup = ReplaySetup.create(
                Platforms.builtIn("x86-q35"),
                KernelVersion.V6_12,
                new ReplaySetup.FileText("cmdline.txt", Captures.read(capture, "cmdline.txt")),
                new ReplaySetup.FileText("iomem.txt", Captures.read(capture, "iomem.txt")),
                new ReplaySetup.FileText("dmesg.txt", Captures.read(capture, "dmesg.txt")),
                null,
                "",
                () -> open(capture));
        Machine first = setup.boot();
        Timeline t = Timeline.attach(first);
        TraceReplay r;
        try (FtraceParser p = open(capture)) {
            r = new TraceReplay("trace.txt.xz", p, first, setup.boot()).run();
        }
        String html = HtmlReport.replay(
                new HtmlReport.ReplayView("trace.txt.xz", r, setup, true, List.of(), 0, false, null, 5), t.finish());
        assertWellFormed(html);
        assertThat(html).contains("<section id=\"parameters\">").contains("<section id=\"fidelity\">");
        assertThat(html).contains("<dt>fidelity, open-loop</dt><dd>100.00%</dd>");
        assertThat(html).as("no checker: no findings section").doesNotContain("<section id=\"findings\">");
        int at = html.indexOf("id=\"plot-swiotlb\"");
        assertThat(html.substring(at, html.indexOf("</figure>", at))).contains("<path class=\"series\"");
        assertThat(t.mappings())
                .as("every streaming mapping the model made is on the timeline")
                .isGreaterThanOrEqualTo(r.streamingMappings())
                .isPositive();
        assertThat(t.startNs())
                .as("the axis starts at the trace's first event, not at boot")
                .isPositive();
    }

    private static FtraceParser open(String capture) {
        try {
            return FtraceParser.open(Captures.dir(capture).resolve("trace.txt.xz"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int at = s.indexOf(what); at >= 0; at = s.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    private static final Set<String> VOID = Set.of("meta", "br", "hr", "img", "input", "link", "wbr");
    private static final Pattern TAG = Pattern.compile("<(/?)([a-zA-Z][a-zA-Z0-9]*)\\b[^>]*?(/?)>");

    /** Every element is closed in order, and nothing is loaded from outside (no src/href/url(http), no script). */
    static void assertWellFormed(String html) {
        String body = html.replaceAll("(?s)<style>.*?</style>", "<style></style>");
        Deque<String> open = new ArrayDeque<>();
        Matcher m = TAG.matcher(body.replace("<!DOCTYPE html>", ""));
        while (m.find()) {
            String name = m.group(2).toLowerCase(java.util.Locale.ROOT);
            if (VOID.contains(name) || !m.group(3).isEmpty()) {
                continue;
            }
            if (m.group(1).isEmpty()) {
                open.push(name);
            } else {
                assertThat(open).as("closing </" + name + "> at " + m.start()).isNotEmpty();
                assertThat(open.pop()).as("element closed at " + m.start()).isEqualTo(name);
            }
        }
        assertThat(open).as("unclosed elements").isEmpty();
        assertThat(html).doesNotContain("<script").doesNotContain(" src=").doesNotContain("<link");
        assertThat(html.replace("http://www.w3.org/2000/svg", ""))
                .doesNotContain("http://")
                .doesNotContain("https://");
    }

    /** The summary's findings figure counts what the outcome badge counts, and says where they came from. */
    @Test
    void theFindingsFigureCountsWhatTheBadgeCounts() {
        DmaFinding f = new DmaFinding(
                Category.UNMAP_NOT_MAPPED, "d", "drv", 0x1000, 64, 0x1000, "dma_unmap_page", List.of(), "m", 0, 0);
        RunResult both = result(List.of("kernel: a WARN", "checker: m"), List.of(f), 3);
        assertThat(HtmlReport.findingsFigure(both))
                .isEqualTo("2 (1 from the DMA checker, 1 from the kernel's own checks), and 3 more the checker did not"
                        + " show");
        assertThat(Matrix.classify(both, 0).findings()).isEqualTo(2);
        assertThat(HtmlReport.findingsFigure(result(List.of("kernel: a WARN"), List.of(), 0)))
                .isEqualTo("1 (from the kernel's own checks)");
        assertThat(HtmlReport.findingsFigure(result(List.of("checker: m"), List.of(f), 0)))
                .isEqualTo("1");
    }

    private static RunResult result(List<String> findings, List<DmaFinding> checks, long suppressed) {
        return new RunResult(
                "w",
                "x86-q35",
                "6.12",
                1,
                Outcome.FAILED,
                List.of(),
                new TreeMap<>(),
                null,
                findings,
                checks,
                suppressed,
                null);
    }
}
