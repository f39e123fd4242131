package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code dmalab matrix} end to end: table, JSON, filters, scenario files and traces, exit codes, progress bar. */
class MatrixCommandTest {
    static final String SCENARIOS = "../core/src/main/resources/scenarios/";

    /** The table's rows (the lines between the blank line after the title and the blank line before the summary). */
    static List<String> rows(String out) {
        List<String> lines = out.lines().toList();
        return lines.subList(3, lines.size() - 2);
    }

    @Test
    void tableHasATitleOneRowPerCellInPlatformThenKernelOrderAndASummary() {
        Cli.Result r = Cli.run(
                "matrix",
                "streaming-roundtrip",
                "--platforms",
                "juno-r2-xen-dom0,x86-q35",
                "--kernels",
                "6.12,5.0-rc2");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("streaming-roundtrip, seed 1: 2 platforms x 2 kernels");
        assertThat(lines.get(1)).isEmpty();
        assertThat(lines.get(2)).matches("PLATFORM +KERNEL +OUTCOME +BOUNCED +SWIOTLB PEAK +NOTE");
        assertThat(rows(r.out()))
                .hasSize(4)
                .satisfiesExactly(
                        l -> assertThat(l).matches("juno-r2-xen-dom0 +6\\.12 +ok +0 B +0 of 1024 slots"),
                        l -> assertThat(l)
                                .matches("juno-r2-xen-dom0 +5\\.0-rc2 +oops +0 B +0 of 2048 slots +NULL pointer"
                                        + " dereference at virtual address 0x20 in xen_swiotlb_map_page"),
                        l -> assertThat(l).matches("x86-q35 +6\\.12 +ok +0 B +-"),
                        l -> assertThat(l).matches("x86-q35 +5\\.0-rc2 +ok +0 B +-"));
        assertThat(lines.get(lines.size() - 2)).isEmpty();
        assertThat(lines.get(lines.size() - 1)).isEqualTo("4 cells: 3 ok, 1 oops");
    }

    @Test
    void byDefaultEveryBuiltInPlatformAndKernelAndTheSameRunGivesTheSameBytes() {
        Cli.Result a = Cli.run("matrix", "streaming-roundtrip");
        Cli.Result b = Cli.run("matrix", "streaming-roundtrip");
        assertThat(a.code()).as(a.toString()).isEqualTo(1); // arm64 Xen dom0 on 5.0-rc2
        assertThat(rows(a.out())).hasSize(13 * 5);
        assertThat(rows(a.out()).get(0)).startsWith("x86-q35  ").contains(" 4.20 ");
        assertThat(rows(a.out()).get(64)).startsWith("arm64-virt-xen-dom0 ").contains(" 6.12 ");
        assertThat(a.out()).contains("13 platforms x 5 kernels").endsWith("65 cells: 63 ok, 2 oops\n");
        assertThat(b.out()).isEqualTo(a.out());
    }

    @Test
    void allOkOrUnsupportedExitsZero() {
        Cli.Result ok = Cli.run(
                "matrix", "streaming-roundtrip", "--platforms", "x86-q35,arm64-noncoherent", "--kernels", "5.0,6.12");
        assertThat(ok.code()).as(ok.toString()).isZero();
        assertThat(ok.out())
                .endsWith("4 cells: 4 ok\n")
                .containsPattern("arm64-noncoherent +6\\.12 +ok +23\\.4 KiB +2 of" + " 32768 slots");
        Cli.Result unsupported = Cli.run("matrix", "check-map-vmalloc", "--platforms", "x86-q35", "--kernels", "5.0");
        assertThat(unsupported.code()).as(unsupported.toString()).isZero();
        assertThat(unsupported.out()).contains(" unsupported ").endsWith("1 cell: 1 unsupported\n");
    }

    @Test
    void aFailingWorkloadExitsOne() {
        Cli.Result r = Cli.run(
                "matrix", "streaming-roundtrip-nosync", "--platforms", "arm64-noncoherent,rpi4", "--kernels", "6.12");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(rows(r.out()))
                .satisfiesExactly(
                        l -> assertThat(l)
                                .startsWith("arm64-noncoherent  6.12    findings 4")
                                .endsWith("[cpu-read-device-owned]"),
                        l -> assertThat(l).startsWith("rpi4               6.12    findings 4"));
    }

    @Test
    void jsonIsOneObjectWithTheCellsInOrder() throws IOException {
        Cli.Result r = Cli.run(
                "matrix",
                "streaming-roundtrip-nosync",
                "--platforms",
                "juno-r2-xen-dom0,arm64-noncoherent",
                "--kernels",
                "5.0-rc2,6.12",
                "--seed",
                "7",
                "--json");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        JsonNode o = MainTest.singleJson(r.out());
        assertThat(o.get("workload").asText()).isEqualTo("streaming-roundtrip-nosync");
        assertThat(o.get("kind").asText()).isEqualTo("workload");
        assertThat(o.get("seed").asLong()).isEqualTo(7);
        assertThat(o.get("platforms").toString()).isEqualTo("[\"juno-r2-xen-dom0\",\"arm64-noncoherent\"]");
        assertThat(o.get("kernels").toString()).isEqualTo("[\"5.0-rc2\",\"6.12\"]");
        JsonNode cells = o.get("cells");
        assertThat(cells).hasSize(4);
        assertThat(cells.get(0).get("platform").asText()).isEqualTo("juno-r2-xen-dom0");
        assertThat(cells.get(0).get("kernel").asText()).isEqualTo("5.0-rc2");
        assertThat(cells.get(0).get("outcome").asText()).isEqualTo("oops");
        assertThat(cells.get(0).get("detail").asText()).contains("xen_swiotlb_map_page");
        JsonNode arm = cells.get(3);
        assertThat(arm.get("outcome").asText()).isEqualTo("findings");
        assertThat(arm.get("label").asText()).isEqualTo("findings 4");
        assertThat(arm.get("findings").asInt()).isEqualTo(4);
        assertThat(arm.get("detail").asText()).endsWith("[cpu-read-device-owned]");
        assertThat(arm.get("bounce_bytes").asLong()).isPositive();
        assertThat(arm.get("swiotlb_peak_slots").asLong()).isEqualTo(2);
        assertThat(arm.get("swiotlb_slots").asLong()).isEqualTo(32768);
        JsonNode s = o.get("summary");
        assertThat(s.get("cells").asInt()).isEqualTo(4);
        assertThat(s.get("findings").asInt()).isEqualTo(3);
        assertThat(s.get("oops").asInt()).isEqualTo(1);
        assertThat(s.get("pool_exhausted").asInt()).isZero();
        assertThat(s.get("text").asText()).isEqualTo("4 cells: 3 findings, 1 oops");
        assertThat(o.get("failed").asBoolean()).isTrue();
    }

    @Test
    void badNamesAreUsageErrorsNamingWhatWasWrong() {
        assertThat(MainTest.assertUsageError("matrix", "streaming-roundtrip", "--platforms", "x86-q35,nope")
                        .err())
                .startsWith("dmalab: unknown platform 'nope' (built-in: x86-q35, ");
        assertThat(MainTest.assertUsageError("matrix", "streaming-roundtrip", "--kernels", "6.12,9.9")
                        .err())
                .startsWith("dmalab: unknown kernel '9.9' (known: 4.20, ");
        assertThat(MainTest.assertUsageError("matrix", "no-such-workload").err())
                .startsWith("dmalab: unknown workload 'no-such-workload'")
                .contains("nor is it a scenario file (.yaml, .yml) or a trace file");
        assertThat(MainTest.assertUsageError("matrix", "streaming-roundtrip", "--variant", "nosync")
                        .err())
                .startsWith(
                        "dmalab: --variant applies to a scenario file; a built-in workload names its variant itself");
        assertThat(MainTest.assertUsageError("matrix", "missing.yaml").err()).startsWith("dmalab: missing.yaml: ");
        assertThat(MainTest.assertUsageError("matrix", SCENARIOS + "check-double-unmap.yaml", "--variant", "x")
                        .err())
                .endsWith("check-double-unmap.yaml (its variants: buggy, fixed)\n")
                .startsWith("dmalab: no variant 'x' in ");
    }

    @Test
    void aScenarioFileRunsItsFirstVariantOrTheOneNamed() {
        String file = SCENARIOS + "check-double-unmap.yaml";
        Cli.Result buggy = Cli.run("matrix", file, "--platforms", "x86-q35", "--kernels", "6.12");
        assertThat(buggy.code()).as(buggy.toString()).isEqualTo(1);
        assertThat(buggy.out()).startsWith("check-double-unmap, seed 1: ").contains(" findings 1 ");
        Cli.Result fixed = Cli.run("matrix", file, "--variant", "fixed", "--platforms", "x86-q35", "--kernels", "6.12");
        assertThat(fixed.code()).as(fixed.toString()).isZero();
        assertThat(fixed.out()).startsWith("check-double-unmap-fixed, seed 1: ");
    }

    @Test
    void aTraceIsReplayedOnEachPlatformWithTheCmdlineAddedLast(@TempDir Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("# tracer: nop\n");
        for (int i = 0; i < 100; i++) {
            long pa = 0x2000000L + 0x2000L * i;
            sb.append(String.format(
                    "          dd-1     [000] .....    1.%06d: dma_map_page: 0000:00:02.0 dir=TO_DEVICE"
                            + " dma_addr=%x size=8192 phys_addr=%x attrs=\n",
                    i, pa, pa));
        }
        Path t = dir.resolve("hog.txt");
        Files.writeString(t, sb.toString());
        Cli.Result r = Cli.run("matrix", t.toString(), "--platforms", "x86-q35,arm64-virt", "--kernels", "6.12");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out())
                .startsWith("trace " + t + ": 2 platforms x 1 kernel\n")
                .containsPattern("x86-q35 +6\\.12 +ok ")
                .contains("the trace maps phys 0x2000000 (line 2), not RAM on arm64-virt")
                .endsWith("2 cells: 1 ok, 1 unsupported\n");
        Cli.Result small = Cli.run(
                "matrix",
                t.toString(),
                "--platforms",
                "x86-q35",
                "--kernels",
                "6.12",
                "--cmdline",
                "swiotlb=128,force",
                "--json");
        assertThat(small.code()).as(small.toString()).isEqualTo(1);
        assertThat(MainTest.singleJson(small.out()).get("kind").asText()).isEqualTo("trace");
        JsonNode c = MainTest.singleJson(small.out()).get("cells").get(0);
        assertThat(c.get("outcome").asText()).isEqualTo("pool exhausted");
        assertThat(c.get("swiotlb_peak_slots").asLong()).isEqualTo(128);
    }

    @Test
    void theProgressBarGoesToStderrOnATerminalOnlyAndNeverIntoStdout() {
        String[] args = {"matrix", "streaming-roundtrip", "--platforms", "x86-q35,rpi4", "--kernels", "5.0,6.12"};
        Cli.Result plain = Cli.run(args);
        assertThat(plain.err()).as("not a terminal (tests never run on one)").isEmpty();
        BooleanSupplier terminal = MatrixCommand.terminal;
        LongSupplier clock = MatrixCommand.clockNs;
        try {
            MatrixCommand.terminal = () -> true;
            AtomicLong now = new AtomicLong();
            MatrixCommand.clockNs = () -> now.getAndAdd(ProgressBar.DELAY_NS); // every cell a second later
            Cli.Result bar = Cli.run(args);
            assertThat(bar.code()).isZero();
            assertThat(bar.out()).isEqualTo(plain.out());
            assertThat(bar.err())
                    .contains("\rdmalab: [###############               ] 2/4 cells")
                    .contains("\rdmalab: [##############################] 4/4 cells")
                    .endsWith("\r")
                    .doesNotContain("\n");
            now.set(0);
            MatrixCommand.clockNs = now::get; // the clock stands still: a short run draws nothing
            assertThat(Cli.run(args).err()).isEmpty();
            MatrixCommand.clockNs = () -> now.getAndAdd(ProgressBar.DELAY_NS);
            Cli.Result quiet = Cli.run(concat(args, "--quiet"));
            assertThat(quiet.err()).isEmpty();
            assertThat(quiet.out()).isEqualTo(plain.out());
        } finally {
            MatrixCommand.terminal = terminal;
            MatrixCommand.clockNs = clock;
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    static Stream<ReadmeTest.Example> docExamples() throws IOException {
        List<ReadmeTest.Example> out = ReadmeTest.examples(Path.of("..", "docs", "MATRIX.md"));
        assertThat(out).as("docs/MATRIX.md examples").hasSizeGreaterThanOrEqualTo(4);
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("docExamples")
    void theMatrixDocumentShowsWhatThisVersionPrints(ReadmeTest.Example ex, @TempDir Path tmp) {
        ReadmeTest.check(ex, tmp);
    }

    @Test
    void helpStatesTheOutcomesAndExitStatus() {
        String help = Cli.run("matrix", "--help").out().replaceAll("\\s+", " ");
        assertThat(help)
                .startsWith("Usage: dmalab matrix [")
                .contains("--platforms=PLATFORM[,PLATFORM...]")
                .contains("--kernels=VERSION[,VERSION...]")
                .contains("pool exhausted")
                .contains("Exit status: 0 every cell ok or unsupported, 1 some cell had findings, failed, crashed or"
                        + " ran out of swiotlb, 2 bad usage or input.");
    }
}
