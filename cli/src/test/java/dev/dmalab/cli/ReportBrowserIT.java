package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders HTML reports of known runs in headless Chromium, as a reader's browser would: takes a screenshot and reads
 * the laid-out DOM (tables, plots with their rendered sizes, findings) through a probe script added to a copy of the
 * report — the report itself has no script. Runs the shaded jar like {@link DmalabJarIT}.
 *
 * <p>Needs Chromium ({@code chromium} on the PATH, or {@code DMALAB_CHROMIUM}); {@code .ci/run} installs it from
 * Debian's packages and sets {@code DMALAB_REQUIRE_BROWSER=1}, which turns a missing browser into a failure. Without
 * that variable a machine without Chromium skips these tests and says so.
 */
class ReportBrowserIT {
    private static Path jar;
    private static String chromium;

    @TempDir
    Path tmp;

    @BeforeAll
    static void find() {
        jar = Path.of(System.getProperty("dmalab.jar", "target/dmalab.jar")).toAbsolutePath();
        assertThat(jar).as("run 'mvn package' first").isRegularFile();
        chromium = findChromium();
        if (chromium == null) {
            String why = "no Chromium: install the Debian package 'chromium' (or set DMALAB_CHROMIUM)";
            if ("1".equals(System.getenv("DMALAB_REQUIRE_BROWSER"))) {
                throw new AssertionError(why + "; DMALAB_REQUIRE_BROWSER=1 requires it");
            }
            Assumptions.abort(why);
        }
    }

    private static String findChromium() {
        String env = System.getenv("DMALAB_CHROMIUM");
        if (env != null && !env.isBlank()) {
            return env;
        }
        String path = System.getenv("PATH");
        for (String dir : path == null ? new String[0] : path.split(java.io.File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        return null;
    }

    /** Runs a program; returns its stdout, failing on a non-zero exit other than {@code okExit}. */
    private String exec(List<String> cmd, int okExit) throws IOException, InterruptedException {
        ChildProcess.Result r = ChildProcess.run(cmd, tmp, 120);
        assertThat(r.code()).as(String.join(" ", cmd) + "\n" + r.err()).isIn(0, okExit);
        return r.out();
    }

    private Path report(String name, int exit, String... args) throws Exception {
        Path html = tmp.resolve(name);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(args));
        cmd.add("--report");
        cmd.add(html.toString());
        exec(cmd, exit);
        assertThat(html).isRegularFile();
        return html;
    }

    private List<String> browser(String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--user-data-dir=" + tmp.resolve("profile")));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The probe: facts about the rendered DOM, written as JSON into a {@code <pre id="dom-facts">}. */
    private static final String PROBE =
            """
            <script>
            (() => {
              const q = (s, r) => Array.from((r || document).querySelectorAll(s));
              const size = e => { const b = e.getBoundingClientRect(); return [Math.round(b.width), Math.round(b.height)]; };
              const facts = {
                title: document.title,
                outcome: document.querySelector('header p.outcome').textContent,
                outcomeColour: getComputedStyle(document.querySelector('header p.outcome')).backgroundColor,
                matrixRows: q('table.matrix tbody tr').map(tr => tr.querySelector('th').textContent),
                matrixCells: q('table.matrix td.cell').map(td => td.querySelector('.label').textContent),
    bounced: q('table.matrix td.cell small.bounced').map(s => s.textContent),
                findings: q('article.finding').map(a => ({
                  category: a.querySelector('h3 code').textContent,
                  count: Number(a.dataset.count),
                  terms: q('dl > dt', a).map(d => d.textContent),
                  fix: a.querySelector('dl > dt:nth-of-type(3) + dd').textContent,
                  height: size(a)[1]})),
                plots: q('figure.plot').map(f => {
                  const svg = f.querySelector('svg');
                  return {id: f.id, svg: svg ? size(svg) : null,
                    marks: svg ? q('path.series, rect.bar', svg).length : 0,
                    empty: f.querySelector('p.empty') ? f.querySelector('p.empty').textContent : null};
                }),
                oops: q('pre.oops').map(p => p.textContent.split('\\n')[0]),
                external: q('[src], link[href], iframe, object, embed').length,
                scripts: q('script').length,
                pageWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth
              };
              const pre = document.createElement('pre');
              pre.id = 'dom-facts';
              pre.textContent = JSON.stringify(facts);
              document.body.appendChild(pre);
            })();
            </script>
            """;

    private JsonNode facts(Path html) throws Exception {
        String page = Files.readString(html, StandardCharsets.UTF_8);
        Path probe = tmp.resolve("probe-" + html.getFileName());
        Files.writeString(probe, page.replace("</body>", PROBE + "</body>"), StandardCharsets.UTF_8);
        String dom = exec(
                browser("--window-size=1100,2000", "--dump-dom", probe.toUri().toString()), 0);
        int at = dom.indexOf("<pre id=\"dom-facts\">");
        assertThat(at)
                .as("the probe ran in the browser:\n" + dom.substring(0, Math.min(dom.length(), 2000)))
                .isGreaterThanOrEqualTo(0);
        String json = dom.substring(at + "<pre id=\"dom-facts\">".length(), dom.indexOf("</pre>", at))
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&nbsp;", "\u00a0")
                .replace("&amp;", "&");
        return new ObjectMapper().readTree(json);
    }

    private static JsonNode plot(JsonNode facts, String id) {
        for (JsonNode p : facts.get("plots")) {
            if (p.get("id").asText().equals(id)) {
                return p;
            }
        }
        throw new AssertionError("no figure#" + id + " in " + facts.get("plots"));
    }

    @Test
    void aRunReportRendersItsTablePlotsAndFindings() throws Exception {
        Path html =
                report("run.html", 1, "run", "nic-rx-ring-nosync", "--platform", "rpi4", "--cmdline", "swiotlb=force");

        // what a reader sees: a screenshot of the top of the page, a real PNG of the window's size
        Path png = tmp.resolve("run.png");
        exec(
                browser(
                        "--window-size=1100,2400",
                        "--screenshot=" + png,
                        html.toUri().toString()),
                0);
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).as("a screenshot with content").isGreaterThan(30_000);
        assertThat(new String(bytes, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        ByteBuffer ihdr = ByteBuffer.wrap(bytes, 16, 8);
        assertThat(ihdr.getInt()).isEqualTo(1100);
        assertThat(ihdr.getInt()).isEqualTo(2400);
        Path kept = Path.of("target", "report-screenshot.png");
        Files.createDirectories(kept.getParent());
        Files.copy(png, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        JsonNode f = facts(html);
        assertThat(f.get("title").asText()).isEqualTo("dmalab: nic-rx-ring-nosync on rpi4, Linux 6.12");
        assertThat(f.get("outcome").asText()).isEqualTo("findings 32");
        assertThat(f.get("outcomeColour").asText())
                .as("styled by the inline CSS")
                .isNotEqualTo("rgba(0, 0, 0, 0)");
        assertThat(f.get("matrixRows").get(0).asText()).isEqualTo("rpi4");
        assertThat(f.get("matrixCells").get(0).asText()).isEqualTo("findings 32");
        assertThat(f.get("bounced").get(0).asText())
                .as("8 pages of 4 KiB bounced in")
                .isEqualTo("32 KiB bounced");

        JsonNode finding = f.get("findings").get(0);
        assertThat(f.get("findings")).hasSize(1);
        assertThat(finding.get("category").asText()).isEqualTo("cpu-read-device-owned");
        assertThat(finding.get("count").asInt()).isEqualTo(32);
        assertThat(finding.get("terms").toString()).isEqualTo("[\"at\",\"why\",\"fix\",\"bites on\"]");
        assertThat(finding.get("fix").asText()).contains("dma_sync_single_for_cpu");
        assertThat(finding.get("height").asInt()).isPositive();

        // every plot is laid out at a readable size and has marks, except the IOVA plot (rpi4 has no IOMMU)
        for (String id : List.of("plot-swiotlb", "plot-bounce", "plot-lifetimes", "plot-timeline")) {
            JsonNode p = plot(f, id);
            assertThat(p.get("svg").get(0).asInt()).as(id + " width").isGreaterThan(600);
            assertThat(p.get("svg").get(1).asInt()).as(id + " height").isGreaterThan(60);
            assertThat(p.get("marks").asInt()).as(id + " marks").isPositive();
        }
        assertThat(plot(f, "plot-swiotlb").get("marks").asInt())
                .as("one line per swiotlb area")
                .isEqualTo(4);
        assertThat(plot(f, "plot-iova").get("empty").asText()).contains("no IOMMU");

        assertThat(f.get("oops")).isEmpty();
        assertThat(f.get("external").asInt()).as("nothing loaded from outside").isZero();
        assertThat(f.get("scripts").asInt()).as("only the probe").isEqualTo(1);
        assertThat(f.get("pageWidth").asInt())
                .as("no horizontal overflow")
                .isLessThanOrEqualTo(f.get("viewport").asInt());
    }

    @Test
    void aMatrixReportRendersTheGridAndTheOops() throws Exception {
        Path html = report(
                "matrix.html",
                1,
                "matrix",
                "xen-dom0-boot",
                "--platforms",
                "juno-r2-xen-dom0,arm64-virt-xen-dom0",
                "--kernels",
                "5.0-rc2,6.12",
                "-q");
        JsonNode f = facts(html);
        assertThat(f.get("matrixRows").toString()).isEqualTo("[\"juno-r2-xen-dom0\",\"arm64-virt-xen-dom0\"]");
        assertThat(f.get("matrixCells")).hasSize(4);
        assertThat(f.get("matrixCells").get(0).asText()).isEqualTo("oops");
        assertThat(f.get("oops")).isNotEmpty();
        assertThat(f.get("oops").get(0).asText()).startsWith("Unable to handle kernel NULL pointer dereference");
        assertThat(plot(f, "plot-peak").get("svg")).isNotNull();
        assertThat(f.get("external").asInt()).isZero();
    }
}
