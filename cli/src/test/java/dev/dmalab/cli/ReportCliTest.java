package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --report FILE.html} on run, replay and matrix, end to end. */
class ReportCliTest {
    @TempDir
    Path tmp;

    @Test
    void runWritesTheReportBesideItsUsualOutput() throws Exception {
        Path html = tmp.resolve("r.html");
        Cli.Result plain = Cli.run("run", "nic-rx-ring-nosync", "--platform", "rpi4");
        Cli.Result r = Cli.run("run", "nic-rx-ring-nosync", "--platform", "rpi4", "--report", html.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_FAILED);
        assertThat(r.out()).as("the report changes nothing on stdout").isEqualTo(plain.out());
        assertThat(r.err()).isEmpty();
        String page = Files.readString(html);
        assertThat(page).contains("<h1>nic-rx-ring-nosync on rpi4, Linux 6.12</h1>");
        assertThat(page).contains("<code>cpu-read-device-owned</code>");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(html)))
                .isEqualTo("rw-r--r--");
        assertThat(tmp.toFile().list()).as("no temporary file left").containsExactly("r.html");
    }

    /**
     * {@code run} on an IOMMU platform says how long devices could reach memory after its unmap: nothing when
     * strict; in lazy mode each unmap waits for the flush queue's timer, 10 ms rounded up to HZ=250 jiffies and one
     * more (12 ms here), and what is still queued at the end stays reachable.
     */
    @Test
    void runReportsTheIommuExposureWindows() throws Exception {
        Path yaml = tmp.resolve("lazy.yaml");
        Files.writeString(
                yaml,
                String.join(
                        "\n",
                        "name: lazy-window",
                        "description: map, unmap, then time passes beyond the flush timer",
                        "devices: first",
                        "steps:",
                        "  - task: {comm: t, pid: 1, cpu: 0}",
                        "  - buffer: {name: b, size: 4096}",
                        "  - map: {buffer: b, direction: TO_DEVICE}",
                        "  - unmap: {handle: b}",
                        "  - wait: 20ms",
                        "  - map: {buffer: b, direction: TO_DEVICE}",
                        "  - unmap: {handle: b}",
                        ""));
        Cli.Result lazy = Cli.run("run", yaml.toString(), "--platform", "x86-q35-vtd-lazy");
        assertThat(lazy.code()).as(lazy.toString()).isZero();
        assertThat(lazy.out())
                .contains("  exposure after unmap: 1 of 1 invalidated unmaps were reachable after it, max 11999.0 µs,"
                        + " mean 11999.0 µs\n")
                .contains("  1 unmapped IOVA still queued for invalidation at the end (reachable by the device)")
                .contains("  0000:00:02.0  0xfffff000  1      t=1.000 µs  t=12000.000 µs  11999.0 µs\n");
        Cli.Result json = Cli.run("run", yaml.toString(), "--platform", "x86-q35-vtd-lazy", "--json");
        com.fasterxml.jackson.databind.JsonNode io =
                Json.MAPPER.readTree(json.out()).get("iommu");
        assertThat(io.get("exposureMaxNs").asLong()).isEqualTo(11_999_000);
        assertThat(io.get("awaitingInvalidation").asLong()).isEqualTo(1);
        assertThat(io.get("exposures")).hasSize(1);
        assertThat(io.get("exposures").get(0).get("windowNs").asLong()).isEqualTo(11_999_000);
        assertThat(io.get("exposures").get(0).get("iova").asText()).isEqualTo("0xfffff000");
        Cli.Result strict = Cli.run("run", yaml.toString(), "--platform", "x86-q35-vtd");
        assertThat(strict.out()).contains("  exposure after unmap: none (2 unmaps, each invalidated at once)\n");
    }

    @Test
    void theSameRunWritesTheSameBytes() throws Exception {
        Path a = tmp.resolve("a.html");
        Path b = tmp.resolve("b.html");
        assertThat(Cli.run("run", "usb-small-buffers", "--platform", "arm64-noncoherent", "--report", a.toString())
                        .code())
                .isZero();
        assertThat(Cli.run("run", "usb-small-buffers", "--platform", "arm64-noncoherent", "--report", b.toString())
                        .code())
                .isZero();
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    }

    @Test
    void anUnwritableReportIsAUsageErrorBeforeAnythingRuns() throws Exception {
        Cli.Result r = Cli.run(
                "run",
                "streaming-roundtrip",
                "--platform",
                "x86-q35",
                "--report",
                tmp.resolve("no/such/dir/r.html").toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("the directory does not exist").doesNotContain("Exception");
        Cli.Result d = Cli.run("matrix", "streaming-roundtrip", "--report", tmp.toString());
        assertThat(d.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(d.err()).contains("is a directory");
    }

    @Test
    void aFailedRunDoesNotReplaceAnEarlierReport() throws Exception {
        Path html = tmp.resolve("r.html");
        Files.writeString(html, "earlier");
        Cli.Result r = Cli.run("run", "no-such-workload", "--platform", "x86-q35", "--report", html.toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(Files.readString(html)).isEqualTo("earlier");
    }

    @Test
    void replayReportHasTheFidelity() throws Exception {
        Path html = tmp.resolve("replay.html");
        Cli.Result r = Cli.run(
                ReplayCommandTest.args("x86-q35/swiotlb-force", "x86-q35", "--compare", "--report", html.toString()));
        assertThat(r.code()).as(r.toString()).isZero();
        String page = Files.readString(html);
        assertThat(page).contains("<section id=\"fidelity\">").contains("<dd>100.00%</dd>");
        assertThat(page).contains("<figure class=\"plot\" id=\"plot-swiotlb\">");
    }

    @Test
    void matrixReportHasEveryCell() throws Exception {
        Path html = tmp.resolve("m.html");
        Cli.Result r = Cli.run(
                "matrix",
                "streaming-roundtrip-nosync",
                "--platforms",
                "x86-q35,arm64-noncoherent",
                "--kernels",
                "5.4,6.12",
                "-q",
                "--report",
                html.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_FAILED);
        String page = Files.readString(html);
        assertThat(page.split("<td class=\"cell ", -1)).hasSize(5);
        assertThat(page).contains("<p class=\"where\">arm64-noncoherent, Linux 6.12</p>");
    }
}
