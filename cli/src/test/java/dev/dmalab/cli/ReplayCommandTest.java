package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dmalab replay} end to end, on the vendored real captures and on small hand-written traces. */
class ReplayCommandTest {
    static final Path CAPTURES = Path.of("..", "testdata", "captures");

    static String[] args(String run, String platform, String... more) {
        Path d = CAPTURES.resolve(run);
        String[] base = {
            "replay",
            d.resolve("trace.txt.xz").toString(),
            "--platform",
            platform,
            "--cmdline",
            d.resolve("cmdline.txt").toString(),
            "--iomem",
            d.resolve("iomem.txt").toString(),
            "--dmesg",
            d.resolve("dmesg.txt").toString()
        };
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    static JsonNode json(Cli.Result r) throws IOException {
        return Json.MAPPER.readTree(r.out());
    }

    @Test
    void compareJsonOfTheArm64ForceCaptureHasTheIssuesFieldsAndFullFidelity() throws IOException {
        Cli.Result r = Cli.run(args("arm64-virt/arm64-native-swiotlb-force-32M", "arm64-virt", "--compare", "--json"));
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode j = json(r);
        for (String f :
                new String[] {"events", "streamingMappings", "exact", "fidelity", "fidelityOneStep", "inversions"}) {
            assertThat(j.has(f)).as(f).isTrue();
        }
        assertThat(j.get("streamingMappings").asLong()).isEqualTo(7056);
        assertThat(j.get("exact").asLong()).isEqualTo(7056);
        assertThat(j.get("fidelity").asDouble()).isEqualTo(1.0);
        assertThat(j.get("fidelityOneStep").asDouble()).isEqualTo(1.0);
        assertThat(j.get("swiotlb").get("peakSlots").asLong())
                .as("io_tlb_used_hiwater")
                .isEqualTo(544);
        // the e1000 and virtio-net RX rings stay mapped when the capture stops
        assertThat(j.get("liveAtEnd").get("0000:00:05.0").asLong()).isEqualTo(255);
        assertThat(j.get("parameters").toString())
                .contains("\"parameter\":\"swiotlb base\",\"value\":\"0xb7800000\",\"from\":\"")
                .contains("dmesg.txt:")
                .doesNotContain("pool-base rule");
    }

    @Test
    void theSameRunGivesTheSameBytes() {
        Cli.Result a = Cli.run(args("x86-q35/swiotlb-force", "x86-q35", "--compare"));
        Cli.Result b = Cli.run(args("x86-q35/swiotlb-force", "x86-q35", "--compare"));
        assertThat(a.code()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
        assertThat(a.out())
                .contains("open-loop 12,148 exact (100.00%), one-step 12,148 exact (100.00%)")
                .contains("trace line 32, first bounced mapping (pool-base rule)");
    }

    @Test
    void whatIfATinyForcedPoolFailsAndSaysWhereAndHowFull() throws IOException {
        Cli.Result r = Cli.run(args("x86-q35/direct-2g", "x86-q35", "--what-if", "swiotlb=128,force", "--json"));
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        JsonNode f = json(r).get("failures");
        assertThat(f.get("kernel").asLong()).isZero();
        assertThat(f.get("modelOnly").asLong()).isPositive();
        JsonNode first = f.get("first");
        assertThat(first.get("poolSlots").asLong()).isEqualTo(128);
        assertThat(first.get("line").asInt()).isPositive();
        assertThat(first.get("poolUsed").asLong() + 1).isGreaterThan(0);
    }

    @Test
    void sizingOracleFindsAPoolThatHoldsTheTraceAndNothingSmallerDoes() throws IOException {
        Cli.Result r = Cli.run(args("x86-q35/swiotlb-force", "x86-q35", "--size-pool", "--json"));
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode fit = json(r).get("smallestPool").get(0);
        assertThat(fit.get("areas").asInt()).isEqualTo(1);
        long slots = fit.get("slots").asLong();
        // peak 522 slots: a 1024-slot pool is the first candidate; it must hold the trace, and half of it must not
        assertThat(slots).isEqualTo(1024);
        Cli.Result half = Cli.run(args("x86-q35/direct-2g", "x86-q35", "--what-if", "swiotlb=512,force", "--json"));
        assertThat(half.code()).isEqualTo(1);
    }

    @Test
    void malformedLineIsSkippedAndCountedOrStopsWithStrict(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("t.txt");
        Files.writeString(
                t,
                "# tracer: nop\n"
                        + "          dd-1     [000] .....    1.000000: dma_map_page: 0000:00:02.0 dir=TO_DEVICE"
                        + " dma_addr=1000 size=4096 phys_addr=1000 attrs=\n"
                        + "          dd-1     [000] .....    1.000001: dma_map_page: 0000:00:02.0 dir=SIDEWAYS"
                        + " dma_addr=2000 size=4096 phys_addr=2000 attrs=\n"
                        + "          dd-1     [000] .....    1.000002: dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE"
                        + " dma_addr=1000 size=4096 attrs=\n");
        Cli.Result lax = Cli.run("replay", t.toString(), "--platform", "x86-q35", "--compare", "--json");
        assertThat(lax.code()).as(lax.toString()).isZero();
        assertThat(json(lax).get("malformedLines").asInt()).isEqualTo(1);
        assertThat(json(lax).get("exact").asInt()).isEqualTo(1);
        Cli.Result strict = Cli.run("replay", t.toString(), "--platform", "x86-q35", "--strict");
        assertThat(strict.code()).isEqualTo(2);
        assertThat(strict.out()).isEmpty();
        assertThat(strict.err().strip())
                .startsWith("dmalab: " + t + ":3: ")
                .contains("dir=SIDEWAYS")
                .doesNotContain("\n")
                .doesNotContain("Exception");
    }

    @Test
    void aTraceNamingMoreCpusThanTheMachineIsAnInputError(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("t.txt");
        Files.writeString(
                t,
                "          dd-1     [003] .....    1.000000: dma_map_page: 0000:00:02.0 dir=TO_DEVICE"
                        + " dma_addr=1000 size=4096 phys_addr=1000 attrs=\n");
        Cli.Result r = Cli.run("replay", t.toString(), "--platform", "x86-q35");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("dmalab: " + t + ":1: cpu: CPU 3 but the replayed machine has 1");
    }

    @Test
    void missingFilesAreUsageErrors(@TempDir Path dir) {
        Cli.Result r = Cli.run("replay", dir.resolve("none.txt").toString(), "--platform", "x86-q35");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no such file");
        Cli.Result r2 = Cli.run(args(
                "x86-q35/direct-2g", "x86-q35", "--devices", dir.resolve("nope").toString()));
        assertThat(r2.code()).isEqualTo(2);
        assertThat(r2.err()).contains("nope: no such file");
    }

    @Test
    void aDeviceTheProfileDoesNotKnowIsAddedWithTheMaskItsBounceLineShows(@TempDir Path dir) throws IOException {
        Path t = dir.resolve("t.txt");
        Files.writeString(
                t,
                "          dd-1     [000] .....    1.000000: swiotlb_bounced: dev_name: 0000:00:09.0"
                        + " dma_mask=ffffffff dev_addr=1000 size=512 FORCE\n"
                        + "          dd-1     [000] .....    1.000001: dma_map_page: 0000:00:09.0 dir=TO_DEVICE"
                        + " dma_addr=79800000 size=512 phys_addr=1000 attrs=\n");
        Cli.Result r = Cli.run(
                "replay", t.toString(), "--platform", "x86-q35", "--what-if", "swiotlb=force", "--compare", "--json");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode j = json(r);
        assertThat(j.get("inferredDevices").get("0000:00:09.0").asText())
                .isEqualTo("32-bit mask from its swiotlb_bounced line 1");
        assertThat(j.get("streamingMappings").asInt()).isEqualTo(1);
    }
}
