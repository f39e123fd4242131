package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Platforms;
import dev.dmalab.trace.FtraceParser;
import dev.dmalab.trace.TraceRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class MainTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** An error: exit 2, nothing on stdout, exactly one line on stderr starting with "dmalab:", no stack trace. */
    static Cli.Result assertUsageError(String... args) {
        Cli.Result r = Cli.run(args);
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_USAGE);
        assertOneLineError(r);
        return r;
    }

    static void assertOneLineError(Cli.Result r) {
        assertThat(r.err()).as(r.toString()).startsWith("dmalab: ").endsWith("\n");
        assertThat(r.err().lines().count()).as(r.toString()).isEqualTo(1);
        assertThat(r.err())
                .doesNotContain("at dev.")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
        assertThat(r.out()).as(r.toString()).isEmpty();
    }

    /** Parses stdout as exactly one JSON value (nothing before or after it). */
    static JsonNode singleJson(String text) throws IOException {
        try (JsonParser p = JSON.getFactory().createParser(text)) {
            JsonNode node = JSON.readTree(p);
            assertThat(p.nextToken()).as("anything after the JSON value").isNull();
            return node;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Exit codes

    @Test
    void okRunExitsZero() {
        Cli.Result r = Cli.run("run", "streaming-roundtrip", "-p", "x86-q35");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .startsWith("streaming-roundtrip on x86-q35, Linux 6.12 model, seed 1: OK\n")
                .contains("COUNTER")
                .contains("dma_map_calls");
    }

    @Test
    void failedRunExitsOne() {
        Cli.Result r = Cli.run("run", "streaming-roundtrip-nosync", "--platform", "arm64-noncoherent");
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_FAILED);
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .startsWith("streaming-roundtrip-nosync on arm64-noncoherent, Linux 6.12 model, seed 1: FAILED\n")
                .contains("  - fa000000.sata: the CPU read ")
                .contains("stale_bytes");
    }

    @Test
    void oopsExitsOne() {
        Cli.Result r = Cli.run("run", "bug-dma-none", "-p", "arm64-virt", "-k", "5.0");
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_FAILED);
        assertThat(r.out()).contains(": OOPS\n").contains("kernel BUG at ").contains("Call trace:");
    }

    @Test
    void swiotlbForceOnTheCommandLine() {
        Cli.Result r = Cli.run("run", "streaming-roundtrip-nosync", "-p", "x86-q35", "--cmdline", "swiotlb=force");
        assertThat(r.code()).isEqualTo(Main.EXIT_FAILED);
        assertThat(r.out())
                .startsWith("streaming-roundtrip-nosync on x86-q35, Linux 6.12 model [swiotlb=force], seed 1:");
    }

    @Test
    void dmesgIsPrintedOnRequest() {
        Cli.Result r = Cli.run("run", "streaming-roundtrip", "-p", "arm64-virt", "--dmesg");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains("[    0.000000] software IO TLB: mapped [mem 0x00000000b9600000-0x00000000b9800000] (2MB)");
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> usageErrors() {
        return Stream.<Object>of(
                        new String[] {"run", "streaming-roundtrip", "-p", "nope"},
                        new String[] {"run", "nope", "-p", "x86-q35"},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "-k", "9.9"},
                        new String[] {"run", "streaming-roundtrip"},
                        new String[] {"run"},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "--seed", "abc"},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "--bogus"},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "extra-arg"},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "--cmdline", "swiotlb="},
                        new String[] {"run", "streaming-roundtrip", "-p", "x86-q35", "--trace", "/no/such/dir/t.trace"},
                        new String[] {"bogus"},
                        new String[] {"--bogus"},
                        new String[] {"platforms", "show"},
                        new String[] {"platforms", "show", "nope"},
                        new String[] {"platforms", "--bogus"},
                        new String[] {"kernels", "show", "9"},
                        new String[] {"kernels", "show"},
                        new String[] {"workloads", "extra"},
                        new String[] {"demo", "--bogus"},
                        new String[] {"help", "nope"})
                .map(a -> org.junit.jupiter.params.provider.Arguments.of(a));
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void usageErrorsAreOneLineAndExitTwo(String[] args) {
        assertUsageError(args);
    }

    @Test
    void usageErrorsSayWhatIsWrong() {
        assertThat(assertUsageError("run", "streaming-roundtrip", "-p", "nope").err())
                .isEqualTo(
                        "dmalab: unknown platform 'nope' (built-in: x86-q35, x86-q35-vtd, x86-q35-vtd-lazy, x86-q35-vtd-pt, arm64-virt, arm64-smmuv3, arm64-noncoherent, rpi4,"
                                + " juno-r2, juno-r2-xen-dom0, arm32-xen-dom0, x86-xen-pv-dom0, arm64-virt-xen-dom0, or a path"
                                + " to a profile .yaml)\n");
        assertThat(assertUsageError("run", "streaming-roundtrip").err())
                .isEqualTo("dmalab: Missing required option: '--platform=PLATFORM' (try 'dmalab run --help')\n");
        assertThat(assertUsageError("run", "streaming-roundtrip", "-p", "x86-q35", "-k", "9.9")
                        .err())
                .contains("unknown kernel '9.9'");
        // a bad --cmdline value is not blamed on the platform's profile file
        assertThat(assertUsageError("run", "streaming-roundtrip", "-p", "x86-q35", "--cmdline", "swiotlb=")
                        .err())
                .isEqualTo("dmalab: kernel command line: swiotlb= needs a value\n");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Help

    static List<String[]> everyCommand() {
        List<String[]> out = new ArrayList<>();
        collect(Main.commandLine(), new ArrayList<>(), out);
        return out;
    }

    private static void collect(CommandLine cl, List<String> path, List<String[]> out) {
        out.add(path.toArray(new String[0]));
        for (var e : cl.getSubcommands().entrySet()) {
            List<String> p = new ArrayList<>(path);
            p.add(e.getKey());
            collect(e.getValue(), p, out);
        }
    }

    @Test
    void everySubcommandHasHelp() {
        List<String[]> commands = everyCommand();
        assertThat(commands.stream().map(c -> String.join(" ", c)))
                .contains(
                        "",
                        "demo",
                        "platforms",
                        "platforms show",
                        "kernels",
                        "kernels show",
                        "workloads",
                        "run",
                        "help");
        for (String[] c : commands) {
            String[] args = Stream.concat(Stream.of(c), Stream.of("--help")).toArray(String[]::new);
            Cli.Result r = Cli.run(args);
            String name = ("dmalab " + String.join(" ", c)).trim();
            assertThat(r.code()).as(name + "\n" + r).isZero();
            assertThat(r.err()).as(name).isEmpty();
            assertThat(r.out()).as(name).contains("Usage: " + name + " [");
            assertThat(r.out()).as(name).contains("-h, --help");
        }
    }

    @Test
    void noArgumentsPrintsUsageAndVersionWorks() {
        Cli.Result r = Cli.run();
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: dmalab").contains("run").contains("demo");
        Cli.Result v = Cli.run("--version");
        assertThat(v.code()).isZero();
        assertThat(v.out()).startsWith("dmalab ");
        Cli.Result h = Cli.run("help", "run");
        assertThat(h.code()).isZero();
        assertThat(h.out()).startsWith("Usage: dmalab run");
    }

    @Test
    void runHelpDocumentsTheExitStatus() {
        assertThat(Cli.run("run", "--help").out().replaceAll("\\s+", " "))
                .contains("Exit status: 0 ok (or the workload does not apply to the platform), 1 the workload failed,"
                        + " the kernel crashed or the DMA checker found something, 2 bad usage or input.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // --json

    @ParameterizedTest
    @ValueSource(
            strings = {
                "streaming-roundtrip x86-q35 ok 0",
                "streaming-roundtrip-nosync rpi4 failed 1",
                "bug-dma-none x86-q35 oops 1",
            })
    void runJsonIsOneObjectWithTheResult(String spec) throws IOException {
        String[] s = spec.split(" ");
        Cli.Result r = Cli.run("run", s[0], "--platform", s[1], "--json", "--seed", "7");
        assertThat(r.code()).as(r.toString()).isEqualTo(Integer.parseInt(s[3]));
        assertThat(r.err()).isEmpty();
        JsonNode j = singleJson(r.out());
        assertThat(j.isObject()).isTrue();
        assertThat(j.get("workload").asText()).isEqualTo(s[0]);
        assertThat(j.get("platform").asText()).isEqualTo(s[1]);
        assertThat(j.get("kernel").asText()).isEqualTo("6.12");
        assertThat(j.get("seed").asLong()).isEqualTo(7);
        assertThat(j.get("outcome").asText()).isEqualTo(s[2]).isIn("ok", "oops", "failed");
        assertThat(j.get("failures").isArray()).isTrue();
        assertThat(j.has("oops")).isTrue();
        assertThat(j.get("counters").isObject()).isTrue();
        j.get("counters").fields().forEachRemaining(e -> assertThat(e.getValue().isIntegralNumber())
                .as(e.getKey())
                .isTrue());
        assertThat(j.get("counters").has("dma_map_calls")).isTrue();
        switch (s[2]) {
            case "ok" -> {
                assertThat(j.get("failures")).isEmpty();
                assertThat(j.get("oops").isNull()).isTrue();
            }
            case "failed" -> {
                assertThat(j.get("failures")).isNotEmpty();
                assertThat(j.get("oops").isNull()).isTrue();
                assertThat(j.get("counters").get("stale_bytes").asLong()).isPositive();
            }
            default -> {
                JsonNode oops = j.get("oops");
                assertThat(oops.get("kind").asText()).isEqualTo("bug");
                assertThat(oops.get("summary").asText()).startsWith("kernel BUG at ");
                assertThat(oops.get("pc").asText()).isEqualTo("dma_map_page_attrs");
                assertThat(oops.get("call_trace").isArray()).isTrue();
                assertThat(oops.get("report").asText()).contains("RIP: 0010:dma_map_page_attrs");
            }
        }
    }

    @Test
    void runJsonWithDmesgCarriesTheKernelLogAsAField() throws IOException {
        JsonNode j = singleJson(Cli.run("run", "streaming-roundtrip", "-p", "arm64-virt", "--json", "--dmesg")
                .out());
        assertThat(j.get("dmesg").asText())
                .contains("software IO TLB: mapped [mem 0x00000000b9600000-0x00000000b9800000] (2MB)");
        assertThat(singleJson(Cli.run("run", "streaming-roundtrip", "-p", "arm64-virt", "--json")
                                .out())
                        .has("dmesg"))
                .isFalse();
    }

    @Test
    void runJsonIsTheSameForTheSameSeed() {
        String a = Cli.run("run", "streaming-roundtrip-nosync", "-p", "rpi4", "--json")
                .out();
        String b = Cli.run("run", "streaming-roundtrip-nosync", "-p", "rpi4", "--json")
                .out();
        assertThat(a).isEqualTo(b);
    }

    // ---------------------------------------------------------------------------------------------------------
    // --trace

    private static List<TraceRecord> parseTrace(Path p) throws IOException {
        List<TraceRecord> out = new ArrayList<>();
        try (FtraceParser parser = FtraceParser.open(p, true)) {
            for (TraceRecord r = parser.next(); r != null; r = parser.next()) {
                out.add(r);
            }
        }
        return out;
    }

    private static List<String> listDir(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void traceIsWrittenInFtraceFormat(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("rt.trace");
        Cli.Result r = Cli.run(
                "run", "streaming-roundtrip", "-p", "x86-q35", "--cmdline", "swiotlb=force", "--trace", t.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(listDir(dir)).containsExactly("rt.trace");
        String text = Files.readString(t, StandardCharsets.UTF_8);
        assertThat(text).startsWith("# tracer: nop\n");
        List<TraceRecord> records = parseTrace(t);
        assertThat(records).isNotEmpty();
        assertThat(records.stream().map(TraceRecord::eventName))
                .contains("swiotlb_bounced", "dma_map_page", "dma_unmap_page", "dma_alloc", "dma_free");
    }

    @Test
    void aFailedWorkloadStillWritesItsTrace(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("nosync.trace");
        Cli.Result r = Cli.run("run", "streaming-roundtrip-nosync", "-p", "arm64-noncoherent", "--trace", t.toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_FAILED);
        assertThat(parseTrace(t)).isNotEmpty();
        assertThat(listDir(dir)).containsExactly("nosync.trace");
    }

    @Test
    void anExistingTraceIsReplacedOnSuccess(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("t.trace");
        Files.writeString(t, "old content\n");
        assertThat(Cli.run("run", "streaming-roundtrip", "-p", "arm64-virt", "--trace", t.toString())
                        .code())
                .isZero();
        assertThat(Files.readString(t)).startsWith("# tracer: nop");
        assertThat(listDir(dir)).containsExactly("t.trace");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "-p nope", // unknown platform: fails before anything is written
                "-p x86-q35 -k 9.9", // unknown kernel
                "-p x86-q35 --cmdline swiotlb=", // fails at boot, after the path was checked
                "-p BADPROFILE", // a profile with an error
            })
    void aRunThatFailsLeavesAnExistingTraceIntact(String opts, @TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(
                bad,
                "name: b\narch: x86_64\nmemory:\n  ram: [{start: 0x0, size: 1G}]\ndevices: [{name: d, dma_mask: 65}]\n");
        Path t = dir.resolve("keep.trace");
        Files.writeString(t, "precious\n");
        List<String> args = new ArrayList<>(List.of("run", "streaming-roundtrip", "--trace", t.toString()));
        for (String o : opts.split(" ")) {
            args.add(o.equals("BADPROFILE") ? bad.toString() : o);
        }
        Cli.Result r = Cli.run(args.toArray(new String[0]));
        assertThat(r.code()).as(r.toString()).isEqualTo(Main.EXIT_USAGE);
        assertOneLineError(r);
        assertThat(Files.readString(t)).isEqualTo("precious\n");
        assertThat(listDir(dir)).containsExactly("bad.yaml", "keep.trace");
    }

    @Test
    void aTracePathThatIsADirectoryIsAUsageError(@TempDir Path dir) {
        Cli.Result r = assertUsageError("run", "streaming-roundtrip", "-p", "x86-q35", "--trace", dir.toString());
        assertThat(r.err()).contains("is a directory");
    }

    // ---------------------------------------------------------------------------------------------------------
    // platforms, kernels, workloads, demo

    @Test
    void platformsListsTheBuiltIns() throws IOException {
        Cli.Result r = Cli.run("platforms");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("NAME ");
        for (String p : Platforms.BUILT_IN) {
            assertThat(r.out()).contains(p);
        }
        JsonNode j = singleJson(Cli.run("platforms", "--json").out());
        assertThat(j.isArray()).isTrue();
        assertThat(j).hasSize(Platforms.BUILT_IN.size());
        assertThat(j.get(0).get("name").asText()).isEqualTo("x86-q35");
        assertThat(j.get(0).get("xen").asText()).isEqualTo("-");
        assertThat(j.get(0).get("iommu").asText()).isEqualTo("-");
        assertThat(j.get(1).get("name").asText()).isEqualTo("x86-q35-vtd");
        assertThat(j.get(1).get("iommu").asText()).isEqualTo("vt-d strict");
        assertThat(j.get(2).get("iommu").asText()).isEqualTo("vt-d lazy");
        assertThat(j.get(3).get("iommu").asText()).isEqualTo("vt-d passthrough");
        assertThat(j.get(5).get("name").asText()).isEqualTo("arm64-smmuv3");
        assertThat(j.get(5).get("iommu").asText()).isEqualTo("smmuv3 strict");
        assertThat(j.get(9).get("name").asText()).isEqualTo("juno-r2-xen-dom0");
        assertThat(j.get(9).get("xen").asText()).isEqualTo("dom0 1:1 4.11");
        assertThat(j.get(0).get("devices")).hasSize(6);
    }

    @Test
    void platformsShowPrintsTheProfile(@TempDir Path dir) throws IOException {
        Cli.Result r = Cli.run("platforms", "show", "rpi4");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(Platforms.text("rpi4"));
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "name: g\narch: arm64\nmemory:\n  ram: [{start: 0x40000000, size: 1G}]\n");
        Cli.Result g = Cli.run("platforms", "show", good.toString());
        assertThat(g.code()).isZero();
        assertThat(g.out()).isEqualTo(Files.readString(good));
    }

    @Test
    void platformsShowOfABadProfileNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(
                bad,
                "name: b\narch: x86_64\nmemory:\n  ram:\n    - {start: 0x0, size: 1G}\ndevices:\n"
                        + "  - name: d\n    dma_mask: 0x1234\n");
        Cli.Result r = assertUsageError("platforms", "show", bad.toString());
        assertThat(r.err())
                .isEqualTo("dmalab: " + bad + ":8: devices[0].dma_mask: a DMA mask must be all ones from bit 0 (like"
                        + " 0xffffffff), got 0x1234\n");
        Cli.Result run = assertUsageError("run", "streaming-roundtrip", "-p", bad.toString());
        assertThat(run.err()).isEqualTo(r.err());
    }

    @Test
    void platformsShowOfAMissingProfileFile(@TempDir Path dir) {
        Path missing = dir.resolve("missing.yaml");
        Cli.Result r = assertUsageError("platforms", "show", missing.toString());
        assertThat(r.err()).isEqualTo("dmalab: " + missing + ": no such profile file\n");
        assertThat(assertUsageError("run", "streaming-roundtrip", "-p", missing.toString())
                        .err())
                .isEqualTo(r.err());
    }

    @Test
    void kernelsAndFeatures() throws IOException {
        Cli.Result list = Cli.run("kernels");
        assertThat(list.code()).isZero();
        for (KernelVersion v : KernelVersion.builtIn()) {
            assertThat(list.out()).contains(v.name()).contains(v.description());
        }
        Cli.Result f = Cli.run("kernels", "--features");
        assertThat(f.code()).isZero();
        List<String> lines = f.out().lines().toList();
        assertThat(lines.get(0))
                .startsWith("FEATURE")
                .contains("4.20", "5.0-rc2", "5.4", "6.12")
                .endsWith("SINCE");
        assertThat(lines).hasSize(1 + Feature.values().length);
        for (Feature feature : Feature.values()) {
            assertThat(f.out()).contains(feature.displayName());
        }
        JsonNode j = singleJson(Cli.run("kernels", "--json").out());
        assertThat(j).hasSize(KernelVersion.builtIn().size());
        assertThat(j.get(4).get("version").asText()).isEqualTo("6.12");
        Cli.Result show = Cli.run("kernels", "show", "5.0-rc2");
        assertThat(show.code()).isZero();
        assertThat(show.out()).startsWith("Linux 5.0-rc2: ");
    }

    @Test
    void workloadsListsTheBuiltIns() {
        Cli.Result r = Cli.run("workloads");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .contains("streaming-roundtrip ")
                .contains("streaming-roundtrip-nosync")
                .contains("bug-dma-none");
    }

    /** The call trace of the seed's Oops, from the vendored thread (frames printed as {@code name+0x64/0x1e8}). */
    static final List<String> SEED_TRACE = seedTrace();

    static List<String> seedTrace() {
        try {
            String thread = Files.readString(Path.of("..", "testdata", "seed", "xen-arm64-dom0-thread.txt"));
            String trace = thread.substring(thread.indexOf("Call trace:"), thread.indexOf("Code: "));
            List<String> frames = new ArrayList<>();
            Matcher m =
                    Pattern.compile("\\s([a-z_0-9]+)(?:\\.part\\.\\d+)?\\+0x").matcher(trace);
            while (m.find()) {
                frames.add(m.group(1));
            }
            return frames;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theDefaultDemoIsTheSeedRegression() {
        Cli.Result r = Cli.run("demo");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .startsWith("dmalab demo: \"Fail to boot Dom0 on Xen Arm64")
                .contains("4.20     ok (24576 bytes checked)           ok (24576 bytes checked)")
                .contains("5.0-rc2  oops (xen_swiotlb_alloc_coherent)  ok (24576 bytes checked)")
                .contains("6.12     ok (24576 bytes checked)           ok (24576 bytes checked)")
                .contains("arm32-xen-dom0: arm_dma_ops (archdata.dev_dma_ops)")
                .contains("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000")
                .contains("  Exception class = DABT (current EL), IL = 32 bits")
                .contains("pc : xen_swiotlb_alloc_coherent\nlr : dma_alloc_attrs\nCall trace:\n "
                        + String.join("\n ", SEED_TRACE) + "\n---[ end trace")
                .contains("Next: ./dmalab explain 5.0-rc2 juno-r2-xen-dom0");
        assertThat(Cli.run("demo", "seed").out()).isEqualTo(r.out());
    }

    @Test
    void theMissingSyncDemo() {
        Cli.Result r = Cli.run("demo", "missing-sync");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .startsWith("dmalab demo: ")
                .contains("WORKLOAD")
                .contains("streaming-roundtrip-nosync  arm64-noncoherent  6.12    -              failed")
                .contains("streaming-roundtrip-nosync  x86-q35            6.12    -              ok")
                .contains("swiotlb=force  failed")
                .contains("Next: ./dmalab run");
        assertThat(Cli.run("demo", "missing-sync").out()).isEqualTo(r.out());
    }

    @Test
    void anUnknownDemoIsAUsageError() {
        Cli.Result r = Cli.run("demo", "nope");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("dmalab: unknown demo 'nope' (demos: seed, missing-sync)\n");
    }

    // xen-dom0-boot, explain

    @Test
    void theSeedRegressionOopsesWithTheSeedsCallTraceAndJsonCarriesIt() throws Exception {
        Cli.Result r = Cli.run("run", "xen-dom0-boot", "--platform", "juno-r2-xen-dom0", "--kernel", "5.0-rc2");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.out())
                .contains("xen-dom0-boot on juno-r2-xen-dom0, Linux 5.0-rc2 model, seed 1: OOPS")
                .contains("\nUnable to handle kernel NULL pointer dereference at virtual address 0000000000000000\n")
                .contains("pc : xen_swiotlb_alloc_coherent\nlr : dma_alloc_attrs\nCall trace:\n "
                        + String.join("\n ", SEED_TRACE) + "\n");
        Cli.Result j =
                Cli.run("run", "xen-dom0-boot", "--platform", "juno-r2-xen-dom0", "--kernel", "5.0-rc2", "--json");
        assertThat(j.code()).isEqualTo(1);
        JsonNode n = new ObjectMapper().readTree(j.out());
        assertThat(n.get("outcome").asText()).isEqualTo("oops");
        assertThat(n.get("oops").get("pc").asText()).isEqualTo("xen_swiotlb_alloc_coherent");
        List<String> trace = new ArrayList<>();
        n.get("oops").get("call_trace").forEach(f -> trace.add(f.asText()));
        assertThat(trace).isEqualTo(SEED_TRACE);
        assertThat(n.get("oops").get("report").asText())
                .startsWith("Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000\n")
                .isSubstringOf(r.out());
        assertThat(n.get("xen").get("dom0").asText()).isEqualTo("direct-mapped");
        assertThat(n.get("xen").get("devices").get(0).get("native_ops").asText())
                .startsWith("NULL");
    }

    @Test
    void everyOtherKernelBootsTheSeedMachine() {
        for (String k : List.of("4.20", "5.0", "5.4", "6.12")) {
            Cli.Result r = Cli.run("run", "xen-dom0-boot", "-p", "juno-r2-xen-dom0", "-k", k);
            assertThat(r.code()).as(k + ": " + r).isZero();
            assertThat(r.out()).contains(": OK").doesNotContain("Unable to handle");
        }
    }

    @Test
    void explainAnswersTheThreadsQuestion() {
        Cli.Result rc2 = Cli.run("explain", "5.0-rc2", "juno-r2-xen-dom0");
        assertThat(rc2.code()).as(rc2.toString()).isEqualTo(1);
        assertThat(rc2.out())
                .startsWith("xen-dom0-boot on juno-r2-xen-dom0, Linux 5.0-rc2 model: oops\n")
                .contains("0000:03:00.0  sata_sil24  xen_swiotlb_dma_ops  NULL (archdata.dev_dma_ops is NULL")
                .contains("1  dma_alloc_attrs  0000:03:00.0  xen_swiotlb_dma_ops\n")
                .contains("The last call ended in an Oops")
                .contains("Does it mean we expect dev->dma_ops to always be NULL?");
        Cli.Result fixed = Cli.run("explain", "5.0", "juno-r2-xen-dom0");
        assertThat(fixed.code()).as(fixed.toString()).isZero();
        assertThat(fixed.out())
                .contains("xen_dma_map_page: local page, dma_direct_map_page")
                .contains("xen_dma_map_page: foreign page, __xen_dma_map_page")
                .contains("dma_map_sg_attrs")
                .contains("yes, the device's own dma_ops is expected to be NULL");
        Cli.Result rework = Cli.run("explain", "6.12", "juno-r2-xen-dom0");
        assertThat(rework.code()).as(rework.toString()).isZero();
        assertThat(rework.out()).contains("Since 5.4 swiotlb-xen does the cache maintenance itself");
        Cli.Result arm32 = Cli.run("explain", "5.0-rc2", "arm32-xen-dom0");
        assertThat(arm32.code()).as(arm32.toString()).isZero();
        assertThat(arm32.out()).contains("arm_dma_ops").contains("GNTTABOP_cache_flush");
    }

    @Test
    void explainOnANativePlatformShowsDmaDirectAndBounces() {
        Cli.Result r = Cli.run("explain", "6.12", "x86-q35", "--cmdline", "swiotlb=force");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out())
                .startsWith("streaming-roundtrip on x86-q35, Linux 6.12 model: ok\n")
                .containsPattern("\\n1 +dma_map_page_attrs +0000:00:02\\.0 +dma-direct\\n")
                .contains("      swiotlb: 3000 bytes at phys 0x")
                .doesNotContain("Does it mean");
    }

    @Test
    void explainShowsAnXenMemExchangeOnThePvDom0() {
        Cli.Result r = Cli.run("explain", "5.0", "x86-xen-pv-dom0", "-w", "streaming-roundtrip");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out())
                .contains("0000:00:05.0  e1000       xen_swiotlb_dma_ops  x86 (__get_free_pages, no cache maintenance)")
                .containsPattern("XENMEM_exchange: 1 frame\\(s\\) at phys 0x[0-9a-f]+ for machine 0x[0-9a-f]+"
                        + " \\(contiguous, below 2\\^32\\)")
                .contains("bounces: the device cannot reach it");
    }

    @Test
    void explainRejectsBadInput() {
        Cli.Result k = Cli.run("explain", "5.7", "x86-q35");
        assertThat(k.code()).isEqualTo(2);
        assertThat(k.err()).startsWith("dmalab: unknown kernel '5.7'");
        Cli.Result w = Cli.run("explain", "6.12", "x86-q35", "-w", "nope");
        assertThat(w.code()).isEqualTo(2);
        assertThat(w.err()).startsWith("dmalab: unknown workload 'nope'");
        Cli.Result p = Cli.run("explain", "6.12");
        assertThat(p.code()).isEqualTo(2);
        assertThat(p.out()).isEmpty();
    }

    /** The in-process runner and the table/units helpers print what a user reads. */
    @Test
    void unitsAndTables() {
        assertThat(Units.bytes(0)).isEqualTo("0 B");
        assertThat(Units.bytes(1024)).isEqualTo("1 KiB");
        assertThat(Units.bytes(36045)).isEqualTo("35.2 KiB");
        assertThat(Units.bytes(64L << 20)).isEqualTo("64 MiB");
        assertThat(new Table("A", "BB").row("xxx", 1).toString()).isEqualTo("A    BB\nxxx  1\n");
    }
}
