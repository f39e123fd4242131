package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the shaded jar ({@code java -jar target/dmalab.jar ...}) in a child JVM, as a user would (failsafe). */
class DmalabJarIT {
    private static Path jar;

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    @BeforeAll
    static void findJar() {
        jar = Path.of(System.getProperty("dmalab.jar", "target/dmalab.jar")).toAbsolutePath();
        assertThat(jar).as("run 'mvn package' first").isRegularFile();
    }

    Result dmalab(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(List.of(args));
        ChildProcess.Result r = ChildProcess.run(cmd, tmp, 120);
        return new Result(r.code(), r.out(), r.err());
    }

    @Test
    void demoExitsZero() throws Exception {
        Result r = dmalab("demo");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .startsWith("dmalab demo: ")
                .contains("5.0-rc2  oops (xen_swiotlb_alloc_coherent)")
                .contains(" sil24_pci_driver_init\n do_one_initcall\n");
        Result m = dmalab("demo", "missing-sync");
        assertThat(m.code()).as(m.toString()).isZero();
        assertThat(m.out()).contains("streaming-roundtrip-nosync  arm64-noncoherent  6.12    -              failed");
    }

    @Test
    void noArgumentsPrintUsage() throws Exception {
        Result r = dmalab();
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: dmalab");
        Result v = dmalab("--version");
        assertThat(v.code()).isZero();
        assertThat(v.out()).startsWith("dmalab ");
    }

    @Test
    void okRunExitsZeroAndWritesItsTrace() throws Exception {
        Path trace = tmp.resolve("ok.trace");
        Result r = dmalab("run", "streaming-roundtrip", "--platform", "arm64-noncoherent", "--trace", trace.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("streaming-roundtrip on arm64-noncoherent, Linux 6.12 model, seed 1: OK");
        assertThat(Files.readString(trace))
                .startsWith("# tracer: nop\n")
                .contains(": dma_map_page: fa000000.sata dir=");
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("ok.trace");
        }
    }

    @Test
    void failedRunExitsOne() throws Exception {
        Result r = dmalab("run", "streaming-roundtrip-nosync", "-p", "x86-q35", "--cmdline", "swiotlb=force", "--json");
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("outcome").asText()).isEqualTo("failed");
        assertThat(j.get("cmdline").asText()).isEqualTo("swiotlb=force");
        assertThat(j.get("counters").get("stale_bytes").asLong()).isPositive();
        Result oops = dmalab("run", "bug-dma-none", "-p", "rpi4");
        assertThat(oops.code()).isEqualTo(1);
        assertThat(oops.out()).contains("kernel BUG at ");
    }

    @Test
    void badPlatformExitsTwoWithOneLine() throws Exception {
        Path keep = tmp.resolve("keep.trace");
        Files.writeString(keep, "precious\n");
        Result r = dmalab("run", "streaming-roundtrip", "-p", "no-such-platform", "--trace", keep.toString());
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err())
                .isEqualTo("dmalab: unknown platform 'no-such-platform' (built-in: "
                        + String.join(", ", dev.dmalab.platform.Platforms.BUILT_IN)
                        + ", or a path to a profile .yaml)\n");
        assertThat(Files.readString(keep)).isEqualTo("precious\n");
    }

    @Test
    void badProfileAndBadUsageExitTwo() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "name: b\narch: x86_64\nkernel: 9.9\nmemory:\n  ram: [{start: 0x0, size: 1G}]\n");
        Result r = dmalab("platforms", "show", bad.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err())
                .startsWith("dmalab: " + bad + ":3: kernel: unknown kernel '9.9'")
                .doesNotContain("at dev.");
        assertThat(r.err().lines().count()).isEqualTo(1);
        Result u = dmalab("run", "--bogus");
        assertThat(u.code()).isEqualTo(2);
        assertThat(u.err().lines().count()).isEqualTo(1);
        assertThat(u.err()).startsWith("dmalab: ");
    }
}
