package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** The DMA checker through {@code dmalab run} and {@code dmalab replay}: text, JSON, switches, exit codes. */
class CheckCliTest {
    @Test
    void runReportsAFindingWithItsExplanationFixAndPlatforms() {
        Cli.Result r = Cli.run("run", "check-cpu-read-device-owned", "--platform", "arm64-noncoherent");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out())
                .contains("check-cpu-read-device-owned on arm64-noncoherent, Linux 6.12 model, seed 1: FAILED")
                .contains("DMA checker: 1 finding")
                .contains("! error cpu-read-device-owned on fa000000.sata (ahci)")
                .contains("at:   cpu read in dmalab_check_probe")
                .contains("fix:  call dma_sync_single_for_cpu() (or unmap) before the CPU reads the buffer")
                .containsPattern("bites on: .*arm64-noncoherent, rpi4");
    }

    @Test
    void fixedTwinIsCleanAndNoCheckTurnsTheCheckerOff() {
        assertThat(Cli.run("run", "check-cpu-read-device-owned-fixed", "--platform", "arm64-noncoherent")
                        .code())
                .isZero();
        Cli.Result off = Cli.run("run", "check-cpu-read-device-owned", "--platform", "arm64-noncoherent", "--no-check");
        assertThat(off.code()).isZero();
        assertThat(off.out()).doesNotContain("DMA checker");
    }

    @Test
    void jsonCarriesTheFindingRecord() throws Exception {
        Cli.Result r = Cli.run("run", "check-unmap-wrong-size", "--platform", "x86-q35", "--json");
        assertThat(r.code()).isEqualTo(1);
        JsonNode o = Json.MAPPER.readTree(r.out());
        JsonNode f = o.get("checks").get(0);
        assertThat(o.get("checks")).hasSize(1);
        assertThat(f.get("category").asText()).isEqualTo("unmap-wrong-size");
        assertThat(f.get("dma_debug").asBoolean()).isTrue();
        assertThat(f.get("call").asText()).isEqualTo("dma_unmap_page");
        assertThat(f.get("message").asText())
                .matches("device driver frees DMA memory with different size \\[device address=0x[0-9a-f]{16}\\]"
                        + " \\[map size=2048 bytes\\] \\[unmap size=1500 bytes\\]");
        assertThat(f.get("call_chain").get(0).asText()).isEqualTo("dma_unmap_page_attrs");
        assertThat(f.get("bites_on").toString()).contains("x86-q35-vtd").doesNotContain("\"arm64-virt\"");
        assertThat(o.get("findings").get(0).asText()).endsWith("[unmap-wrong-size]");
    }

    @Test
    void driverFilterCountsButDoesNotReportOtherDrivers() {
        Cli.Result filtered =
                Cli.run("run", "check-double-unmap", "--platform", "x86-q35", "--driver-filter", "no-such-driver");
        assertThat(filtered.code()).isZero();
        assertThat(filtered.out()).contains("1 more dma-debug error counted, not reported");
    }

    @Test
    void replayCheckOfARealCaptureIsClean() {
        Cli.Result r =
                Cli.run("replay", "../testdata/captures/x86-q35/direct-2g/trace.txt.xz", "-p", "x86-q35", "--check");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("DMA checker: no findings \\(\\d+ mappings and allocations tracked\\)");
    }
}
